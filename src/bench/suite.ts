import { randomUUID } from 'node:crypto'
import { BenchAbortedError } from '../errors.ts'
import { captureEnvironment, type Environment } from './environment.ts'
import type { LoadProgress } from './loadgen/run.ts'
import { measureScenario, type ScenarioLoad } from './measure.ts'
import { primeScenarios } from './prime.ts'
import { BASELINE, type ScenarioName } from './scenarios/scenarios.ts'
import { startTopology, type Topology } from './scenarios/topology.ts'
import type { PerformanceTestResult } from './smp.ts'
import { median, ratio } from './stats.ts'

export interface SuiteOptions {
  scenarios: ScenarioName[]
  /** Rounds; each round runs every scenario once, in order (interleaved). Default 3. */
  repeat?: number
  load: ScenarioLoad
  bodySize?: number
  /** Unrecorded load per proxied scenario before round 1, ms (prime.ts; default 3000, 0 = off). */
  primeMs?: number
  signal?: AbortSignal
  onEvent?: (e: SuiteEvent) => void
  /** Results go here as they are measured (e.g. the store), partial ones included. */
  onResult?: (r: PerformanceTestResult) => void
  /** Called with what was measured when the suite is aborted (before MESH_ERR_BENCH_ABORTED is thrown). */
  onAborted?: (partial: PerformanceTestResult[]) => void
  /** Group id of the results (default: a new UUID); the UI uses its run id, so the CLI finds the run. */
  group?: string
}

export type SuiteEvent =
  | { type: 'log', message: string }
  | { type: 'run-start', scenario: ScenarioName, repeat: number, of: number }
  | { type: 'progress', scenario: ScenarioName, repeat: number, progress: LoadProgress }
  | { type: 'run-end', scenario: ScenarioName, repeat: number, result: PerformanceTestResult | null, error?: { code: string, message: string } }

export interface ProxySummary {
  name: string
  cpuCores: number
  cpuUsPerRequest: number
  rssBytes: number
  peakRssBytes: number
}

/** Medians over the repeats of one scenario, and ratios to the no-mesh baseline. */
export interface ScenarioSummary {
  scenario: string
  mesh: string
  runs: number
  failed: number
  qps: number
  p50: number
  p90: number
  p99: number
  p999: number
  /** scenario / baseline (throughput: < 1 is a loss; latency: > 1 is overhead). NaN without a baseline. */
  qpsRatio: number
  p50Ratio: number
  p90Ratio: number
  p99Ratio: number
  /** Latency added over the baseline, ms (median p50, p90 and p99 differences). */
  p50AddedMs: number
  p90AddedMs: number
  p99AddedMs: number
  proxies: ProxySummary[]
}

export interface SuiteResult {
  group: string
  env: Environment
  results: PerformanceTestResult[]
  summary: ScenarioSummary[]
  failures: Array<{ scenario: string, repeat: number, code: string, message: string }>
  /** Trace exports the OTLP sink received (tracing scenarios): 0 means the proxies exported no spans. */
  otlpExports: number | null
}

/**
 * Start every scenario, then run them interleaved (round 1: A B C, round 2: A B C, …) so that drift
 * of a shared machine hits all alike; report medians and ratios to no-mesh.
 * A failed run is recorded (partial result + error) and the suite goes on.
 */
export async function runSuite (o: SuiteOptions): Promise<SuiteResult> {
  const repeat = o.repeat ?? 3
  const group = o.group ?? randomUUID()
  const env = captureEnvironment()
  const emit = o.onEvent ?? (() => {})
  const topo: Topology = await startTopology({ scenarios: o.scenarios, bodySize: o.bodySize, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
  const results: PerformanceTestResult[] = []
  const failures: SuiteResult['failures'] = []
  let otlpExports: number | null = null
  try {
    await primeScenarios(topo.scenarios, o.load, { primeMs: o.primeMs, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
    for (let r = 1; r <= repeat; r++) {
      for (const s of topo.scenarios) {
        if (o.signal?.aborted) throw new BenchAbortedError('suite aborted', { partial: results })
        emit({ type: 'run-start', scenario: s.name, repeat: r, of: repeat })
        const m = await measureScenario({ scenario: s, load: o.load, env, group, repeat: r, signal: o.signal, onProgress: p => emit({ type: 'progress', scenario: s.name, repeat: r, progress: p }) })
        if (m.smp !== null) { results.push(m.smp); o.onResult?.(m.smp) }
        if (m.error !== null) {
          failures.push({ scenario: s.name, repeat: r, code: m.error.code, message: m.error.message })
          if (m.error.code === 'MESH_ERR_BENCH_ABORTED') throw new BenchAbortedError('suite aborted', { partial: results })
        }
        emit({ type: 'run-end', scenario: s.name, repeat: r, result: m.smp, ...(m.error ? { error: { code: m.error.code, message: m.error.message } } : {}) })
      }
    }
    otlpExports = topo.otlp?.exports ?? null
  } catch (err) {
    if (err instanceof BenchAbortedError) o.onAborted?.(results)
    throw err
  } finally {
    await topo.stop()
  }
  return { group, env, results, summary: summarizeSuite(results, o.scenarios, failures), failures, otlpExports }
}

/** Medians per scenario over its complete runs, ratios to the baseline's medians. */
export function summarizeSuite (results: PerformanceTestResult[], order: string[], failures: SuiteResult['failures'] = []): ScenarioSummary[] {
  const ok = results.filter(r => r.meshwork.stopped === undefined)
  const by = (name: string): PerformanceTestResult[] => ok.filter(r => r.meshwork.scenario === name)
  const med = (rs: PerformanceTestResult[], f: (r: PerformanceTestResult) => number): number => median(rs.map(f))
  const base = by(BASELINE)
  const bq = med(base, r => r.actual_qps)
  const b50 = med(base, r => r.latencies.p50)
  const b90 = med(base, r => r.latencies.p90)
  const b99 = med(base, r => r.latencies.p99)
  const out: ScenarioSummary[] = []
  for (const name of order) {
    const rs = by(name)
    const any = results.find(r => r.meshwork.scenario === name)
    const proxyNames = rs[0]?.meshwork.proxies.map(p => p.name) ?? []
    const qps = med(rs, r => r.actual_qps)
    const p50 = med(rs, r => r.latencies.p50)
    const p90 = med(rs, r => r.latencies.p90)
    const p99 = med(rs, r => r.latencies.p99)
    out.push({
      scenario: name,
      mesh: any?.mesh_config.type ?? '',
      runs: rs.length,
      failed: failures.filter(f => f.scenario === name).length,
      qps,
      p50,
      p90,
      p99,
      p999: med(rs, r => r.meshwork.p999),
      qpsRatio: ratio(qps, bq),
      p50Ratio: ratio(p50, b50),
      p90Ratio: ratio(p90, b90),
      p99Ratio: ratio(p99, b99),
      p50AddedMs: p50 - b50,
      p90AddedMs: p90 - b90,
      p99AddedMs: p99 - b99,
      proxies: proxyNames.map(pn => {
        const us = rs.map(r => r.meshwork.proxies.find(p => p.name === pn)).filter(p => p !== undefined)
        return {
          name: pn,
          cpuCores: median(us.map(u => u.cpuCores)),
          cpuUsPerRequest: median(us.map(u => u.cpuUsPerRequest)),
          rssBytes: Math.max(...us.map(u => u.rssBytes)),
          peakRssBytes: Math.max(...us.map(u => u.peakRssBytes))
        }
      })
    })
  }
  return out
}
