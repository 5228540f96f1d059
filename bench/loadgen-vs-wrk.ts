/**
 * Does Meshwork's load generator agree with wrk? Closed loop, the same connections, one thread each, the
 * same pinning, the same warm-up, against two targets in their own process:
 *
 *   app    node:http, 100-byte body: saturated at these connection counts, so its latency is queueing
 *   delay  answers after a fixed delay (setTimeout, 5 ms) and measures its own hold per request: the
 *          latency is known, and the target is far from saturated (64 connections ≈ 12k req/s)
 *
 *   wrk -t1 -cN ──▶ target (CPU 1) ◀── meshwork loadgen (1 worker thread, N connections)     both on CPU 0
 *
 * Runs are interleaved and their order alternates per round (wrk→meshwork, meshwork→wrk, …); each round's
 * adjacent pair gives a ratio (drift of a shared machine cancels out) and the median of the paired ratios
 * must be within ±10% of 1 for throughput and p50, for both targets; against `delay` each tool's p50 must
 * also be within ±10% of the target's own hold p50. A third check runs both tools at once against `app`
 * (N connections each), where they see the very same target state: there the two p50s measure the same
 * thing, whatever the load pattern of each tool does to a saturated target.
 *
 * What wrk prints is not what it measured: wrk ≥ 4 (Debian's 4.1.0) corrects its closed-loop latencies
 * for coordinated omission (src/bench/loadgen/wrk-latency.ts), which adds synthetic samples above a
 * connection's mean cycle for every stall and lifts its p50 on a loaded machine. This script reads
 * wrk's whole histogram with a `done()` hook and undoes the correction exactly, so p50 is compared
 * measured with measured ("p50" columns); wrk's printed p50 is compared with the generator's
 * `latencyWrkCorrected` (the same correction applied to its histogram, "wrk-style" columns).
 *
 * Run: flock /tmp/meshwork-bench.lock node --import tsx bench/loadgen-vs-wrk.ts
 * Env: BENCH_DURATION (s, integer, default 2), BENCH_ROUNDS (7), BENCH_CONNECTIONS (comma list, 16,64),
 *      BENCH_DELAY_MS (5), BENCH_TOLERANCE (0.10), BENCH_PIN (0 = do not pin), BENCH_JSON (results file).
 * Exit status 1 when a required ratio is outside the tolerance.
 */
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { measureCeiling } from '../src/bench/ceiling.ts'
import type { LatencySummary } from '../src/bench/loadgen/histogram.ts'
import { runLoad } from '../src/bench/loadgen/run.ts'
import { parseWrkDump, percentileUs, uncorrectWrk, WRK_DUMP_SCRIPT, wrkInterval } from '../src/bench/loadgen/wrk-latency.ts'
import { table } from '../src/bench/report.ts'
import { type ManagedProcess, startProcess } from '../src/bench/scenarios/managed-process.ts'
import { findExecutable } from '../src/bench/scenarios/scenarios.ts'
import { median } from '../src/bench/stats.ts'
import { PortAllocator } from '../src/runtime/ports.ts'

const DURATION = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 2)))
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const LEVELS = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number)
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 5)
const TOLERANCE = Number(process.env.BENCH_TOLERANCE ?? 0.1)
/** Warm-up before each measured run, for both tools: the generator's warm-up phase, an unmeasured wrk run. */
const WARMUP_S = 1
/**
 * Pin the target to CPU 1 and the load generators (wrk, and this process with its worker threads) to
 * CPU 0, so that neither generator's CPU use is taken from the target. BENCH_PIN=0 turns it off.
 */
const PIN = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2 && findExecutable('taskset') !== null
const TMP = mkdtempSync(join(tmpdir(), 'loadgen-vs-wrk-'))
const DUMP_LUA = join(TMP, 'dump.lua')

/** One run of one tool: throughput, measured p50, and p50 with wrk's correction (ms). */
interface Sample { rps: number, p50: number, p50WrkStyle: number }

/** wrk's "Requests/sec" and the 50% line of `--latency` (units us/ms/s), in ms. */
export function parseWrk (out: string): { rps: number, p50: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const m = /^\s*50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out)
  const unit = m?.[2] === 'us' ? 0.001 : m?.[2] === 's' ? 1000 : 1
  const p50 = Number(m?.[1]) * unit
  if (!Number.isFinite(rps) || !Number.isFinite(p50)) throw new Error(`cannot parse wrk output:\n${out}`)
  return { rps, p50 }
}

function wrkArgs (url: string, connections: number, seconds: number): string[] {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', DUMP_LUA, url]
  return PIN ? ['taskset', '-c', '0', 'wrk', ...args] : ['wrk', ...args]
}

