import type { IncomingMessage, ServerResponse } from 'node:http'

/** One request seen by the proxy, as streamed to tap subscribers. */
export interface TapEvent {
  /** Epoch ms of the request start. */
  time: number
  direction: string
  /** Caller: SPIFFE ID (inbound) or local service (outbound). */
  source?: string
  destination: string
  destination_version?: string
  route?: string
  method: string
  authority: string
  path: string
  status: number
  duration_ms: number
  upstream?: string
  trace_id?: string
  error_code?: string
  /** gRPC status of a gRPC request. */
  grpc_status?: number
  /** `HTTP/1.1` or `HTTP/2`: how the request arrived. */
  protocol?: string
  /** Request headers as forwarded; credentials show as `[redacted]` (redact.ts, MeshConfig telemetry.redactHeaders). */
  request_headers?: Record<string, string>
}

export interface TapFilter {
  /** Events whose destination is this service, or whose source is it (name or `…/sa/<service>` identity). */
  service?: string
  direction?: string
}

/** Where a subscription's lines go. `write` returns false when the consumer is full (like `stream.write`). */
export interface TapSink {
  write (line: string): boolean
  /** Called when the subscription ends because its limit was reached. */
  end? (): void
}

const DEFAULT_BUFFER = 256

/**
 * A live subscription. While the sink is full, events wait in a bounded ring buffer; when that is full too,
 * new events are dropped and counted. Call `resume()` when the sink can take more.
 *
 * ```
 *  publish ─► filter ─► sink.write(line) ── false ─► paused: ring[bufferSize] ── full → dropped++
 *                                                        ▲ resume() drains it into the sink
 * ```
 */
export class TapSubscription {
  dropped = 0
  delivered = 0
  readonly filter: TapFilter
  readonly #sink: TapSink
  readonly #limit: number
  readonly #hub: TapHub
  readonly #ring: Array<string | undefined>
  #head = 0
  #size = 0
  #paused = false
  #closed = false
  readonly #saSuffix: string

  constructor (hub: TapHub, filter: TapFilter, sink: TapSink, limit: number, bufferSize: number) {
    this.#hub = hub
    this.filter = filter
    this.#saSuffix = filter.service !== undefined ? `/sa/${filter.service}` : ''
    this.#sink = sink
    this.#limit = limit
    this.#ring = new Array(bufferSize)
  }

  get closed (): boolean { return this.#closed }

  matches (e: TapEvent): boolean {
    const f = this.filter
    if (f.direction !== undefined && e.direction !== f.direction) return false
    if (f.service === undefined) return true
    if (e.destination === f.service || e.source === f.service) return true
    return e.source !== undefined && this.#saSuffix !== '' && e.source.endsWith(this.#saSuffix)
  }

  /** @internal called by the hub */
  offer (line: string): void {
    if (this.#closed) return
    if (this.#paused) {
      if (this.#size === this.#ring.length) { this.dropped++; return }
      this.#ring[(this.#head + this.#size) % this.#ring.length] = line
      this.#size++
      return
    }
    this.#deliver(line)
  }

  /** The sink can take more: deliver what waited, in order. */
  resume (): void {
    this.#paused = false
    while (this.#size > 0 && !this.#paused && !this.#closed) {
      const line = this.#ring[this.#head]!
      this.#ring[this.#head] = undefined
      this.#head = (this.#head + 1) % this.#ring.length
      this.#size--
      this.#deliver(line)
    }
  }

  unsubscribe (): void {
    if (this.#closed) return
    this.#closed = true
    this.#size = 0
    this.#ring.fill(undefined)
    this.#hub.remove(this)
  }

  #deliver (line: string): void {
    this.delivered++
    if (!this.#sink.write(line)) this.#paused = true
    if (this.delivered >= this.#limit) {
      this.unsubscribe()
      this.#sink.end?.()
    }
  }
}

/**
 * Fan-out of live request events to tap subscribers. On the hot path, check `hasSubscribers` before building
 * an event: with no subscriber, tapping costs one property read.
 * @example
 * if (tap.hasSubscribers) tap.publish({ time, direction: 'inbound', destination: 'reviews', method, authority, path, status, duration_ms })
 */
export class TapHub {
  /** Perf: a plain field (not a getter over the list) so the hot-path check is a single load. */
  hasSubscribers = false
  #subs: TapSubscription[] = []

  /** Starts a subscription; `limit` events at most (then the sink's `end` is called). */
  subscribe (filter: TapFilter, sink: TapSink, opts: { limit?: number, bufferSize?: number } = {}): TapSubscription {
    const sub = new TapSubscription(this, filter, sink, opts.limit ?? Number.POSITIVE_INFINITY, opts.bufferSize ?? DEFAULT_BUFFER)
    this.#subs = [...this.#subs, sub]
    this.hasSubscribers = true
    return sub
  }

  /** Number of live subscriptions. */
  get size (): number { return this.#subs.length }

  /** Sends the event to every matching subscriber; serialised once, only if someone matches. */
  publish (e: TapEvent): void {
    // Copy-on-write list: a subscriber that unsubscribes during delivery does not disturb this loop.
    const subs = this.#subs
    let line: string | undefined
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]
      if (!s.matches(e)) continue
      if (line === undefined) line = JSON.stringify(e) + '\n'
      s.offer(line)
    }
  }

  /** @internal */
  remove (sub: TapSubscription): void {
    this.#subs = this.#subs.filter(s => s !== sub)
    this.hasSubscribers = this.#subs.length > 0
  }
}

/**
 * HTTP handler for `GET /tap?service=<name>&direction=<inbound|outbound|gateway>&limit=<n>`: streams matching
 * events as NDJSON until `limit` events were sent or the client goes away. The admin server mounts it.
 * A bad `limit` answers 400 with `x-meshwork-error: MESH_ERR_BAD_REQUEST`.
 * @example if (url.pathname === '/tap') return tapHandler(req, res)
 */
export function createTapHandler (hub: TapHub, opts: { defaultLimit?: number, maxLimit?: number, bufferSize?: number } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const defaultLimit = opts.defaultLimit ?? 100
  const maxLimit = opts.maxLimit ?? 10_000
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin')
    const limitParam = url.searchParams.get('limit')
    const limit = limitParam === null ? defaultLimit : Number(limitParam)
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      res.writeHead(400, { 'content-type': 'text/plain', 'x-meshwork-error': 'MESH_ERR_BAD_REQUEST' })
      res.end(`MESH_ERR_BAD_REQUEST: limit must be an integer from 1 to ${maxLimit}\n`)
      return
    }
    const filter: TapFilter = {}
    const service = url.searchParams.get('service')
    if (service !== null && service !== '') filter.service = service
    const direction = url.searchParams.get('direction')
    if (direction !== null && direction !== '') filter.direction = direction
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    res.flushHeaders()
    const sub = hub.subscribe(filter, {
      write: line => res.write(line),
      end: () => res.end()
    }, { limit, bufferSize: opts.bufferSize })
    res.on('drain', () => sub.resume())
    res.on('close', () => sub.unsubscribe())
  }
}
