/**
 * Tail latency at a fixed rate (issue 18): what two sidecars add to a call, at the caller's own request rate,
 * Meshwork with mTLS against two nginx hops with mTLS, interleaved in one run on this machine.
 *
 *   no-mesh         load ──────────────────────────────────────────▶ app
 *   meshwork-mtls   load ─▶ meshwork (outbound) ══mTLS══▶ meshwork (inbound) ─▶ app
 *   nginx-mtls      load ─▶ nginx ══mTLS (client cert, verify)══▶ nginx ─▶ app
 *
 * The load is the project's open-loop generator (src/bench/loadgen/, wrk2 model: latency from the scheduled send
 * time, so a stall counts for every request due during it), `BENCH_CONNECTIONS` keep-alive connections, at each of
 * `BENCH_RATES`. Each round runs every (rate, scenario) once; even rounds reverse the scenario order. The app and the
 * proxies are the `meshwork bench suite` topology (src/bench/scenarios/topology.ts), the Meshwork proxies run the CLI
 * compiled with esbuild (as shipped, no tsx loader) with PROXY_NODE_FLAGS.
 *
 * Printed per round and as medians: req/s, p50/p90/p99/p99.9 and the latency added over no-mesh, CPU µs per request
 * per sidecar (/proc utime+stime), max RSS, the generator's own CPU (its threads, in cores), and per Meshwork sidecar
 * its pauses over the window (GC by kind, heap trims, event-loop delay; from its admin /metrics). Then the targets:
 *   at every rate: meshwork's added p99 ≤ nginx's added p99; meshwork's added p50 ≤ 1.2 × nginx's added p50
 *   at 1000 rps: CPU per request per sidecar ≤ 1.2 × nginx's; every Meshwork sidecar's RSS ≤ 60 MB
 * Added latency = the scenario's median (over rounds) minus no-mesh's median, as `meshwork bench suite` prints it;
 * the per-round differences are printed too. Exit status 1 when a target is missed.
 *
 * Run (benchmarks take the machine's lock): flock /tmp/meshwork-bench.lock node --import tsx bench/tail-latency.ts
 * Env: BENCH_RATES (1000,5000), BENCH_CONNECTIONS (16), BENCH_DURATION (s, 10), BENCH_ROUNDS (3), BENCH_WARMUP (s, 1),
 *      BENCH_THREADS (generator threads, default the generator's: 2), BENCH_JSON=<file> (every run as JSON),
 *      BENCH_COMPARE=<main.js> (A/B: a second Meshwork pair from another build, e.g. `git archive <commit> src` compiled
 *      with bench/compile-cli.ts's esbuild command under test-artifacts/, measured as `meshwork-mtls-b` interleaved with
 *      the others, with its own app process).
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { captureEnvironment } from '../src/bench/environment.ts'
import { measureScenario } from '../src/bench/measure.ts'
import { formatPauses, type MetricSamples, parsePrometheus, pausesBetween, type ProxyPauses } from '../src/bench/pause-stats.ts'
import { primeScenarios } from '../src/bench/prime.ts'
import { table } from '../src/bench/report.ts'
import type { RunningScenario, Topology } from '../src/bench/scenarios/topology.ts'
import { startTopology } from '../src/bench/scenarios/topology.ts'
import { median } from '../src/bench/stats.ts'
import { compileCli } from './compile-cli.ts'

const RATES = (process.env.BENCH_RATES ?? '1000,5000').split(',').map(Number).filter(n => n > 0)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16)
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 1)
const THREADS = process.env.BENCH_THREADS !== undefined ? Number(process.env.BENCH_THREADS) : undefined
const COMPARE = process.env.BENCH_COMPARE ? resolve(process.env.BENCH_COMPARE) : null
const RSS_LIMIT_MB = 60

interface Run {
  round: number
  rate: number
  scenario: string
  qps: number
  p50: number
  p90: number
  p99: number
  p999: number
  errors: number
  /** CPU µs per request, mean of the scenario's sidecars (NaN without proxies). */
  cpuUsPerReqPerSidecar: number
  /** Max RSS of the scenario's sidecars, MB. */
  rssMb: number
  /** The generator's threads (this process), cores over the run. */
  generatorCores: number
  pauses: Array<{ proxy: string, pauses: ProxyPauses }>
}

async function scrape (s: RunningScenario): Promise<Array<MetricSamples | null>> {
  return Promise.all(s.proxies.map(async p => {
    if (p.metricsUrl === undefined) return null
    try { return parsePrometheus(await (await fetch(p.metricsUrl)).text()) } catch { return null }
  }))
}

