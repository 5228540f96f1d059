/**
 * Keeps the most recent traces received over OTLP/HTTP JSON (`POST /v1/traces`), grouped by trace id,
 * for the UI's waterfall. Bounded: the oldest trace is dropped when the store is full.
 */
export interface StoredSpan {
  traceId: string
  spanId: string
  parentSpanId: string | null
  name: string
  kind: number
  service: string
  startMs: number
  endMs: number
  status: number | null
  attributes: Record<string, string | number | boolean>
}

export interface TraceSummary {
  traceId: string
  root: string
  services: string[]
  startMs: number
  durationMs: number
  spans: number
  error: boolean
}

export class TraceStore {
  #traces = new Map<string, StoredSpan[]>()
  #max: number
  received = 0
  rejected = 0

  constructor (opts: { maxTraces?: number } = {}) {
    this.#max = opts.maxTraces ?? 500
  }

  /** Ingest an OTLP/HTTP JSON `ExportTraceServiceRequest`; returns how many spans were accepted. */
  ingest (body: unknown): number {
    let n = 0
    const resourceSpans = (body as { resourceSpans?: unknown[] })?.resourceSpans
    if (!Array.isArray(resourceSpans)) { this.rejected++; return 0 }
    for (const rs of resourceSpans as any[]) {
      const resAttrs = attributesOf(rs?.resource?.attributes)
      const service = String(resAttrs['service.name'] ?? 'unknown')
      for (const ss of (Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : []) as any[]) {
        for (const s of (Array.isArray(ss?.spans) ? ss.spans : []) as any[]) {
          if (typeof s?.traceId !== 'string' || typeof s?.spanId !== 'string') continue
          const span: StoredSpan = {
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: typeof s.parentSpanId === 'string' && s.parentSpanId !== '' ? s.parentSpanId : null,
            name: String(s.name ?? ''),
            kind: Number(s.kind ?? 0),
            service,
            startMs: nanosToMs(s.startTimeUnixNano),
            endMs: nanosToMs(s.endTimeUnixNano),
            status: typeof s.status?.code === 'number' ? s.status.code : null,
            attributes: attributesOf(s.attributes)
          }
          this.#add(span)
          n++
        }
      }
    }
    this.received += n
    return n
  }

  #add (span: StoredSpan): void {
    let list = this.#traces.get(span.traceId)
    if (list === undefined) {
      if (this.#traces.size >= this.#max) {
        const oldest = this.#traces.keys().next().value
        if (oldest !== undefined) this.#traces.delete(oldest)
      }
      this.#traces.set(span.traceId, list = [])
    }
    if (list.length < 1000) list.push(span)
  }

  list (limit = 50, service?: string): TraceSummary[] {
    const out: TraceSummary[] = []
    const ids = [...this.#traces.keys()].reverse()
    for (const id of ids) {
      const spans = this.#traces.get(id)!
      const services = [...new Set(spans.map(s => s.service))]
      if (service !== undefined && service !== '' && !services.includes(service)) continue
      const start = Math.min(...spans.map(s => s.startMs))
      const end = Math.max(...spans.map(s => s.endMs))
      const root = spans.find(s => s.parentSpanId === null || !spans.some(p => p.spanId === s.parentSpanId)) ?? spans[0]
      out.push({
        traceId: id,
        root: `${root.service}: ${root.name}`,
        services,
        startMs: start,
        durationMs: end - start,
        spans: spans.length,
        error: spans.some(s => s.status === 2 || Number(s.attributes['http.response.status_code'] ?? 0) >= 500)
      })
      if (out.length >= limit * 2) break
    }
    // Newest first by start time (spans of one trace arrive from several proxies in any order).
    return out.sort((a, b) => b.startMs - a.startMs).slice(0, limit)
  }

  get (traceId: string): StoredSpan[] | null {
    const spans = this.#traces.get(traceId)
    return spans === undefined ? null : [...spans].sort((a, b) => a.startMs - b.startMs)
  }
}

function nanosToMs (v: unknown): number {
  if (typeof v === 'string') return Number(BigInt(v) / 1000n) / 1000
  if (typeof v === 'number') return v / 1e6
  return 0
}

function attributesOf (list: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  if (!Array.isArray(list)) return out
  for (const a of list as any[]) {
    if (typeof a?.key !== 'string') continue
    const v = a.value ?? {}
    if ('stringValue' in v) out[a.key] = String(v.stringValue)
    else if ('intValue' in v) out[a.key] = Number(v.intValue)
    else if ('doubleValue' in v) out[a.key] = Number(v.doubleValue)
    else if ('boolValue' in v) out[a.key] = Boolean(v.boolValue)
  }
  return out
}
