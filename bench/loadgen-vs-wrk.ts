/**
 * Does Meshwork's load generator agree with wrk? Same target, same connections, closed loop, runs
 * interleaved (wrk, meshwork, wrk, meshwork, …). Each round's adjacent pair gives a ratio (paired, so drift
 * of a shared machine cancels out); the median of the paired ratios must be within 10% of 1 for both
 * throughput and p50. Also prints the generator's own ceiling (raw in-process target).
 *
 *   wrk -t1 -cN ──▶ app (node:http, 100-byte body, own process) ◀── meshwork loadgen (1 worker thread, N connections)
 *
 * Like with like: one wrk thread against one generator thread, both closed loop (the generator's
 * open-loop mode follows wrk2, not wrk), and the same latency interval: wrk stamps just before the write
 * of a request and when its response is parsed complete (it writes the next request in its next epoll
 * round); the generator stamps before the write and, for all responses read in one poll phase, at the
 * phase's first stamp, then writes the next requests in the check phase (src/bench/loadgen/engine.ts).
 * The app is saturated at these connection counts, so p50 follows throughput (Little's law): on a
 * loaded machine the CPU the generator and wrk leave to the app moves both figures; the load average is
 * printed with the results.
 *
 * Run: node --import tsx bench/loadgen-vs-wrk.ts
 * Env: BENCH_DURATION (s, default 2), BENCH_ROUNDS (5), BENCH_CONNECTIONS (comma list, default 16,64),
 *      BENCH_TOLERANCE (0.10), BENCH_JSON (write results to this file).
 * Exit status 1 when a ratio is outside the tolerance.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { measureCeiling } from '../src/bench/ceiling.ts'
import { runLoad } from '../src/bench/loadgen/run.ts'
import { table } from '../src/bench/report.ts'
import { startProcess } from '../src/bench/scenarios/managed-process.ts'
import { findExecutable } from '../src/bench/scenarios/scenarios.ts'
import { median } from '../src/bench/stats.ts'
import { PortAllocator } from '../src/runtime/ports.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const LEVELS = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number)
const TOLERANCE = Number(process.env.BENCH_TOLERANCE ?? 0.1)
/**
 * Pin the target to CPU 1 and the load generators (wrk, and this process with its worker threads) to
 * CPU 0, so that neither generator's CPU use is taken from the target: on a 2-core machine, an
 * unpinned closed-loop run measures how much CPU each generator leaves to a saturated app rather than the
 * app's latency. BENCH_PIN=0 turns it off.
 */
const PIN = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && findExecutable('taskset') !== null

interface Sample { rps: number, p50: number }

/** wrk's "Requests/sec" and the 50% line of `--latency` (units us/ms/s), in ms. */
export function parseWrk (out: string): Sample {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const m = /^\s*50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out)
  const unit = m?.[2] === 'us' ? 0.001 : m?.[2] === 's' ? 1000 : 1
  const p50 = Number(m?.[1]) * unit
  if (!Number.isFinite(rps) || !Number.isFinite(p50)) throw new Error(`cannot parse wrk output:\n${out}`)
  return { rps, p50 }
}

function runWrk (url: string, connections: number, seconds: number): Sample {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url]
  const out = PIN ? execFileSync('taskset', ['-c', '0', 'wrk', ...args], { encoding: 'utf8' }) : execFileSync('wrk', args, { encoding: 'utf8' })
  return parseWrk(out)
}

async function runOurs (url: string, connections: number, seconds: number): Promise<Sample> {
  const r = await runLoad({ url, connections, threads: 1, rate: 0, durationMs: seconds * 1000, warmupMs: 500 })
  return { rps: r.actualQps, p50: r.latency.p50 }
}

async function main (): Promise<number> {
  if (findExecutable('wrk') === null) spawnSync('bash', ['scripts/install-system-deps.sh'], { stdio: 'inherit' })
  if (findExecutable('wrk') === null) { console.error('wrk is not installed and could not be installed'); return 1 }
  const port = await new PortAllocator().allocate()
  const appArgs = ['--import', import.meta.resolve('tsx'), new URL('../src/bench/app/main.ts', import.meta.url).pathname, 'http', String(port), '100']
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  const app = await startProcess({
    name: 'app',
    command: PIN ? 'taskset' : process.execPath,
    args: PIN ? ['-c', '1', process.execPath, ...appArgs] : appArgs,
    ready: { kind: 'tcp', host: '127.0.0.1', port }
  })
  const url = `http://127.0.0.1:${port}/`
  const rows: string[][] = []
  const report: Record<string, unknown>[] = []
  let ok = true
  const loadAtStart = loadavg()[0].toFixed(1)
  try {
    runWrk(url, 16, 1) // warm the target's JIT before anything is measured
    for (const c of LEVELS) {
      const wrk: Sample[] = []
      const ours: Sample[] = []
      for (let r = 0; r < ROUNDS; r++) {
        wrk.push(runWrk(url, c, DURATION))
        ours.push(await runOurs(url, c, DURATION))
      }
      const w = { rps: median(wrk.map(s => s.rps)), p50: median(wrk.map(s => s.p50)) }
      const o = { rps: median(ours.map(s => s.rps)), p50: median(ours.map(s => s.p50)) }
      const rpsRatio = median(ours.map((s, i) => s.rps / wrk[i].rps))
      const p50Ratio = median(ours.map((s, i) => s.p50 / wrk[i].p50))
      const pass = Math.abs(rpsRatio - 1) <= TOLERANCE && Math.abs(p50Ratio - 1) <= TOLERANCE
      ok &&= pass
      rows.push([String(c), Math.round(w.rps).toString(), Math.round(o.rps).toString(), rpsRatio.toFixed(3), w.p50.toFixed(3), o.p50.toFixed(3), p50Ratio.toFixed(3), pass ? 'yes' : 'NO'])
      report.push({ connections: c, wrk: { median: w, samples: wrk }, meshwork: { median: o, samples: ours }, rpsRatio, p50Ratio, pass })
    }
  } finally {
    await app.stop()
  }
  const ceiling = await measureCeiling({ durationMs: DURATION * 1000 })
  console.log(`target ${url} (node:http, 100-byte body); ${ROUNDS} interleaved rounds of ${DURATION}s; medians; tolerance ±${TOLERANCE * 100}%; ${PIN ? 'target pinned to CPU 1, generators to CPU 0' : 'not pinned'}; load average ${loadAtStart} at start, ${loadavg()[0].toFixed(1)} at end`)
  console.log(table(['conns', 'wrk rps', 'meshwork rps', 'rps ratio*', 'wrk p50 ms', 'meshwork p50 ms', 'p50 ratio*', 'within'], rows))
  console.log('* median of the per-round ratios meshwork/wrk (adjacent runs)')
  console.log(`\nload generator ceiling: ${ceiling.rps} rps closed loop, p50 ${ceiling.latency.p50} ms (${ceiling.connections} connections, ${ceiling.threads} threads, raw in-process target)`)
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ levels: report, ceiling }, null, 2))
  return ok ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(code => { process.exitCode = code }, err => { console.error(err); process.exitCode = 1 })
}