async function measure (s: RunningScenario, rate: number, round: number, env: ReturnType<typeof captureEnvironment>): Promise<Run> {
  const before = await scrape(s)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const m = await measureScenario({ scenario: s, load: { connections: CONNECTIONS, rate, durationMs: DURATION_S * 1000, warmupMs: WARMUP_S * 1000, ...(THREADS ? { threads: THREADS } : {}) }, env, repeat: round })
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const after = await scrape(s)
  if (m.smp === null) throw new Error(`${s.name} at ${rate} rps: ${m.error?.code}: ${m.error?.message}`)
  if (m.error !== null) console.log(`  ${s.name} @${rate}: ${m.error.code}: ${m.error.message}`)
  const r = m.smp
  const proxies = r.meshwork.proxies
  const pauses: Run['pauses'] = []
  s.proxies.forEach((p, i) => {
    const b = before[i]
    const a = after[i]
    if (b !== null && a !== null) pauses.push({ proxy: p.name, pauses: pausesBetween(b, a, wall) })
  })
  return {
    round,
    rate,
    scenario: s.name,
    qps: r.actual_qps,
    p50: r.latencies.p50,
    p90: r.latencies.p90,
    p99: r.latencies.p99,
    p999: r.meshwork.p999,
    errors: r.meshwork.error_ratio,
    cpuUsPerReqPerSidecar: proxies.length > 0 ? proxies.reduce((a, p) => a + p.cpuUsPerRequest, 0) / proxies.length : Number.NaN,
    rssMb: proxies.length > 0 ? Math.max(...proxies.map(p => p.peakRssBytes)) / 1048576 : Number.NaN,
    generatorCores: (cpu.user + cpu.system) / 1e6 / wall,
    pauses
  }
}

const f = (x: number, d = 3): string => Number.isFinite(x) ? x.toFixed(d) : '-'
const plus = (x: number): string => Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : '-'

async function main (): Promise<number> {
  const cli = compileCli('bench-tail')
  process.env.MESHWORK_CLI_JS = cli
  const env = captureEnvironment()
  console.log(`tail-latency: rates ${RATES.join(', ')} rps, c${CONNECTIONS}, ${ROUNDS} rounds × ${DURATION_S} s (+${WARMUP_S} s warm-up), load average ${env.loadAverage1m.toFixed(1)}`)
  const topos: Topology[] = []
  const scenarios: RunningScenario[] = []
  try {
    const a = await startTopology({ scenarios: ['no-mesh', 'meshwork-mtls', 'nginx-mtls'] })
    topos.push(a)
    scenarios.push(...a.scenarios)
    if (COMPARE !== null) {
      process.env.MESHWORK_CLI_JS = COMPARE
      const b = await startTopology({ scenarios: ['meshwork-mtls'] })
      topos.push(b)
      for (const s of b.scenarios) scenarios.push({ ...s, name: 'meshwork-mtls-b' as RunningScenario['name'] })
      process.env.MESHWORK_CLI_JS = cli
    }
    for (const s of scenarios) console.log(`  ${s.name}: ${s.url} ${s.proxies.map(p => `${p.name}=${p.pid}`).join(' ')}`)
    await primeScenarios(scenarios, { connections: CONNECTIONS }, { onLog: m => console.log(`  ${m}`) })
    const runs: Run[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      for (const rate of RATES) {
        const order = round % 2 === 0 ? [...scenarios].reverse() : scenarios
        for (const s of order) {
          const r = await measure(s, rate, round, env)
          runs.push(r)
          console.log(`round ${round} @${rate} ${s.name.padEnd(16)} ${Math.round(r.qps)} rps  p50 ${f(r.p50)}  p90 ${f(r.p90)}  p99 ${f(r.p99)}  p99.9 ${f(r.p999)} ms  cpu/req/sidecar ${f(r.cpuUsPerReqPerSidecar, 1)} µs  rss ${f(r.rssMb, 1)} MB  generator ${f(r.generatorCores, 2)} cores`)
          for (const p of r.pauses) console.log(`    ${p.proxy}: ${formatPauses(p.pauses)}`)
        }
      }
    }
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ env, rates: RATES, connections: CONNECTIONS, rounds: ROUNDS, durationS: DURATION_S, runs }, null, 2))
    return report(runs, scenarios.map(s => s.name))
  } finally {
    for (const t of topos) await t.stop()
  }
}