/** wrk run; the p50 it measured comes from its histogram with the correction undone. */
function runWrk (url: string, connections: number, seconds: number, tag: string): Promise<Sample> {
  const out = join(TMP, `wrk-${tag}.txt`)
  const [cmd, ...args] = wrkArgs(url, connections, seconds)
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, WRK_LATENCY_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (b: Buffer) => { text += b.toString() })
    child.stderr.on('data', (b: Buffer) => { text += b.toString() })
    child.once('error', reject)
    child.once('exit', code => {
      try {
        if (code !== 0) throw new Error(`wrk exited with ${code}:\n${text}`)
        const printed = parseWrk(text)
        const dump = parseWrkDump(readFileSync(out, 'utf8'))
        const dumpP50 = percentileUs(dump.counts, 50) / 1000
        // The dump is the histogram wrk printed from: its p50 must be the printed one (µs, printed with 2 decimals).
        if (Math.abs(dumpP50 - printed.p50) > Math.max(0.01, printed.p50 * 0.005)) throw new Error(`wrk histogram dump (p50 ${dumpP50} ms) does not match wrk's output (${printed.p50} ms)`)
        const measured = uncorrectWrk(dump.counts, wrkInterval(dump.runtimeUs, dump.complete, connections))
        resolve({ rps: printed.rps, p50: percentileUs(measured, 50) / 1000, p50WrkStyle: printed.p50 })
      } catch (err) { reject(err) }
    })
  })
}

async function runOurs (url: string, connections: number, seconds: number, onMeasure?: () => void): Promise<Sample> {
  const r = await runLoad({ url, connections, threads: 1, rate: 0, durationMs: Math.round(seconds * 1000), warmupMs: WARMUP_S * 1000 }, { onPhase: p => { if (p === 'measure') onMeasure?.() } })
  return { rps: r.actualQps, p50: r.latency.p50, p50WrkStyle: (r.latencyWrkCorrected as LatencySummary).p50 }
}

interface Target { name: string, url: string, stop (): Promise<void>, resetHold? (): Promise<void>, hold? (): Promise<LatencySummary> }

async function startApp (): Promise<Target> {
  const port = await new PortAllocator().allocate()
  const appArgs = ['--import', import.meta.resolve('tsx'), new URL('../src/bench/app/main.ts', import.meta.url).pathname, 'http', String(port), '100']
  const app: ManagedProcess = await startProcess({
    name: 'app',
    command: PIN ? 'taskset' : process.execPath,
    args: PIN ? ['-c', '1', process.execPath, ...appArgs] : appArgs,
    ready: { kind: 'tcp', host: '127.0.0.1', port }
  })
  return { name: 'app', url: `http://127.0.0.1:${port}/`, stop: () => app.stop() }
}

async function startDelay (): Promise<Target> {
  const child = fork(new URL('../src/bench/loadgen/delay-target-main.ts', import.meta.url).pathname, [String(DELAY_MS)], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const ask = <T>(type: string): Promise<T> => new Promise(resolve => { child.once('message', m => resolve(m as T)); child.send({ type }) })
  const { port } = await new Promise<{ port: number }>((resolve, reject) => { child.once('message', m => resolve(m as { port: number })); child.once('exit', code => reject(new Error(`delay target exited (${code})`))) })
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(child.pid)], { stdio: 'ignore' })
  return {
    name: `delay ${DELAY_MS} ms`,
    url: `http://127.0.0.1:${port}/`,
    stop: () => new Promise<void>(resolve => { child.once('exit', () => resolve()); child.disconnect() }),
    resetHold: async () => { await ask('reset') },
    hold: async () => (await ask<{ hold: LatencySummary }>('hold')).hold
  }
}

interface Level {
  target: string
  mode: 'interleaved' | 'simultaneous'
  connections: number
  wrk: Sample[]
  meshwork: Sample[]
  /** Delay target: its own hold p50 over each tool's measured run, per round. */
  hold?: { wrk: number[], meshwork: number[] }
}

const ratioOf = (ours: Sample[], wrk: Sample[], k: keyof Sample): number => median(ours.map((s, i) => s[k] / wrk[i][k]))
const within = (r: number): boolean => Math.abs(r - 1) <= TOLERANCE

async function interleaved (t: Target, c: number): Promise<Level> {
  const lv: Level = { target: t.name, mode: 'interleaved', connections: c, wrk: [], meshwork: [], ...(t.hold ? { hold: { wrk: [], meshwork: [] } } : {}) }
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so that a trend of the machine over a round does not favour one tool.
    const order = r % 2 === 0 ? ['wrk', 'meshwork'] as const : ['meshwork', 'wrk'] as const
    for (const tool of order) {
      let s: Sample
      if (tool === 'wrk') {
        await runWrk(t.url, c, WARMUP_S, `${c}-${r}-warm`) // as the generator's warm-up phase
        await t.resetHold?.()
        s = await runWrk(t.url, c, DURATION, `${c}-${r}`)
      } else {
        s = await runOurs(t.url, c, DURATION, () => { void t.resetHold?.() })
      }
      lv[tool].push(s)
      if (t.hold) lv.hold![tool].push((await t.hold()).p50)
    }
  }
  return lv
}

/**
 * Both tools at once, N connections each, against the same target, so both see the same target state:
 * wrk starts when the generator's measured phase does and runs as long (+ ~0.1 s: wrk stops on its 100 ms tick).
 */
