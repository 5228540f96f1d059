import { randomUUID } from 'node:crypto'
import { BenchAbortedError } from '../errors.ts'
import { captureEnvironment, type Environment } from './environment.ts'
import type { LoadProgress } from './loadgen/run.ts'
import { measureScenario, type ScenarioLoad } from './measure.ts'
import { primeScenarios } from './prime.ts'
import { BASELINE, type ScenarioName } from './scenarios/scenarios.ts'
import { startTopology } from './scenarios/topology.ts'
import type { PerformanceTestResult } from './smp.ts'
import { median, ratio } from './stats.ts'

/** The concurrency levels of the talk's table. */
export const DEFAULT_SWEEP_CONNECTIONS = [8, 16, 32, 100]

export interface SweepOptions {
  scenarios: ScenarioName[]
  connections?: number[]
  /** Runs per cell (median taken); default 1. */
  repeat?: number
  /** Load settings; `connections` is set per cell. Closed loop unless a rate is given. */
  load: Omit<ScenarioLoad, 'connections'>
  bodySize?: number
  /** Unrecorded load per proxied scenario before the first measured run, ms (prime.ts; default 3000, 0 = off). */
  primeMs?: number
  signal?: AbortSignal
  onEvent?: (e: { type: 'log', message: string } | { type: 'cell', scenario: string, connections: number, repeat: number } | { type: 'progress', progress: LoadProgress }) => void
  onResult?: (r: PerformanceTestResult) => void
}

/** One cell of the table: a scenario at one concurrency. */
export interface SweepCell {
  scenario: string
  connections: number
  qps: number
  p50: number
  p99: number
  /** p50 at this concurrency / p50 of the same scenario at the lowest concurrency. */
  latencyRatioToLowest: number
  /** p50 of this scenario / p50 of no-mesh at the same concurrency. */
  overheadRatioToNoMesh: number
  /** qps of no-mesh / qps of this scenario at the same concurrency (> 1 = throughput lost). */
  throughputCostToNoMesh: number
  failed: number
}

export interface SweepResult {
  group: string
  env: Environment
  connections: number[]
  cells: SweepCell[]
  results: PerformanceTestResult[]
}

/**
 * Connections × scenario, interleaved per concurrency level (all scenarios at 8, then all at 16, …).
 * @example const r = await runSweep({ scenarios: ['no-mesh', 'nginx-mtls'], load: { durationMs: 5000 } })
 */
export async function runSweep (o: SweepOptions): Promise<SweepResult> {
  const levels = [...(o.connections ?? DEFAULT_SWEEP_CONNECTIONS)].sort((a, b) => a - b)
  const repeat = o.repeat ?? 1
  const group = randomUUID()
  const env = captureEnvironment()
  const emit = o.onEvent ?? (() => {})
  const topo = await startTopology({ scenarios: o.scenarios, bodySize: o.bodySize, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
  const results: PerformanceTestResult[] = []
  const raw: Array<{ scenario: string, connections: number, smp: PerformanceTestResult | null }> = []
  try {
    await primeScenarios(topo.scenarios, o.load, { primeMs: o.primeMs, signal: o.signal, onLog: m => emit({ type: 'log', message: m }) })
    for (let r = 1; r <= repeat; r++) {
      for (const c of levels) {
        for (const s of topo.scenarios) {
          if (o.signal?.aborted) throw new BenchAbortedError('sweep aborted', { partial: results })
          emit({ type: 'cell', scenario: s.name, connections: c, repeat: r })
          const m = await measureScenario({ scenario: s, load: { ...o.load, connections: c }, env, group, repeat: r, labels: { sweep_connections: String(c) }, signal: o.signal, onProgress: p => emit({ type: 'progress', progress: p }) })
          if (m.smp !== null) { results.push(m.smp); o.onResult?.(m.smp) }
          raw.push({ scenario: s.name, connections: c, smp: m.error === null ? m.smp : null })
          if (m.error?.code === 'MESH_ERR_BENCH_ABORTED') throw new BenchAbortedError('sweep aborted', { partial: results })
        }
      }
    }
  } finally {
    await topo.stop()
  }
  return { group, env, connections: levels, cells: sweepCells(raw, o.scenarios, levels), results }
}

export function sweepCells (raw: Array<{ scenario: string, connections: number, smp: PerformanceTestResult | null }>, scenarios: string[], levels: number[]): SweepCell[] {
  const cell = (s: string, c: number): { qps: number, p50: number, p99: number, failed: number } => {
    const xs = raw.filter(x => x.scenario === s && x.connections === c)
    const ok = xs.map(x => x.smp).filter((x): x is PerformanceTestResult => x !== null)
    return { qps: median(ok.map(x => x.actual_qps)), p50: median(ok.map(x => x.latencies.p50)), p99: median(ok.map(x => x.latencies.p99)), failed: xs.length - ok.length }
  }
  const out: SweepCell[] = []
  for (const s of scenarios) {
    const lowest = cell(s, levels[0])
    for (const c of levels) {
      const here = cell(s, c)
      const base = cell(BASELINE, c)
      out.push({
        scenario: s,
        connections: c,
        qps: here.qps,
        p50: here.p50,
        p99: here.p99,
        latencyRatioToLowest: ratio(here.p50, lowest.p50),
        overheadRatioToNoMesh: ratio(here.p50, base.p50),
        throughputCostToNoMesh: ratio(base.qps, here.qps),
        failed: here.failed
      })
    }
  }
  return out
}
