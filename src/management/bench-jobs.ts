import { randomUUID } from 'node:crypto'
import { BenchStore } from '../bench/store.ts'
import { runSuite, summarizeSuite, type ScenarioSummary, type SuiteEvent } from '../bench/suite.ts'
import { BASELINE, SCENARIOS, type ScenarioName } from '../bench/scenarios/scenarios.ts'
import { decodeHistogram, mergeHistograms } from '../bench/loadgen/histogram.ts'
import type { PerformanceTestResult } from '../bench/smp.ts'
import { ApiBadRequestError, ApiNotFoundError, BenchBusyError, MeshError } from '../errors.ts'
import { importFortio } from '../bench/fortio.ts'

export interface StartRequest { scenarios: ScenarioName[], rate: number, durationMs: number, connections: number, repeats: number }

export interface JobView {
  id: string
  name: string
  createdAt: string
  status: 'running' | 'done' | 'failed' | 'cancelled'
  scenarios: string[]
  error?: string
  progress?: { percent: number, message: string }
}

interface Job extends JobView {
  abort: AbortController
  done: Promise<void>
}

/** What the UI shows of one scenario: medians, ratios, the percentile curve and a histogram. */
export interface ScenarioView {
  scenario: string
  rps: number
  p50Ms: number | null
  p90Ms: number | null
  p99Ms: number | null
  p999Ms: number | null
  maxMs: number | null
  ratioP50: number | null
  ratioP99: number | null
  ratioRps: number | null
  /** Latency added over no-mesh, ms (scenario median − no-mesh median); null without a no-mesh baseline. */
  addedP50Ms: number | null
  addedP90Ms: number | null
  addedP99Ms: number | null
  errors: number
  percentiles: Array<{ percentile: number, ms: number }>
  histogram: Array<{ fromMs: number, toMs: number, count: number }>
  proxies: Array<{ name: string, cpuUsPerRequest: number | null, rssMb: number | null }>
}

const finite = (n: number): number | null => Number.isFinite(n) ? n : null

/**
 * Benchmark runs started from the UI: the same `runSuite` as `meshwork bench`, results stored in the
 * same SQLite store; one run at a time (a second run would measure the first).
 */
export class BenchJobs {
  #jobs = new Map<string, Job>()
  #store: BenchStore
  #publish: (data: unknown) => void

  constructor (dataDir: string, publish: (data: unknown) => void) {
    this.#store = BenchStore.open(dataDir)
    this.#publish = publish
  }

  scenarios (): Array<{ id: string, title: string }> {
    return (Object.keys(SCENARIOS) as ScenarioName[]).map(id => ({ id, title: `${id} — ${SCENARIOS[id].description}` }))
  }