async function simultaneous (t: Target, c: number): Promise<Level> {
  const lv: Level = { target: t.name, mode: 'simultaneous', connections: c, wrk: [], meshwork: [] }
  for (let r = 0; r < ROUNDS; r++) {
    let w: Promise<Sample> | null = null
    const o = await runOurs(t.url, c, DURATION + 0.2, () => { w = runWrk(t.url, c, DURATION, `sim-${c}-${r}`) })
    if (w === null) throw new Error('the generator never reached its measured phase')
    lv.wrk.push(await (w as Promise<Sample>))
    lv.meshwork.push(o)
  }
  return lv
}

function row (lv: Level): { cells: string[], pass: boolean, json: Record<string, unknown> } {
  const m = (xs: Sample[], k: keyof Sample): number => median(xs.map(s => s[k]))
  const rps = ratioOf(lv.meshwork, lv.wrk, 'rps')
  const p50 = ratioOf(lv.meshwork, lv.wrk, 'p50')
  const styled = ratioOf(lv.meshwork, lv.wrk, 'p50WrkStyle')
  const hold = lv.hold === undefined ? Number.NaN : median([...lv.hold.wrk, ...lv.hold.meshwork])
  const wrkVsHold = lv.hold === undefined ? Number.NaN : median(lv.wrk.map((s, i) => s.p50 / lv.hold!.wrk[i]))
  const oursVsHold = lv.hold === undefined ? Number.NaN : median(lv.meshwork.map((s, i) => s.p50 / lv.hold!.meshwork[i]))
  // Simultaneous runs share the target's throughput, and their run lengths differ: only p50 is compared.
  let pass = within(p50) && (lv.mode === 'simultaneous' || within(rps))
  if (lv.hold !== undefined) pass &&= within(wrkVsHold) && within(oursVsHold)
  const f = (x: number, d = 3): string => Number.isFinite(x) ? x.toFixed(d) : '–'
  return {
    cells: [lv.target, lv.mode, String(lv.connections), Math.round(m(lv.wrk, 'rps')).toString(), Math.round(m(lv.meshwork, 'rps')).toString(), f(rps),
      f(m(lv.wrk, 'p50')), f(m(lv.meshwork, 'p50')), f(p50), f(hold), f(wrkVsHold), f(oursVsHold),
      f(m(lv.wrk, 'p50WrkStyle')), f(m(lv.meshwork, 'p50WrkStyle')), f(styled), pass ? 'yes' : 'NO'],
    pass,
    json: { ...lv, ratios: { rps, p50, p50WrkStyle: styled, wrkVsHold, oursVsHold }, pass }
  }
}

async function main (): Promise<number> {
  if (findExecutable('wrk') === null) spawnSync('bash', ['scripts/install-system-deps.sh'], { stdio: 'inherit' })
  if (findExecutable('wrk') === null) { console.error('wrk is not installed and could not be installed'); return 1 }
  writeFileSync(DUMP_LUA, WRK_DUMP_SCRIPT)
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  const loadAtStart = loadavg()[0].toFixed(1)
  const levels: Level[] = []
  for (const start of [startApp, startDelay]) {
    const t = await start()
    try {
      await runWrk(t.url, 16, 1, 'target-warm') // the target's JIT, before anything is measured
      for (const c of LEVELS) levels.push(await interleaved(t, c))
      if (t.name === 'app') for (const c of LEVELS) levels.push(await simultaneous(t, c))
    } finally {
      await t.stop()
    }
  }
  const ceiling = await measureCeiling({ durationMs: DURATION * 1000 })
  rmSync(TMP, { recursive: true, force: true })
  const rows = levels.map(row)
  const ok = rows.every(r => r.pass)
  console.log(`${ROUNDS} rounds of ${DURATION} s (+${WARMUP_S} s warm-up each tool), medians; tolerance ±${TOLERANCE * 100}%; ${PIN ? 'targets pinned to CPU 1, generators to CPU 0' : 'not pinned'}; load average ${loadAtStart} at start, ${loadavg()[0].toFixed(1)} at end`)
  console.log(table(['target', 'runs', 'conns', 'wrk rps', 'mw rps', 'rps ratio*', 'wrk p50', 'mw p50', 'p50 ratio*', 'hold p50', 'wrk/hold*', 'mw/hold*', 'wrk-style wrk', 'wrk-style mw', 'ratio*', 'within'], rows.map(r => r.cells)))
  console.log('ms; * median of the per-round ratios (adjacent runs, or the same run when simultaneous); mw = meshwork loadgen')
  console.log('p50 = measured (wrk: its histogram with its coordinated-omission correction undone); wrk-style = as wrk prints it (meshwork: latencyWrkCorrected)')
  console.log('within: rps and p50 ratios (p50 only when simultaneous), and each tool against the target\'s own hold time')
  console.log(`\nload generator ceiling: ${ceiling.rps} rps closed loop, p50 ${ceiling.latency.p50} ms (${ceiling.connections} connections, ${ceiling.threads} threads, raw in-process target)`)
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ levels: rows.map(r => r.json), ceiling, loadavg: [loadAtStart, loadavg()[0]] }, null, 2))
  return ok ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(code => { process.exitCode = code }, err => { console.error(err); process.exitCode = 1 })
}
