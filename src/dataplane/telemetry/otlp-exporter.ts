import * as http from 'node:http'
import * as https from 'node:https'

export type SpanKind = 'internal' | 'server' | 'client'
/** OTLP status codes: 0 unset, 1 ok, 2 error. */
export type SpanStatusCode = 0 | 1 | 2

/** A finished span, as the proxy records it. Times are epoch milliseconds with a fraction (see `nowMs`). */
export interface SpanData {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: SpanKind
  startTimeMs: number
  endTimeMs: number
  /** e.g. `http.request.method`, `url.path`, `http.response.status_code`, `server.address`, `meshwork.route` */
  attributes: Record<string, string | number | boolean | undefined>
  statusCode?: SpanStatusCode
  statusMessage?: string
}

export interface SpanExporterOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  endpoint: string
  /** `service.name` resource attribute. */
  serviceName: string
  /** More resource attributes (e.g. `service.version`, `meshwork.proxy.id`). */
  resource?: Record<string, string | number | boolean>
  /** Spans held before new ones are dropped. Default 2048. */
  maxQueue?: number
  /** Spans per POST; reaching it triggers a flush. Default 512. */
  maxBatch?: number
  /** Flush period. Default 1000 ms. */
  flushIntervalMs?: number
  /** Per-POST timeout. Default 5000 ms. */
  timeoutMs?: number
}

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 }

/** Epoch milliseconds with sub-millisecond precision (monotonic within the process). */
export function nowMs (): number { return performance.timeOrigin + performance.now() }

/**
 * Batches spans and POSTs them as OTLP/HTTP JSON. Bounded: when the queue is full, new spans are dropped and
 * counted (`dropped`); the request path never waits on the collector.
 *
 * ```
 *  export(span) ─► ring buffer [maxQueue] ─► every flushIntervalMs or at maxBatch ─► POST resourceSpans (one in flight)
 *                      full → dropped++                                             non-2xx / error → failed += n
 * ```
 * @example
 * const exporter = new SpanExporter({ endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'reviews' })
 * exporter.export({ traceId, spanId, name: 'GET /reviews', kind: 'server', startTimeMs, endTimeMs: nowMs(), attributes: {} })
 * await exporter.shutdown()
 */
export class SpanExporter {
  /** Spans dropped because the queue was full. */
  dropped = 0
  /** Spans the collector accepted (2xx). */
  exported = 0
  /** Spans lost to a failed POST (error, timeout or non-2xx). */
  failed = 0

  readonly #url: URL
  readonly #client: typeof http | typeof https
  readonly #agent: http.Agent
  readonly #resourceJson: string
  readonly #maxBatch: number
  readonly #timeoutMs: number
  readonly #queue: Array<SpanData | undefined>
  #head = 0
  #size = 0
  #inFlight: Promise<void> | null = null
  #timer: NodeJS.Timeout | null
  #flushScheduled = false
  #closed = false

  constructor (opts: SpanExporterOptions) {
    this.#url = new URL(opts.endpoint)
    this.#client = this.#url.protocol === 'https:' ? https : http
    this.#agent = new this.#client.Agent({ keepAlive: true, maxSockets: 1 })
    const attrs = encodeAttributes({ 'service.name': opts.serviceName, ...opts.resource })
    this.#resourceJson = JSON.stringify({ attributes: attrs })
    this.#queue = new Array(opts.maxQueue ?? 2048)
    this.#maxBatch = opts.maxBatch ?? 512
    this.#timeoutMs = opts.timeoutMs ?? 5000
    this.#timer = setInterval(() => { this.#startFlush() }, opts.flushIntervalMs ?? 1000)
    this.#timer.unref()
  }