function report (runs: Run[], names: string[]): number {
  let failed = false
  for (const rate of RATES) {
    const of = (name: string): Run[] => runs.filter(r => r.rate === rate && r.scenario === name)
    const med = (name: string, k: keyof Run): number => median(of(name).map(r => r[k] as number))
    const base = { p50: med('no-mesh', 'p50'), p90: med('no-mesh', 'p90'), p99: med('no-mesh', 'p99'), p999: med('no-mesh', 'p999') }
    const perRound = (name: string, k: 'p50' | 'p90' | 'p99'): string => of(name).map(r => {
      const b = runs.find(x => x.rate === rate && x.round === r.round && x.scenario === 'no-mesh')
      return b ? plus(r[k] - b[k]) : '-'
    }).join(' ')
    console.log(`\n=== ${rate} rps, c${CONNECTIONS}: medians of ${ROUNDS} rounds (added = scenario median − no-mesh median, ms) ===`)
    console.log(table(['scenario', 'rps', 'p50', 'p90', 'p99', 'p99.9', '+p50', '+p90', '+p99', '+p99.9', 'cpu µs/req/sidecar', 'rss MB', 'generator cores'],
      names.map(n => [n, String(Math.round(med(n, 'qps'))), f(med(n, 'p50')), f(med(n, 'p90')), f(med(n, 'p99')), f(med(n, 'p999')),
        plus(med(n, 'p50') - base.p50), plus(med(n, 'p90') - base.p90), plus(med(n, 'p99') - base.p99), plus(med(n, 'p999') - base.p999),
        f(med(n, 'cpuUsPerReqPerSidecar'), 1), f(Math.max(...of(n).map(r => r.rssMb)), 1), f(med(n, 'generatorCores'), 2)])))
    console.log('per round, added over the same round\'s no-mesh (+p50 | +p99, ms):')
    for (const n of names.filter(x => x !== 'no-mesh')) console.log(`  ${n.padEnd(16)} ${perRound(n, 'p50')} | ${perRound(n, 'p99')}`)
    const mw = { p50: med('meshwork-mtls', 'p50') - base.p50, p99: med('meshwork-mtls', 'p99') - base.p99 }
    const ng = { p50: med('nginx-mtls', 'p50') - base.p50, p99: med('nginx-mtls', 'p99') - base.p99 }
    const checks: Array<[string, boolean, string]> = [
      ['meshwork +p99 ≤ nginx +p99', mw.p99 <= ng.p99, `${plus(mw.p99)} vs ${plus(ng.p99)} ms (${f(mw.p99 / ng.p99, 2)}×)`],
      ['meshwork +p50 ≤ 1.2 × nginx +p50', mw.p50 <= 1.2 * ng.p50, `${plus(mw.p50)} vs ${plus(ng.p50)} ms (${f(mw.p50 / ng.p50, 2)}×)`]
    ]
    if (rate === 1000) {
      const c = med('meshwork-mtls', 'cpuUsPerReqPerSidecar')
      const cn = med('nginx-mtls', 'cpuUsPerReqPerSidecar')
      checks.push(['CPU/req/sidecar ≤ 1.2 × nginx', c <= 1.2 * cn, `${f(c, 1)} vs ${f(cn, 1)} µs (${f(c / cn, 2)}×)`])
      const rss = Math.max(...of('meshwork-mtls').map(r => r.rssMb))
      checks.push([`RSS ≤ ${RSS_LIMIT_MB} MB`, rss <= RSS_LIMIT_MB, `${f(rss, 1)} MB (max over rounds and sidecars)`])
    }
    for (const [what, ok, detail] of checks) {
      console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${what}: ${detail}`)
      if (!ok) failed = true
    }
    if (names.includes('meshwork-mtls-b')) {
      console.log(`  A/B: meshwork-mtls-b / meshwork-mtls p50 ${f(med('meshwork-mtls-b', 'p50') / med('meshwork-mtls', 'p50'), 2)}× p99 ${f(med('meshwork-mtls-b', 'p99') / med('meshwork-mtls', 'p99'), 2)}× cpu ${f(med('meshwork-mtls-b', 'cpuUsPerReqPerSidecar') / med('meshwork-mtls', 'cpuUsPerReqPerSidecar'), 2)}×`)
    }
  }
  return failed ? 1 : 0
}

main().then(code => { process.exitCode = code }, err => { console.error(err); process.exitCode = 2 })
