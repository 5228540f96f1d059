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

interface Series {
  labels: string
  count: number
  sum: number
  buckets: Float64Array
}

export class ProxyTelemetry implements ExchangeObserver {
  private readonly taps = new Set<(e: TapEvent) => void>()
  private readonly requests = new Map<string, number>()
  private readonly latency = new Map<string, Series>()
  private readonly retries = new Map<string, number>()
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
    const src = ex.listener === 'inbound' ? (ex.source || 'unknown') : this.node
    const labels = `direction="${ex.listener}",source="${esc(src)}",destination="${esc(ex.service)}",route="${esc(ex.route)}"`
    const key = labels + `,code="${ex.status}"`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    let s = this.latency.get(labels)
    if (s === undefined) this.latency.set(labels, s = { labels, count: 0, sum: 0, buckets: new Float64Array(BUCKETS_MS.length) })
    s.count++
    s.sum += ex.durationMs
    for (let i = 0; i < BUCKETS_MS.length; i++) if (ex.durationMs <= BUCKETS_MS[i]) s.buckets[i]++
    if (ex.retries > 0) this.retries.set(labels, (this.retries.get(labels) ?? 0) + ex.retries)
    if (this.taps.size > 0) {
      const e: TapEvent = {
        ts: new Date().toISOString(),
        direction: ex.listener,
        source: src,
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
    for (const [k, v] of this.requests) out.push(`meshwork_requests_total{${k}} ${v}`)
    out.push('# HELP meshwork_request_duration_ms Request latency in milliseconds.')
    out.push('# TYPE meshwork_request_duration_ms histogram')
    for (const s of this.latency.values()) {
      for (let i = 0; i < BUCKETS_MS.length; i++) out.push(`meshwork_request_duration_ms_bucket{${s.labels},le="${BUCKETS_MS[i]}"} ${s.buckets[i]}`)
      out.push(`meshwork_request_duration_ms_bucket{${s.labels},le="+Inf"} ${s.count}`)
      out.push(`meshwork_request_duration_ms_sum{${s.labels}} ${s.sum}`)
      out.push(`meshwork_request_duration_ms_count{${s.labels}} ${s.count}`)
    }
    out.push('# HELP meshwork_retries_total Retries made.')
    out.push('# TYPE meshwork_retries_total counter')
    for (const [k, v] of this.retries) out.push(`meshwork_retries_total{${k}} ${v}`)
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