  start (req: StartRequest): JobView {
    for (const j of this.#jobs.values()) {
      if (j.status === 'running') throw new BenchBusyError(`benchmark ${j.id} is still running; cancel it or wait`)
    }
    const scenarios: ScenarioName[] = req.scenarios.includes(BASELINE) ? req.scenarios : [BASELINE, ...req.scenarios]
    const id = randomUUID()
    const abort = new AbortController()
    const job: Job = {
      id,
      name: `${scenarios.join(' vs ')} @ ${req.rate === 0 ? 'max' : `${req.rate} rps`}, ${req.connections} conns, ${req.durationMs / 1000}s ×${req.repeats}`,
      createdAt: new Date().toISOString(),
      status: 'running',
      scenarios,
      abort,
      done: Promise.resolve(),
      progress: { percent: 0, message: 'starting the scenarios…' }
    }
    const totalRuns = scenarios.length * req.repeats
    let finishedRuns = 0
    const onEvent = (e: SuiteEvent): void => {
      if (e.type === 'run-end') finishedRuns++
      const within = e.type === 'progress' ? Math.min(1, e.progress.elapsedMs / Math.max(1, req.durationMs)) : 0
      const message = e.type === 'log' ? e.message : e.type === 'run-start' ? `${e.scenario} (round ${e.repeat}/${e.of})` : e.type === 'progress' ? `${e.scenario}: ${e.progress.phase}, ${Math.round(e.progress.rps)} rps` : `${e.scenario} done`
      job.progress = { percent: Math.min(99, ((finishedRuns + within) / totalRuns) * 100), message }
      this.#publish({ id, status: 'running', ...job.progress })
    }
    const saveGroup = (results: PerformanceTestResult[]): void => {
      this.#store.saveGroup({ id, kind: 'suite', createdAt: job.createdAt, name: job.name, summary: summarizeSuite(results, scenarios) })
    }
    const measured: PerformanceTestResult[] = []
    saveGroup(measured)
    // The run id is the group id of its results in the store: `meshwork bench show/compare <id>` finds
    // the run the UI shows (issue 19), cancelled and failed runs included.
    job.done = runSuite({
      scenarios,
      repeat: req.repeats,
      group: id,
      load: { rate: req.rate, durationMs: req.durationMs, connections: req.connections, warmupMs: Math.min(2000, Math.round(req.durationMs / 5)) },
      signal: abort.signal,
      onEvent,
      onResult: r => {
        measured.push(r)
        this.#store.save(r)
      }
    }).then(result => {
      this.#store.saveGroup({ id, kind: 'suite', createdAt: job.createdAt, name: job.name, summary: result.summary })
      job.status = result.failures.length > 0 && result.results.length === 0 ? 'failed' : 'done'
      if (result.failures.length > 0) job.error = result.failures.map(f => `${f.scenario}#${f.repeat}: ${f.code}: ${f.message}`).join('; ')
    }, (err: unknown) => {
      job.status = abort.signal.aborted ? 'cancelled' : 'failed'
      job.error = err instanceof MeshError ? `${err.code}: ${err.message}` : (err as Error).message
      saveGroup(measured)
    }).finally(() => {
      job.progress = { percent: 100, message: job.status }
      this.#publish({ id, status: job.status, ...job.progress, error: job.error })
    })
    this.#jobs.set(id, job)
    return view(job)
  }

  /**
   * Store results produced elsewhere (a benchmark Job in a cluster POSTs `meshwork bench run --json`
   * output; fortio JSON is accepted too) as a run of their own.
   */
  import (body: unknown): JobView {
    const items = Array.isArray(body) ? body : [body]
    const results: PerformanceTestResult[] = []
    for (const item of items) {
      const o = item as Record<string, any> | null
      if (o !== null && typeof o === 'object' && typeof o.partial === 'object' && o.partial !== null) results.push(o.partial as PerformanceTestResult)
      else if (o !== null && typeof o === 'object' && typeof o.smp_version === 'string' && typeof o.meshwork === 'object') results.push(o as unknown as PerformanceTestResult)
      else if (o !== null && typeof o === 'object' && ('DurationHistogram' in o || 'RequestedQPS' in o)) {
        try {
          results.push(importFortio(o, { mesh: { type: 'unknown', version: '', config: {} } }))
        } catch (err) {
          throw new ApiBadRequestError(`not a fortio result: ${(err as Error).message}`)
        }
      } else throw new ApiBadRequestError('body must be an SMP result (meshwork bench run --json), a list of them, or a fortio JSON result')
    }
    if (results.length === 0) throw new ApiBadRequestError('nothing to import')
    const group = randomUUID()
    const createdAt = new Date().toISOString()
    for (const r of results) this.#store.save({ ...r, id: randomUUID(), meshwork: { ...r.meshwork, group, source: r.meshwork?.source ?? 'import' } })
    const scenarios = [...new Set(results.map(r => r.meshwork?.scenario ?? 'run'))]
    const name = `imported: ${scenarios.join(', ')}`
    this.#store.saveGroup({ id: group, kind: 'suite', createdAt, name, summary: summarizeSuite(results, scenarios) })
    return { id: group, name, createdAt, status: 'done', scenarios }
  }

  cancel (id: string): JobView {
    const job = this.#jobs.get(id)
    if (job === undefined) throw new ApiNotFoundError(`no running benchmark ${id}`)
    job.abort.abort()
    return view(job)
  }