  /** Spans waiting to be sent. */
  get queued (): number { return this.#size }

  /** Queues a finished span; O(1), never blocks. */
  export (span: SpanData): void {
    if (this.#closed || this.#size === this.#queue.length) { this.dropped++; return }
    this.#queue[(this.#head + this.#size) % this.#queue.length] = span
    this.#size++
    if (this.#size >= this.#maxBatch && !this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => { this.#flushScheduled = false; this.#startFlush() })
    }
  }

  /** Sends everything queued now (waits for an in-flight POST first). */
  async flush (): Promise<void> {
    while (this.#inFlight !== null || this.#size > 0) {
      if (this.#inFlight !== null) await this.#inFlight
      else this.#startFlush()
    }
  }

  /** Stops the timer, sends what is queued, and closes the connection. Later spans are dropped. */
  async shutdown (): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) { clearInterval(this.#timer); this.#timer = null }
    await this.flush()
    this.#agent.destroy()
  }

  #startFlush (): void {
    if (this.#inFlight !== null || this.#size === 0) return
    const n = Math.min(this.#size, this.#maxBatch)
    const batch: SpanData[] = new Array(n)
    for (let i = 0; i < n; i++) {
      batch[i] = this.#queue[this.#head]!
      this.#queue[this.#head] = undefined
      this.#head = (this.#head + 1) % this.#queue.length
    }
    this.#size -= n
    this.#inFlight = this.#post(batch).then(ok => {
      if (ok) this.exported += n
      else this.failed += n
    }).finally(() => {
      this.#inFlight = null
      if (this.#size >= this.#maxBatch) this.#startFlush()
    })
  }

  #post (batch: SpanData[]): Promise<boolean> {
    const body = this.#encode(batch)
    return new Promise(resolve => {
      const req = this.#client.request(this.#url, {
        method: 'POST',
        agent: this.#agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: this.#timeoutMs
      }, res => {
        res.resume()
        res.on('end', () => resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300))
        res.on('error', () => resolve(false))
      })
      req.on('timeout', () => req.destroy(new Error('OTLP export timed out')))
      req.on('error', () => resolve(false))
      req.end(body)
    })
  }

  /** OTLP/HTTP JSON: resourceSpans → scopeSpans → spans; ids as hex, times as decimal nanosecond strings. */
  #encode (batch: SpanData[]): string {
    const spans: string[] = new Array(batch.length)
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]
      spans[i] = JSON.stringify({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        kind: KIND[s.kind],
        startTimeUnixNano: msToNanoString(s.startTimeMs),
        endTimeUnixNano: msToNanoString(s.endTimeMs),
        attributes: encodeAttributes(s.attributes),
        status: s.statusMessage !== undefined ? { code: s.statusCode ?? 0, message: s.statusMessage } : { code: s.statusCode ?? 0 }
      })
    }
    return `{"resourceSpans":[{"resource":${this.#resourceJson},"scopeSpans":[{"scope":{"name":"meshwork"},"spans":[${spans.join(',')}]}]}]}`
  }
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean }

/** OTLP KeyValue list; integers are strings (int64 in proto3 JSON); undefined values are left out. */
export function encodeAttributes (attrs: Record<string, string | number | boolean | undefined>): Array<{ key: string, value: AnyValue }> {
  const out: Array<{ key: string, value: AnyValue }> = []
  for (const key in attrs) {
    const v = attrs[key]
    if (v === undefined) continue
    if (typeof v === 'string') out.push({ key, value: { stringValue: v } })
    else if (typeof v === 'boolean') out.push({ key, value: { boolValue: v } })
    else if (Number.isInteger(v)) out.push({ key, value: { intValue: String(v) } })
    else out.push({ key, value: { doubleValue: v } })
  }
  return out
}

/** Epoch ms (fractional) → decimal nanoseconds string without float overflow (ns since 1970 exceed 2^53). */
export function msToNanoString (ms: number): string {
  let whole = Math.floor(ms)
  let frac = Math.round((ms - whole) * 1e6)
  if (frac >= 1e6) { whole += 1; frac -= 1e6 }
  return whole === 0 ? String(frac) : `${whole}${String(frac).padStart(6, '0')}`
}
