import { randomUUID } from 'node:crypto'
import { BenchAbortedError, BenchOptionInvalidError } from '../errors.ts'
import { captureEnvironment } from './environment.ts'
import type { LoadProgress } from './loadgen/run.ts'
import { measureScenario, type ScenarioLoad } from './measure.ts'
import { primeScenarios } from './prime.ts'
import type { ScenarioName } from './scenarios/scenarios.ts'
import { startTopology } from './scenarios/topology.ts'
import type { PerformanceTestResult } from './smp.ts'

export interface SearchOptions {
  scenario: ScenarioName
  /** p99 must stay at or under this (ms). */
  sloP99Ms: number
  /** First rate tried (default 500/s). */
  startRate?: number
  /** Never try above this (default 200,000/s). */
  maxRate?: number
  /** Total probes, exponential and binary phases together (default 10). */
  maxSteps?: number
  /** Stop the binary phase when the bracket is narrower than this share of the low end (default 0.05). */
  precision?: number
  /** Load settings per probe (open loop: `rate` is set per probe). */
  load: Omit<ScenarioLoad, 'rate'>
  bodySize?: number
  /** Unrecorded load per proxied scenario before the first measured run, ms (prime.ts; default 3000, 0 = off). */
  primeMs?: number
  signal?: AbortSignal
  onEvent?: (e: { type: 'log', message: string } | { type: 'probe', probe: SearchProbe } | { type: 'progress', progress: LoadProgress }) => void
  onResult?: (r: PerformanceTestResult) => void
}

export interface SearchProbe {
  rate: number
  pass: boolean
  p99: number
  actualQps: number
  /** Why it failed: `p99`, `rate` (could not keep the requested rate), or an error code. */
  reason?: string
}

export interface SearchResult {
  group: string
  scenario: string
  sloP99Ms: number
  /** Highest rate that passed (0 when none did). */
  maxRate: number
  probes: SearchProbe[]
  results: PerformanceTestResult[]
}

/** A probe passes when it kept ≥ 95% of the requested rate with no run error and p99 within the SLO. */
export function judgeProbe (rate: number, sloP99Ms: number, r: PerformanceTestResult | null, errorCode?: string): SearchProbe {
  if (r === null || errorCode !== undefined) return { rate, pass: false, p99: r?.latencies.p99 ?? Number.NaN, actualQps: r?.actual_qps ?? 0, reason: errorCode ?? 'no result' }
  if (r.actual_qps < rate * 0.95) return { rate, pass: false, p99: r.latencies.p99, actualQps: r.actual_qps, reason: 'rate' }
  if (r.latencies.p99 > sloP99Ms) return { rate, pass: false, p99: r.latencies.p99, actualQps: r.actual_qps, reason: 'p99' }
  return { rate, pass: true, p99: r.latencies.p99, actualQps: r.actual_qps }
}

/**
 * Plan the next rate: double while probes pass (exponential phase), then bisect between the highest
 * pass and the lowest fail. Returns null when done.
 */
export function nextRate (probes: SearchProbe[], o: { startRate: number, maxRate: number, precision: number }): number | null {
  if (probes.length === 0) return o.startRate
  const passes = probes.filter(p => p.pass).map(p => p.rate)
  const fails = probes.filter(p => !p.pass).map(p => p.rate)
  const lo = passes.length > 0 ? Math.max(...passes) : 0
  const hi = fails.length > 0 ? Math.min(...fails) : Number.POSITIVE_INFINITY
  if (hi === Number.POSITIVE_INFINITY) {
    if (lo >= o.maxRate) return null
    return Math.min(o.maxRate, lo * 2)
  }
  if (lo === 0) {
    // Even the first rate failed: go down until something passes (bounded by maxSteps upstream).
    const next = Math.floor(hi / 2)
    return next >= 1 ? next : null
  }
  if (hi - lo <= Math.max(1, lo * o.precision)) return null
  return Math.round((lo + hi) / 2)
}

/**
 * Highest rate a scenario sustains with p99 ≤ SLO: exponential then binary search, each probe a short
 * open-loop run, at most `maxSteps` probes.
 */
export async function runSearch (o: SearchOptions): Promise<SearchResult> {
  if (!(o.sloP99Ms > 0)) throw new BenchOptionInvalidError('slo: p99 SLO must be a positive number of ms')
  const plan = { startRate: o.startRate ?? 500, maxRate: o.maxRate ?? 200_000, precision: o.precision ?? 0.05 }
  if (!(plan.startRate > 0) || !(plan.maxRate >= plan.startRate)) throw new BenchOptionInvalidError('rate: start rate must be > 0 and ≤ max rate')
  const maxSteps = o.maxSteps ?? 10
  const group = randomUUID()
  const env = captureEnvironment()
  const emit = o.onEvent ?? (() => {})
  const topo = await startTopology({ scenarios: [o.scenario], bodySize: o.bodySize, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
  const probes: SearchProbe[] = []
  const results: PerformanceTestResult[] = []
  try {
    await primeScenarios(topo.scenarios, o.load, { primeMs: o.primeMs, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
    for (let step = 0; step < maxSteps; step++) {
      const rate = nextRate(probes, plan)
      if (rate === null) break
      if (o.signal?.aborted) throw new BenchAbortedError('search aborted', { partial: results })
      const m = await measureScenario({ scenario: topo.scenarios[0], load: { ...o.load, rate, maxErrorRatio: 1 }, env, group, labels: { search_rate: String(rate), slo_p99_ms: String(o.sloP99Ms) }, signal: o.signal, onProgress: p => emit({ type: 'progress', progress: p }) })
      if (m.smp !== null) { results.push(m.smp); o.onResult?.(m.smp) }
      if (m.error?.code === 'MESH_ERR_BENCH_ABORTED') throw new BenchAbortedError('search aborted', { partial: results })
      const errorCode = m.error?.code ?? ((m.smp?.meshwork.error_ratio ?? 0) > 0.01 ? 'errors' : undefined)
      const probe = judgeProbe(rate, o.sloP99Ms, m.smp, errorCode)
      probes.push(probe)
      emit({ type: 'probe', probe })
    }
  } finally {
    await topo.stop()
  }
  const passes = probes.filter(p => p.pass).map(p => p.rate)
  return { group, scenario: o.scenario, sloP99Ms: o.sloP99Ms, maxRate: passes.length > 0 ? Math.max(...passes) : 0, probes, results }
}
