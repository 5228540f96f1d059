/**
 * Telemetry of the request pipeline, wired from src/dataplane/telemetry: golden metrics per
 * direction/source/destination/route, W3C trace context (B3 accepted) with one span per request per hop
 * exported over OTLP/HTTP, the JSON access log and the tap hub.
 *
 *   decorate(ex)  before forwarding: continue or start the trace, return the `traceparent` line for upstream
 *   onEnd(ex)     once per request: metrics (series cached on the connection), span, access log, tap
 *
 * Nothing is done for a feature the snapshot leaves off (no exporter → no span object; no tap subscriber →
 * no tap event; tracing disabled → no trace headers touched).
 */
import type { ServerResponse, IncomingMessage } from 'node:http'
import type { EndpointState } from '../resilience/endpoint-state.ts'
import { removeHeader } from '../router/header-ops.ts'
import { AccessLog } from '../telemetry/access-log.ts'
import { createGoldenMetrics, type Direction, type GoldenMetrics, type RouteMetrics } from '../telemetry/golden.ts'
import { Registry } from '../telemetry/metrics.ts'
import { nowMs, SpanExporter } from '../telemetry/otlp-exporter.ts'
import { registerPauseMetrics } from '../telemetry/pause-metrics.ts'
import { registerProcessMetrics } from '../telemetry/process-metrics.ts'
import { headerForTelemetry, headersForTelemetry, redactionSet } from '../telemetry/redact.ts'
import { createTapHandler, TapHub } from '../telemetry/tap.ts'
import { extractTraceContext, formatTraceparent, type Sampler, samplerFor, type SpanContext, startSpan } from '../telemetry/trace-context.ts'
import type { Exchange, ExchangeObserver } from './exchange.ts'
import type { ProxyTables } from './tables.ts'

interface TracingState {
  sampler: Sampler
  exporter: SpanExporter | null
}

export class ProxyTelemetry implements ExchangeObserver {
  readonly registry = new Registry()
  readonly golden: GoldenMetrics
  readonly tap = new TapHub()
  readonly tapHandler: (req: IncomingMessage, res: ServerResponse) => void
  private tracing: TracingState | null = null
  private accessLog: AccessLog | null = null
  private accessLogPath: string | null = null
  private exporterKey = ''
  private node = ''
  /** Header names whose values telemetry shows as `[redacted]` (redact.ts + MeshConfig telemetry.redactHeaders). */
  private redact: ReadonlySet<string> = redactionSet()
  private redactKey = ''
  private readonly stopProcessMetrics: () => void

  constructor () {
    this.golden = createGoldenMetrics(this.registry)
    const stopProcess = registerProcessMetrics(this.registry)
    const stopPauses = registerPauseMetrics(this.registry)
    this.stopProcessMetrics = () => { stopProcess(); stopPauses() }
    this.tapHandler = createTapHandler(this.tap)
  }

  /** A snapshot was applied: set up tracing, exporter and access log as its MeshConfig says. */
  onSnapshot (t: ProxyTables): void {
    const snap = t.snapshot
    this.node = snap.node.service ?? snap.node.id
    this.golden.configApplied(t.version)
    const extra = snap.mesh.telemetry.redactHeaders
    if (extra.join(',') !== this.redactKey) { this.redact = redactionSet(extra); this.redactKey = extra.join(',') }
    const tr = snap.mesh.tracing
    if (!tr.enabled) {
      this.tracing = null
    } else {
      const key = `${tr.otlpEndpoint ?? ''}|${this.node}`
      let exporter = this.tracing?.exporter ?? null
      if (key !== this.exporterKey) {
        void exporter?.shutdown()
        exporter = tr.otlpEndpoint !== undefined
          ? new SpanExporter({ endpoint: tr.otlpEndpoint, serviceName: this.node, resource: { 'meshwork.proxy.id': snap.node.id, 'service.version': snap.node.version ?? '' } })
          : null
        this.exporterKey = key
      }
      this.tracing = { sampler: samplerFor(tr), exporter }
    }
    const al = snap.mesh.accessLog
    const path = al.enabled ? al.path : null
    if (path !== this.accessLogPath) {
      void this.accessLog?.close()
      this.accessLog = path !== null ? new AccessLog({ path }) : null
      this.accessLogPath = path
    }
  }

