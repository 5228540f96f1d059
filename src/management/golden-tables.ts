import type { ScrapeTarget } from './metrics-collector.ts'
import { isFailure } from './metrics-collector.ts'
import { histogramQuantile, type Sample } from './prom-text.ts'

// Golden-metric tables like `linkerd viz stat` / `linkerd viz routes`: success rate, request rate and latency
// percentiles per service, per workload (proxy), per route and per (source → destination), from counter and histogram
// deltas between two scrapes of the proxies' /metrics, with a bounded history per row for charts.

export type GoldenBy = 'service' | 'workload' | 'route' | 'source'
export const GOLDEN_BY: readonly GoldenBy[] = ['service', 'workload', 'route', 'source']

export interface GoldenRow {
  /** service: the service; workload: the proxy id; route: `service/route`; source: `source->service`. */
  key: string
  service: string
  workload?: string
  version?: string
  route?: string
  source?: string
  rps: number
  /** 0..1; null with no requests in the interval. */
  successRate: number | null
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
}
export interface GoldenPoint { t: number, rps: number, successRate: number | null, p50Ms: number | null, p95Ms: number | null, p99Ms: number | null }

interface Acc { row: Omit<GoldenRow, 'rps' | 'successRate' | 'p50Ms' | 'p95Ms' | 'p99Ms'>, requests: number, errors: number, buckets: Map<number, number> }

const REQUESTS = 'meshwork_requests_total'
const BUCKET = 'meshwork_request_duration_seconds_bucket'

/**
 * Which rows a sample counts in. The callee's inbound side gives service, workload and route rows (what the server
 * saw); the callers' outbound side (and the gateways') gives the by-source rows, as the edges of the topology.
 */
function keysOf (target: ScrapeTarget, s: Sample): Array<[string, Acc['row']]> {
  const destination = s.labels.destination
  if (destination === undefined || destination === '') return []
  if (s.labels.direction === 'inbound') {
    const out: Array<[string, Acc['row']]> = [
      [`service|${destination}`, { key: destination, service: destination }],
      [`workload|${target.proxyId}`, { key: target.proxyId, service: destination, workload: target.proxyId, version: target.version }]
    ]
    const route = s.labels.route
    if (route !== undefined && route !== '') out.push([`route|${destination}/${route}`, { key: `${destination}/${route}`, service: destination, route }])
    return out
  }
  const source = target.role === 'sidecar' ? (target.service ?? s.labels.source ?? 'unknown') : target.role
  return [[`source|${source}->${destination}`, { key: `${source}->${destination}`, service: destination, source }]]
}

export class GoldenTables {
  readonly #historyLength: number
  #prev = new Map<string, Acc>()
  #prevAt = 0
  #rows = new Map<string, GoldenRow>()
  #history = new Map<string, GoldenPoint[]>()
  updatedAt = 0

  constructor (opts: { historyLength?: number } = {}) {
    this.#historyLength = opts.historyLength ?? 900
  }

  /** Fold one scrape in (MetricsCollector.onSamples). */
  ingest (results: ReadonlyArray<{ target: ScrapeTarget, samples: Sample[] }>, at: number): void {
    const cur = new Map<string, Acc>()
    for (const { target, samples } of results) {
      for (const s of samples) {
        const isReq = s.name === REQUESTS
        if (!isReq && s.name !== BUCKET) continue
        for (const [k, row] of keysOf(target, s)) {
          let a = cur.get(k)
          if (a === undefined) cur.set(k, a = { row, requests: 0, errors: 0, buckets: new Map() })
          if (isReq) {
            a.requests += s.value
            if (isFailure(s.labels.code, s.labels.grpc_status)) a.errors += s.value
          } else {
            const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
            a.buckets.set(le, (a.buckets.get(le) ?? 0) + s.value)
          }
        }
      }
    }
    const dt = this.#prevAt === 0 ? 0 : (at - this.#prevAt) / 1000
    const rows = new Map<string, GoldenRow>()
    for (const [k, a] of cur) {
      const p = this.#prev.get(k)
      const requests = p === undefined || dt <= 0 ? 0 : Math.max(0, a.requests - p.requests)
      const errors = p === undefined || dt <= 0 ? 0 : Math.max(0, a.errors - p.errors)
      const buckets: Array<{ le: number, count: number }> = []
      if (p !== undefined) for (const [le, c] of a.buckets) buckets.push({ le, count: Math.max(0, c - (p.buckets.get(le) ?? 0)) })
      const q = (x: number): number | null => { const v = histogramQuantile(x, buckets); return v === null ? null : v * 1000 }
      const row: GoldenRow = { ...a.row, rps: dt > 0 ? requests / dt : 0, successRate: requests > 0 ? (requests - errors) / requests : null, p50Ms: q(0.5), p95Ms: q(0.95), p99Ms: q(0.99) }
      rows.set(k, row)
      if (dt <= 0) continue
      let h = this.#history.get(k)
      if (h === undefined) this.#history.set(k, h = [])
      h.push({ t: at, rps: row.rps, successRate: row.successRate, p50Ms: row.p50Ms, p95Ms: row.p95Ms, p99Ms: row.p99Ms })
      if (h.length > this.#historyLength) h.splice(0, h.length - this.#historyLength)
    }
    this.#rows = rows
    this.#prev = cur
    this.#prevAt = at
    this.updatedAt = at
  }

  /** Rows of one table, optionally of one service only, sorted by key. */
  rows (by: GoldenBy, service?: string): GoldenRow[] {
    const out: GoldenRow[] = []
    for (const [k, r] of this.#rows) if (k.startsWith(`${by}|`) && (service === undefined || r.service === service)) out.push(r)
    return out.sort((a, b) => a.key.localeCompare(b.key))
  }

  /** A row's points since `sinceMs` (epoch ms). */
  history (by: GoldenBy, key: string, sinceMs = 0): GoldenPoint[] {
    return (this.#history.get(`${by}|${key}`) ?? []).filter(p => p.t >= sinceMs)
  }
}
