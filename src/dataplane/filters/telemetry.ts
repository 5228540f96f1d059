/**
 * Telemetry of finished exchanges: golden metrics, tap subscribers, and the headers added upstream
 * (tracing). Called once per request from `Exchange.finish()`; nothing is done for a feature nobody uses
 * (no tap subscriber → no tap event object).
 */
import type { EndpointState } from '../resilience/endpoint-state.ts'
import type { TapEvent } from '../admin.ts'
import type { Exchange, ExchangeObserver } from './exchange.ts'
import type { ProxyTables } from './tables.ts'

const BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

/** Counters of one (direction, source, destination, route) series. */
class Series {
  readonly labels: string
  /** Requests by status code (index = status, 0 = no response). */
  readonly codes = new Float64Array(600)
  count = 0
  sum = 0
  /** Non-cumulative bucket counts (the last slot is +Inf); made cumulative at export. */
  readonly buckets = new Float64Array(BUCKETS_MS.length + 1)
  retries = 0
  constructor (labels: string) { this.labels = labels }
}

export class ProxyTelemetry implements ExchangeObserver {
  private readonly taps = new Set<(e: TapEvent) => void>()
  private readonly series = new Map<string, Series>()
  private readonly ejections = new Map<string, number>()
  private node = ''

  constructor (private readonly tables: () => ProxyTables | null) {}

  onSnapshot (t: ProxyTables): void {
    this.node = t.snapshot.node.service ?? t.snapshot.node.id
  }

  /** Extra upstream header lines for this exchange. */
  decorate (_ex: Exchange): string {
    return ''
  }

  onEnd (ex: Exchange): void {
    // Perf: a keep-alive connection mostly repeats the same route; its series is cached on the connection
    // and found with two identity comparisons instead of building and hashing a label string per request.
    const ds = ex.ds
    let s = ds.statsSlot as Series | null
    if (s === null || ds.statsKey !== ex.statsKey || ex.statsKey === null) {
      s = this.lookup(ex)
      ds.statsKey = ex.statsKey
      ds.statsSlot = s
    }
    const status = ex.status
    s.codes[status >= 0 && status < 600 ? status : 0]++
    s.count++
    const d = ex.durationMs
    s.sum += d
    let i = 0
    while (i < BUCKETS_MS.length && d > BUCKETS_MS[i]) i++
    s.buckets[i]++
    if (ex.retries > 0) s.retries += ex.retries
    if (this.taps.size > 0) this.tap(ex)
  }

  private lookup (ex: Exchange): Series {
    const src = ex.listener === 'inbound' ? (ex.source || 'unknown') : this.node
    const labels = `direction="${ex.listener}",source="${esc(src)}",destination="${esc(ex.service)}",route="${esc(ex.route)}"`
    let s = this.series.get(labels)
    if (s === undefined) this.series.set(labels, s = new Series(labels))
    return s
  }

  private tap (ex: Exchange): void {
    const e: TapEvent = {
      ts: new Date().toISOString(),
      direction: ex.listener,
      source: ex.listener === 'inbound' ? (ex.source || 'unknown') : this.node,
      service: ex.service,
      route: ex.route,
      method: ex.req.method,
      authority: ex.req.authority,
      path: ex.req.target,
      status: ex.status,
      durationMs: Math.round(ex.durationMs * 1000) / 1000,
      retries: ex.retries,
      endpoint: ex.endpointId,
      error: ex.errorCode
    }
    for (const fn of this.taps) fn(e)
  }

  onEject (cluster: string, _ep: EndpointState): void {
    this.ejections.set(cluster, (this.ejections.get(cluster) ?? 0) + 1)
  }

  subscribeTap (fn: (e: TapEvent) => void): () => void {
    this.taps.add(fn)
    return () => { this.taps.delete(fn) }
  }

  metricsText (): string {
    void this.tables
    const out: string[] = []
    out.push('# HELP meshwork_requests_total Requests by direction, source, destination, route and status code.')
    out.push('# TYPE meshwork_requests_total counter')
    for (const s of this.series.values()) {
      for (let c = 0; c < 600; c++) if (s.codes[c] > 0) out.push(`meshwork_requests_total{${s.labels},code="${c}"} ${s.codes[c]}`)
    }
    out.push('# HELP meshwork_request_duration_ms Request latency in milliseconds.')
    out.push('# TYPE meshwork_request_duration_ms histogram')
    for (const s of this.series.values()) {
      let cum = 0
      for (let i = 0; i < BUCKETS_MS.length; i++) {
        cum += s.buckets[i]
        out.push(`meshwork_request_duration_ms_bucket{${s.labels},le="${BUCKETS_MS[i]}"} ${cum}`)
      }
      out.push(`meshwork_request_duration_ms_bucket{${s.labels},le="+Inf"} ${s.count}`)
      out.push(`meshwork_request_duration_ms_sum{${s.labels}} ${s.sum}`)
      out.push(`meshwork_request_duration_ms_count{${s.labels}} ${s.count}`)
    }
    out.push('# HELP meshwork_retries_total Retries made.')
    out.push('# TYPE meshwork_retries_total counter')
    for (const s of this.series.values()) if (s.retries > 0) out.push(`meshwork_retries_total{${s.labels}} ${s.retries}`)
    out.push('# HELP meshwork_ejections_total Endpoints ejected by outlier detection.')
    out.push('# TYPE meshwork_ejections_total counter')
    for (const [k, v] of this.ejections) out.push(`meshwork_ejections_total{cluster="${esc(k)}"} ${v}`)
    return out.join('\n') + '\n'
  }

  close (): void {
    this.taps.clear()
  }
}

function esc (s: string): string {
  return s.replace(/["\\\n]/g, c => (c === '\n' ? '\\n' : '\\' + c))
}