  list (): JobView[] {
    const out: JobView[] = [...this.#jobs.values()].map(view)
    const known = new Set(this.#jobs.keys())
    for (const g of this.#store.listGroups(50)) {
      if (known.has(g.id)) continue
      out.push({ id: g.id, name: g.name, createdAt: g.createdAt, status: 'done', scenarios: ((g.summary as ScenarioSummary[]) ?? []).map(s => s.scenario) })
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  /** A run with its per-scenario views (partial while it runs). */
  get (id: string): JobView & { results: ScenarioView[], config: Record<string, unknown> } {
    const job = this.#jobs.get(id)
    let groupId = id
    let base: JobView
    if (job !== undefined) base = view(job)
    else {
      const g = this.#store.getGroup(id)
      groupId = g.id
      base = { id: g.id, name: g.name, createdAt: g.createdAt, status: 'done', scenarios: ((g.summary as ScenarioSummary[]) ?? []).map(s => s.scenario) }
    }
    const results = this.results(groupId)
    return { ...base, config: results[0]?.config as unknown as Record<string, unknown> ?? {}, results: scenarioViews(results, base.scenarios) }
  }

  results (groupId: string): PerformanceTestResult[] {
    return this.#store.list({ group: groupId, limit: 1000 }).map(r => this.#store.get(r.id))
  }

  /** The SMP results of a run (one PerformanceTestResult per scenario repeat). */
  smp (id: string): PerformanceTestResult[] {
    return this.results(this.#jobs.has(id) ? id : this.#store.getGroup(id).id)
  }

  async close (): Promise<void> {
    for (const j of this.#jobs.values()) if (j.status === 'running') j.abort.abort()
    await Promise.allSettled([...this.#jobs.values()].map(j => j.done))
    this.#store.close()
  }
}

function view (j: Job): JobView {
  return { id: j.id, name: j.name, createdAt: j.createdAt, status: j.status, scenarios: j.scenarios, error: j.error, progress: j.progress }
}

const CURVE = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100]

export function scenarioViews (results: PerformanceTestResult[], order: string[]): ScenarioView[] {
  const summary = summarizeSuite(results, order)
  return summary.filter(s => s.runs > 0).map(s => {
    const rs = results.filter(r => r.meshwork.scenario === s.scenario && r.meshwork.histogram)
    const h = rs.length === 1 ? decodeHistogram(rs[0].meshwork.histogram) : mergeHistograms(rs.map(r => r.meshwork.histogram))
    const percentiles = CURVE.map(p => ({ percentile: p, ms: h.getValueAtPercentile(p) / 1000 }))
    const lo = h.getValueAtPercentile(0)
    const hi = Math.max(lo + 1, h.getValueAtPercentile(99.9))
    // Bins from a fine percentile grid (each step is 0.1% of the requests): the public HdrHistogram API
    // gives percentiles, not counts per range, and this keeps bins exact to 0.1%.
    const n = 40
    const width = (hi - lo) / n
    const total = h.toJSON().totalCount
    const bins: ScenarioView['histogram'] = Array.from({ length: n }, (_, i) => ({ fromMs: (lo + width * i) / 1000, toMs: (lo + width * (i + 1)) / 1000, count: 0 }))
    for (let k = 0; k < 999; k++) {
      const v = h.getValueAtPercentile((k + 0.5) / 10)
      const i = Math.min(n - 1, Math.max(0, Math.floor((v - lo) / width)))
      bins[i].count += total / 1000
    }
    for (const b of bins) b.count = Math.round(b.count)
    const errors = rs.reduce((a, r) => a + Object.values(r.meshwork.errors ?? {}).reduce((x, y) => x + y, 0), 0)
    return {
      scenario: s.scenario,
      rps: s.qps,
      p50Ms: finite(s.p50),
      p90Ms: finite(s.p90),
      p99Ms: finite(s.p99),
      p999Ms: finite(s.p999),
      maxMs: rs.length > 0 ? Math.max(...rs.map(r => r.latencies.max)) : null,
      ratioP50: finite(s.p50Ratio),
      ratioP99: finite(s.p99Ratio),
      ratioRps: finite(s.qpsRatio),
      addedP50Ms: finite(s.p50AddedMs),
      addedP90Ms: finite(s.p90AddedMs),
      addedP99Ms: finite(s.p99AddedMs),
      errors,
      percentiles,
      histogram: bins,
      proxies: s.proxies.map(p => ({ name: p.name, cpuUsPerRequest: finite(p.cpuUsPerRequest), rssMb: finite(p.rssBytes / 1048576) }))
    }
  })
}