  onSnapshotRejected (): void {
    this.golden.configRejected()
  }

  /**
   * Before forwarding: the span of this hop (continuing the caller's trace, W3C or B3) and the
   * `traceparent`/`tracestate` lines for upstream. The caller's trace headers are replaced.
   */
  decorate (ex: Exchange): string {
    const tr = this.tracing
    if (tr === null) return ''
    const headers = ex.req.headers
    const span = startSpan(extractTraceContext(headers), tr.sampler)
    ex.trace = span
    removeHeader(headers, 'traceparent')
    removeHeader(headers, 'tracestate')
    // B3 from the caller was turned into the W3C context: do not forward a stale B3 parent next to it
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i]
      if (n === 'b3' || n.startsWith('x-b3-')) { removeB3(headers); break }
    }
    let out = 'traceparent: ' + formatTraceparent(span.traceId, span.spanId, span.sampled) + '\r\n'
    if (span.tracestate !== '') out += 'tracestate: ' + span.tracestate + '\r\n'
    return out
  }

  onEnd (ex: Exchange): void {
    // Perf: a keep-alive connection mostly repeats the same route; its series is cached on the connection
    // and found with two identity comparisons instead of four Map lookups per request.
    const ds = ex.ds
    let m = ds.statsSlot as RouteMetrics | null
    if (m === null || ds.statsKey !== ex.statsKey || ex.statsKey === null || ds.statsVersion !== ex.endpointVersion) {
      m = this.golden.forRoute(ex.listener as Direction, this.sourceOf(ex), ex.service || 'unknown', ex.endpointVersion, ex.route || 'none')
      ds.statsKey = ex.statsKey
      ds.statsSlot = m
      ds.statsVersion = ex.endpointVersion
    }
    m.record(ex.status, ex.durationMs / 1000, ex.bytesIn, ex.bytesOut, ex.grpcStatus)
    if (ex.retries > 0) m.retries.inc(ex.retries)
    if (ex.errorCode !== null) m.errorCounter(this.golden.errors, ex.errorCode).inc()
    const span = ex.trace as SpanContext | null
    if (span !== null && span.sampled && this.tracing?.exporter) this.exportSpan(ex, span, this.tracing.exporter)
    if (this.accessLog !== null) this.log(ex, this.accessLog, span)
    if (this.tap.hasSubscribers) {
      this.tap.publish({
        time: Date.now() - ex.durationMs,
        direction: ex.listener,
        source: this.sourceOf(ex),
        destination: ex.service,
        destination_version: ex.endpointVersion || undefined,
        route: ex.route,
        method: ex.req.method,
        authority: ex.req.authority,
        path: ex.req.target,
        status: ex.status,
        duration_ms: Math.round(ex.durationMs * 1000) / 1000,
        upstream: ex.upstream || undefined,
        trace_id: span?.traceId,
        error_code: ex.errorCode ?? undefined,
        grpc_status: ex.grpcStatus >= 0 ? ex.grpcStatus : undefined,
        protocol: ex.ds.h2 ? 'HTTP/2' : 'HTTP/1.1',
        // only built when someone taps; credentials redacted
        request_headers: headersForTelemetry(ex.req.headers, this.redact)
      })
    }
  }

  onEject (cluster: string, ep: EndpointState): void {
    this.golden.outlierEjections.labels(cluster, ep.id).inc()
  }

  metricsText (): string {
    return this.registry.render()
  }

  async close (): Promise<void> {
    this.stopProcessMetrics()
    await Promise.all([this.tracing?.exporter?.shutdown(), this.accessLog?.close()])
    this.tracing = null
    this.accessLog = null
  }

  private sourceOf (ex: Exchange): string {
    return ex.listener === 'inbound' ? (ex.source || 'unknown') : this.node
  }

  private exportSpan (ex: Exchange, span: SpanContext, exporter: SpanExporter): void {
    const end = nowMs()
    const kind = ex.listener === 'inbound' ? 'server' : 'client'
    const attributes: Record<string, string | number | boolean | undefined> = {
      'http.request.method': ex.req.method,
      'url.path': ex.req.target,
      'http.response.status_code': ex.status,
      'server.address': ex.req.authority,
      'meshwork.direction': ex.listener,
      'meshwork.source': this.sourceOf(ex),
      'meshwork.destination': ex.service,
      'meshwork.route': ex.route,
      'meshwork.upstream': ex.upstream || undefined,
      'meshwork.retries': ex.retries,
      'meshwork.error_code': ex.errorCode ?? undefined,
      'network.protocol.version': ex.ds.h2 ? '2' : '1.1',
      'user_agent.original': headerForTelemetry(ex.req.headers, 'user-agent', this.redact)
    }
    let name = `${ex.req.method} ${ex.service || ex.req.authority}`
    let failed = ex.status >= 500 || ex.errorCode !== null
    if (ex.grpc) {
      // OpenTelemetry RPC conventions: name `pkg.Service/Method`, rpc.* attributes
      const rpc = grpcMethodOf(ex.req.target)
      attributes['rpc.system'] = 'grpc'
      if (rpc !== null) { attributes['rpc.service'] = rpc.service; attributes['rpc.method'] = rpc.method; name = rpc.service + '/' + rpc.method }
      if (ex.grpcStatus >= 0) attributes['rpc.grpc.status_code'] = ex.grpcStatus
      failed = ex.errorCode !== null || grpcFailed(ex.grpcStatus, kind)
    }
    exporter.export({
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name,
      kind,
      startTimeMs: end - ex.durationMs,
      endTimeMs: end,
      attributes,
      statusCode: failed ? 2 : 0,
      statusMessage: ex.errorCode ?? undefined
    })
  }

  private log (ex: Exchange, log: AccessLog, span: SpanContext | null): void {
    log.log({
      time: Date.now() - ex.durationMs,
      direction: ex.listener,
      method: ex.req.method,
      authority: ex.req.authority,
      path: ex.req.target,
      status: ex.status,
      duration_ms: Math.round(ex.durationMs * 1000) / 1000,
      bytes_in: ex.bytesIn,
      bytes_out: ex.bytesOut,
      upstream: ex.upstream || undefined,
      source: this.sourceOf(ex),
      route: ex.route,
      trace_id: span?.traceId,
      error_code: ex.errorCode ?? undefined,
      grpc_status: ex.grpcStatus >= 0 ? ex.grpcStatus : undefined,
      protocol: ex.ds.h2 ? 'HTTP/2' : 'HTTP/1.1',
      user_agent: headerForTelemetry(ex.req.headers, 'user-agent', this.redact),
      request_id: headerForTelemetry(ex.req.headers, 'x-request-id', this.redact)
    })
  }
}

/** `/pkg.Service/Method` (gRPC's `:path`) → its service and method, or null for another shape. */
export function grpcMethodOf (path: string): { service: string, method: string } | null {
  const slash = path.indexOf('/', 1)
  if (path.charCodeAt(0) !== 47 || slash <= 1 || slash === path.length - 1) return null
  const q = path.indexOf('?')
  return { service: path.slice(1, slash), method: path.slice(slash + 1, q === -1 ? path.length : q) }
}

/**
 * Whether a gRPC status makes a span an error (OpenTelemetry RPC spans): any non-OK status on the client side;
 * on the server side only UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS.
 */
function grpcFailed (status: number, kind: 'server' | 'client'): boolean {
  if (status <= 0) return false
  if (kind === 'client') return true
  return status === 2 || status === 4 || status === 12 || status === 13 || status === 14 || status === 15
}

function removeB3 (headers: string[]): void {
  for (const n of ['b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags']) removeHeader(headers, n)
}
