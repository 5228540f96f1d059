import { BenchError } from '../errors.ts'
import type { Environment } from './environment.ts'
import { type LoadOptionsInput, parseLoadOptions } from './loadgen/options.ts'
import { type LoadProgress, type LoadResult, runLoad } from './loadgen/run.ts'
import { type ProcSample, processTree, sampleTree, usageBetween } from './proc-stats.ts'
import type { RunningScenario } from './scenarios/topology.ts'
import { type PerformanceTestResult, toSmp } from './smp.ts'

/** Load settings shared by every scenario of a suite (the URL and Host come from the scenario). */
export type ScenarioLoad = Omit<LoadOptionsInput, 'url'> & { path?: string }

export interface MeasureOptions {
  scenario: RunningScenario
  load: ScenarioLoad
  env: Environment
  group?: string
  repeat?: number
  labels?: Record<string, string>
  signal?: AbortSignal
  onProgress?: (p: LoadProgress) => void
}

/** A measurement: the SMP result (also when partial) and the error that cut it short, if any. */
export interface Measurement {
  smp: PerformanceTestResult | null
  error: BenchError | null
}

/** The load options a scenario gets: its URL, its Host header, then the suite's settings. */
export function scenarioLoadOptions (s: RunningScenario, load: ScenarioLoad): LoadOptionsInput {
  const { path, ...rest } = load
  const url = new URL(path ?? '/', s.url).href
  return { ...rest, url, headers: { ...s.headers, ...(rest.headers ?? {}) } }
}

/**
 * Run load against one scenario and sample CPU and memory of each of its proxy process trees over the
 * run. Never throws a BenchError: it comes back in `error`, with the partial result in `smp`.
 */
export async function measureScenario (o: MeasureOptions): Promise<Measurement> {
  const opts = parseLoadOptions(scenarioLoadOptions(o.scenario, o.load))
  const trees = o.scenario.proxies.map(p => ({ name: p.name, pids: processTree(p.pid) }))
  // CPU is sampled at the start and the end of the measured phase (warm-up and drain left out);
  // if the run stops before a phase mark, the whole run is the window.
  let before: ProcSample[] = trees.map(t => sampleTree(t.pids))
  let t0 = performance.now()
  let after: ProcSample[] | null = null
  let t1 = 0
  const onPhase = (phase: 'measure' | 'drain'): void => {
    if (phase === 'measure') { before = trees.map(t => sampleTree(t.pids)); t0 = performance.now() } else { after = trees.map(t => sampleTree(t.pids)); t1 = performance.now() }
  }
  let result: LoadResult | null = null
  let error: BenchError | null = null
  try {
    result = await runLoad(opts, { signal: o.signal, onProgress: o.onProgress, onPhase })
  } catch (err) {
    if (!(err instanceof BenchError)) throw err
    error = err
    result = (err.partial as LoadResult | undefined) ?? null
  }
  if (after === null) { after = trees.map(t => sampleTree(t.pids)); t1 = performance.now() }
  const wall = (t1 - t0) / 1000
  if (result === null) return { smp: null, error }
  const requests = result.requests
  const end = after
  const proxies = trees.map((t, i) => usageBetween(t.name, before[i], end[i], wall, requests))
  const smp = toSmp({
    result,
    env: o.env,
    mesh: o.scenario.mesh,
    name: o.scenario.name,
    scenario: o.scenario.name,
    group: o.group,
    repeat: o.repeat,
    labels: o.labels,
    proxies
  })
  if (error !== null) smp.meshwork.stopped = `${error.code}: ${error.message}`
  return { smp, error }
}
