/**
 * One request forwarded to one cluster: picks an endpoint, takes a pooled connection, streams the request
 * body up and the response down (no copies, backpressure both ways), and applies the route's resiliency:
 * per-try timeout, overall deadline, retries within the retry budget (only when the request body was
 * small enough to keep, ≤ {@link MAX_REPLAY_BYTES}), outlier detection, circuit breaker.
 *
 *   start ─▶ PICK ─▶ CONNECT (idle conn, or dial) ─▶ SENT ─head─▶ RESPONDING ─end─▶ DONE
 *              ▲                                      │ retryable status / reset / per-try timeout
 *              └────────── backoff ◀──────────────────┘ (attempts left, budget, deadline, replayable body)
 *
 * A WebSocket upgrade (`Connection: upgrade`, `Upgrade: websocket`) is forwarded with its upgrade headers and
 * never retried; a 101 from upstream turns the exchange into a TUNNEL (filters/tunnel.ts) that ends, and is
 * reported to telemetry with status 101 and the tunnel's duration, when either side closes.
 *
 * gRPC (`req.grpc`, classified once by the parser): errors the proxy makes are trailers-only gRPC statuses
 * (grpc/status.ts), the `grpc-status` of a trailers-only response head is retried on `RetryPolicy.grpcCodes`
 * (as Envoy reads it), the status of the head or of the trailers is kept for telemetry (`grpcStatus`), and the
 * remaining deadline is forwarded as `grpc-timeout` too. Each try picks HTTP/1.1 or h2 for its endpoint
 * (upstream/pool.ts `usesH2`: h2 in → h2 to a peer sidecar).
 */
import {
  CircuitOpenError, DeadlineExceededError, MeshError, NoHealthyUpstreamError, UpstreamConnectError,
  UpstreamResetError, UpstreamTimeoutError
} from '../../errors.ts'
import { getHeader, type ResponseHead, type RequestHead } from '../http1/head-parser.ts'
import { ChunkDecoder } from '../http1/chunk-codec.ts'
import { serializeResponseHead } from '../http1/serialize.ts'
import { GRPC_TIMEOUT_HEADER } from '../grpc/deadline.ts'
import { grpcStatusForError, parseGrpcStatus } from '../grpc/status.ts'
import type { BodySink, Downstream } from '../listeners/downstream-connection.ts'
import { FastTimer, now, preciseNow } from '../resilience/clock.ts'
import { formatTimeoutHeader, TIMEOUT_HEADER } from '../resilience/deadline.ts'
import type { EndpointState } from '../resilience/endpoint-state.ts'
import { applyHeaderOps, type HeaderOps } from '../router/header-ops.ts'
import { backoffMs, isRetryableParts, type RetryPolicy } from '../resilience/retry.ts'
import { type EndpointPool, usesH2 } from '../upstream/pool.ts'
import type { UpstreamCluster } from '../upstream/upstream-cluster.ts'
import type { OutgoingRequest, ResponseListener, UpstreamLike } from '../upstream/upstream-connection.ts'
import type { Socket } from 'node:net'
import { spliceTunnel } from './tunnel.ts'

/** Request bodies up to this size are kept so the request can be retried or mirrored. */
export const MAX_REPLAY_BYTES = 64 * 1024

/** What a finished exchange reports to telemetry (metrics, access log, tap, spans). */
export interface ExchangeObserver {
  onEnd (ex: Exchange): void
}

/** Everything decided before forwarding (by the listener's pipeline). */
export interface ForwardPlan {
  cluster: UpstreamCluster
  /** Origin-form target sent upstream. */
  path: string
  /** Request headers to send (already rewritten; hop-by-hop ones are dropped by the serializer). */
  headers: string[]
  retry: RetryPolicy | null
  perTryTimeoutMs: number | null
  /** Coarse-clock deadline of the whole exchange (Infinity = none). */
  deadlineAt: number
  /** True when the deadline came from the caller's `meshwork-timeout` (→ DEADLINE_EXCEEDED, else UPSTREAM_TIMEOUT). */
  propagate: boolean
  responseHeaders: HeaderOps | null
  /** Extra raw header lines (`name: value\r\n`) for upstream, e.g. tracing. */
  extra: string
}

const ST_IDLE = 0
const ST_CONNECTING = 1
const ST_SENT = 2
const ST_RESPONDING = 3
const ST_DONE = 4
const ST_BACKOFF = 5
const ST_TUNNEL = 6

const WS_UPGRADE_HEADERS = 'connection: upgrade\r\nupgrade: websocket\r\n'

/** `Connection: upgrade` + `Upgrade: websocket` (the only upgrade passed through; h2c and others are dropped). */
function isWebSocketUpgrade (req: RequestHead): boolean {
  if (!req.upgrade || req.connectionTokens === null || !req.connectionTokens.includes('upgrade')) return false
  const u = getHeader(req.headers, 'upgrade')
  return u !== undefined && u.toLowerCase() === 'websocket'
}

export class Exchange implements BodySink, ResponseListener {
  readonly ds: Downstream
  readonly req: RequestHead
  plan: ForwardPlan | null = null
  /** Listener kind, for telemetry. */
  readonly listener: string
  /** Source identity (SPIFFE ID or workload name) for telemetry. */
  source = ''
  /** Destination service and route name, for telemetry. */
  service = ''
  route = ''
  readonly startedAt = preciseNow()
  durationMs = 0
  status = 0
  /** Stable code when the proxy answered itself (or cut the response), else null. */
  errorCode: string | null = null
  /** The request is gRPC (`content-type: application/grpc*`). */
  readonly grpc: boolean
  /** gRPC status of the response (trailers-only head, trailers, or the proxy's own error); -1 = none / not gRPC. */
  grpcStatus = -1
  retries = 0
  /** Endpoint id, `address:port` and version of the last try ('' until one was picked). */
  endpointId = ''
  upstream = ''
  endpointVersion = ''
  /** Request body bytes received and response body bytes sent (framing included for chunked bodies). */
  bytesIn = 0
  bytesOut = 0
  /**
   * Identity of what this exchange's metrics series depends on besides its connection (the RouteResult for
   * routed requests, the tables for inbound); null = no caching.
   */
  statsKey: object | null = null
  /** Free slot for telemetry (trace context, span ids). */
  trace: unknown = null
  /** Called once with the whole request body when it was small enough to keep (mirroring). */
  afterBody: ((chunks: readonly Buffer[]) => void) | null = null
  private readonly observer: ExchangeObserver | null
  private state = ST_IDLE
  private chunks: Buffer[] = []
  private bodyBytes = 0
  private bodyDone = false
  private replayable = true
  private conn: UpstreamLike | null = null
  private ep: EndpointState | null = null
  private tryStart = 0
  private tryDeadline = Infinity
  private timer: FastTimer<Exchange> | null = null
  private breakerHeld = false
  private transparentRetried = false
  private dsPausedForBody = false
  private upstreamPaused = false
  /** Set when a chunked response goes to an HTTP/1.0 client (decoded, body ended by close). */
  private dechunk: ChunkDecoder | null = null
  /** Number of the current try: callbacks of an abandoned try (timeout, retry) recognise themselves. */
  private tryId = 0
  /** Endpoint of the previous try: a retry prefers another one. */
  private lastEp: EndpointState | null = null
  /** A WebSocket upgrade is forwarded (upgrade headers kept, no retries, 101 → tunnel). */
  private upgrading = false
  /** The current try goes over h2. */
  private tryH2 = false

  constructor (ds: Downstream, req: RequestHead, listener: string, observer: ExchangeObserver | null) {
    this.ds = ds
    this.req = req
    this.grpc = req.grpc
    this.listener = listener
    this.observer = observer
  }

  /** Answer without calling upstream (no route, denied, deadline spent…). */
  reject (err: MeshError): void {
    if (this.state === ST_DONE) return
    this.fail(err)
  }

  /** Answer with a small complete response made by the proxy (redirects). */
  respond (status: number, raw: Buffer): void {
    if (this.state === ST_DONE) return
    this.status = status
    this.ds.write(raw)
    this.ds.endResponse()
    this.finish()
  }

  /** Forward according to `plan`. */
  forward (plan: ForwardPlan): void {
    if (this.state !== ST_IDLE) return
    this.plan = plan
    const cl = plan.cluster
    if (!cl.breaker.tryAcquire()) { this.fail(new CircuitOpenError(`${cl.name}: requests limit reached`)); return }
    this.breakerHeld = true
    cl.budget.recordRequest()
    if (this.req.upgrade && this.ds.takeOver !== undefined && isWebSocketUpgrade(this.req)) this.upgrading = true
    if (plan.deadlineAt !== Infinity) {
      if (plan.deadlineAt - now() <= 0) { this.fail(new DeadlineExceededError(`no time budget left to call ${cl.name}`)); return }
    }
    this.attempt(null)
  }

  // --- attempts -------------------------------------------------------------------------------------

  private attempt (exclude: EndpointState | null): void {
    const plan = this.plan!
    const cl = plan.cluster
    const t = now()
    const ep = cl.pick(exclude, t)
    if (ep === null) { this.fail(new NoHealthyUpstreamError(`${cl.name} has no available endpoint`)); return }
    this.ep = ep
    if (this.endpointId !== ep.id) {
      const e = ep.endpoint
      this.endpointId = ep.id
      this.upstream = e.address + ':' + e.port
      this.endpointVersion = e.version ?? ''
    }
    ep.onStart()
    this.tryId++
    this.tryStart = preciseNow()
    this.tryDeadline = plan.perTryTimeoutMs !== null ? t + plan.perTryTimeoutMs : Infinity
    this.armTimer()
    const pool = cl.poolOf(ep)
    const h2 = usesH2(ep.endpoint, this.ds.h2, cl.protocol)
    this.tryH2 = h2
    const conn = pool.acquireIdle(h2)
    if (conn !== null) { this.dispatch(conn); return }
    this.state = ST_CONNECTING
    this.connectOrWait(pool)
  }

  /**
   * Dial a new connection if the connections limit allows it; else wait (maxPendingRequests) for a connection
   * of this endpoint to be released, or answer MESH_ERR_CIRCUIT_OPEN. The try's timer bounds the wait.
   */
  private connectOrWait (pool: EndpointPool): void {
    // h2 multiplexes: a stream takes no connection slot (the endpoint's sessions are bounded: upstream/h2-session.ts)
    if (this.tryH2) { this.connect(pool, false); return }
    const breaker = this.plan!.cluster.breaker
    if (breaker.tryAcquireConnection()) { this.connect(pool); return }
    if (!breaker.tryEnterPending()) {
      this.endTry(0, false)
      this.fail(new CircuitOpenError(`${this.plan!.cluster.name}: connections and pending limits reached`))
      return
    }
    const id = this.tryId
    pool.wait(conn => {
      breaker.leavePending()
      if (this.state !== ST_CONNECTING || this.tryId !== id) {
        if (conn !== null) pool.release(conn)
        return
      }
      if (conn !== null) this.dispatch(conn)
      else this.connectOrWait(pool) // a connection closed: its slot is free to dial
    })
  }

  private connect (pool: EndpointPool, slotHeld = true): void {
    const breaker = this.plan!.cluster.breaker
    const id = this.tryId
    pool.connect((err, conn) => {
      if (err !== null || conn === null) {
        if (slotHeld) breaker.releaseConnection()
        if (this.state !== ST_CONNECTING || this.tryId !== id) return
        this.endTry(0, true)
        this.upstreamFailed(err instanceof MeshError ? err : new UpstreamConnectError(err?.message ?? 'connect failed'))
        return
      }
      if (slotHeld) conn.socket.once('close', () => breaker.releaseConnection())
      if (this.state !== ST_CONNECTING || this.tryId !== id) { pool.release(conn); return }
      this.dispatch(conn)
    }, this.tryH2)
  }

  private dispatch (conn: UpstreamLike): void {
    const plan = this.plan!
    const req = this.req
    this.conn = conn
    this.state = ST_SENT
    let extra = plan.extra
    if (this.upgrading) {
      // an h2 upstream cannot take an HTTP/1.1 upgrade: send it as a plain request (upgrade headers dropped)
      if (this.tryH2) this.upgrading = false
      else extra += WS_UPGRADE_HEADERS
    }
    if (plan.deadlineAt !== Infinity) {
      const budget = formatTimeoutHeader(plan.deadlineAt - now())
      extra += TIMEOUT_HEADER + ': ' + budget + '\r\n'
      // gRPC: the same remaining budget in gRPC's own spelling, so the app's gRPC library enforces it too
      if (this.grpc) extra += GRPC_TIMEOUT_HEADER + ': ' + budget + '\r\n'
    }
    const out: OutgoingRequest = {
      method: req.method,
      path: plan.path,
      headers: plan.headers,
      contentLength: req.chunked ? -1 : req.contentLength,
      chunked: req.chunked,
      connectionTokens: req.connectionTokens,
      extra,
      acceptsTrailers: req.teTrailers,
      captureTrailers: this.grpc
    }
    const chunks = this.chunks
    conn.send(this, out, chunks.length > 0 ? chunks : null, this.bodyDone, req.method === 'HEAD')
    if (!this.replayable) this.chunks = []
    if (this.dsPausedForBody) { this.dsPausedForBody = false; this.ds.resume() }
  }

  // --- request body (from the client) ----------------------------------------------------------------

  onBody (chunk: Buffer): void {
    if (this.state === ST_DONE) return
    this.bytesIn += chunk.length
    // after a response head the upstream may still be reading the body (early response): keep streaming
    const sending = (this.state === ST_SENT || this.state === ST_RESPONDING) && this.conn !== null
    if (this.replayable) {
      this.bodyBytes += chunk.length
      if (this.bodyBytes > MAX_REPLAY_BYTES) this.replayable = false
    }
    if (!sending || this.replayable) this.chunks.push(chunk)
    if (sending) {
      if (!this.conn!.writeBody(chunk)) this.waitUpstreamDrain()
      if (!this.replayable && this.chunks.length > 0) this.chunks = []
    } else if (!this.replayable && !this.dsPausedForBody) {
      // not connected yet and the body is large: stop reading until it can be streamed
      this.dsPausedForBody = true
      this.ds.pause()
    }
  }

  onBodyEnd (): void {
    this.bodyDone = true
    if (this.afterBody !== null && this.replayable && this.state !== ST_DONE) this.afterBody(this.chunks)
    if ((this.state === ST_SENT || this.state === ST_RESPONDING) && this.conn !== null) this.conn.endRequest()
  }

  onAbort (_err: Error): void {
    if (this.state === ST_DONE || this.state === ST_TUNNEL) return
    this.errorCode ??= 'MESH_ERR_CLIENT_CLOSED'
    if (this.conn !== null) { this.conn.destroy(); this.conn = null }
    if (this.ep !== null && this.state !== ST_BACKOFF) this.endTry(0, false)
    this.finish()
  }

  private waitUpstreamDrain (): void {
    const ds = this.ds
    const conn = this.conn!
    ds.pause()
    conn.socket.once('drain', () => { if (this.state !== ST_DONE) ds.resume() })
  }

  // --- response (from upstream) -------------------------------------------------------------------

  onInformational (raw: Buffer): boolean {
    // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client
    if (this.state === ST_DONE || this.req.minor === 0) return false
    this.ds.write(raw)
    return this.ds.holdsLastWrite
  }

  /** Returns true when the downstream still references `chunk` (a queued write): see ResponseListener. */
  onResponseHead (head: ResponseHead, chunk: Buffer, headStart: number, headEnd: number, bodyEnd: number): boolean {
    const plan = this.plan!
    const status = head.status
    this.endTry(status, false)
    const retry = plan.retry
    let grpcStatus = -1
    // a gRPC status in the head: a trailers-only response (gRPC over HTTP/2, "Responses"), retried on grpcCodes
    if (this.grpc) grpcStatus = parseGrpcStatus(getHeader(head.headers, 'grpc-status'))
    // Perf: the status test of isRetryableParts inlined (the policy's flat table indexed by status)
    if (retry !== null && (retry.codes[status] === 1 || (grpcStatus > 0 && retry.grpcCodes !== null && retry.grpcCodes[grpcStatus] === 1)) && this.mayRetry(retry)) {
      this.conn!.destroy()
      this.conn = null
      this.scheduleRetry(retry)
      return false
    }
    this.grpcStatus = grpcStatus
    this.state = ST_RESPONDING
    this.status = status
    this.chunks = []
    const ds = this.ds
    this.bytesOut = bodyEnd - headEnd
    const bodyless = status === 204 || status === 304 || this.req.method === 'HEAD'
    const noLength = head.contentLength < 0 && !head.chunked && !bodyless
    if (noLength) ds.closeAfterResponse = true
    // An HTTP/1.0 client cannot read chunked coding: decode it and let the connection close end the body.
    if (head.chunked && this.req.minor === 0 && !bodyless) {
      this.dechunk = new ChunkDecoder()
      ds.closeAfterResponse = true
    }
    let ok: boolean
    if (ds.writeHead !== undefined) {
      // an h2 client: the parsed head as it is (no HTTP/1.1 bytes made for it), then the first body bytes
      ok = ds.writeHead(head, plan.responseHeaders !== null ? applyHeaderOps(plan.responseHeaders, head.headers) : head.headers)
      if (bodyEnd > headEnd) ok = ds.write(chunk.subarray(headEnd, bodyEnd))
    } else if (!head.hasHopByHop && plan.responseHeaders === null && !ds.closeAfterResponse) {
      // Perf: nothing to change in the head: forward the raw bytes (head and first body bytes) in one write.
      ok = ds.write(bodyEnd === chunk.length && headStart === 0 ? chunk : chunk.subarray(headStart, bodyEnd))
    } else {
      const headers = plan.responseHeaders !== null ? applyHeaderOps(plan.responseHeaders, head.headers) : head.headers
      const chunked = head.chunked && this.dechunk === null
      const out = serializeResponseHead(status, headers, head.chunked ? -1 : head.contentLength, chunked, ds.closeAfterResponse, head.connectionTokens)
      ok = ds.write(out)
      if (bodyEnd > headEnd) ok = this.writeBody(chunk.subarray(headEnd, bodyEnd))
    }
    if (!ok) this.waitDownstreamDrain()
    return ds.holdsLastWrite
  }

  private writeBody (chunk: Buffer): boolean {
    if (this.dechunk === null) return this.ds.write(chunk)
    let ok = true
    this.dechunk.push(chunk, data => { ok = this.ds.write(data) })
    return ok
  }

  onResponseBody (chunk: Buffer): boolean {
    if (this.state !== ST_RESPONDING) return false
    this.bytesOut += chunk.length
    if (!this.writeBody(chunk)) this.waitDownstreamDrain()
    return this.ds.holdsLastWrite
  }

  onResponseEnd (trailers: readonly string[] | null): void {
    if (this.state !== ST_RESPONDING) return
    if (trailers !== null && this.grpcStatus === -1) this.grpcStatus = parseGrpcStatus(getHeader(trailers, 'grpc-status'))
    // answered before the whole request body went up: the connection cannot carry another request
    if (!this.bodyDone && this.conn !== null) this.conn.destroy()
    this.conn = null
    this.ds.endResponse()
    this.finish()
  }

  onUpstreamError (err: Error, responseStarted: boolean): void {
    if (this.state === ST_DONE) return
    const conn = this.conn
    this.conn = null
    if (responseStarted || this.state === ST_RESPONDING) {
      // the client already has part of the response: cut it
      this.errorCode = (err as MeshError).code ?? 'MESH_ERR_UPSTREAM_RESET'
      this.ds.abort()
      this.finish()
      return
    }
    this.endTry(0, false)
    // A reused keep-alive connection that the upstream closed just as we wrote: retry once on a fresh one
    // (nothing reached the app), independent of the route's retry policy.
    if (conn !== null && conn.served > 1 && this.replayable && !this.transparentRetried) {
      this.transparentRetried = true
      this.attempt(null)
      return
    }
    this.upstreamFailed(err instanceof MeshError ? err : new UpstreamResetError(err.message))
  }

  private waitDownstreamDrain (): void {
    const conn = this.conn
    if (conn === null || this.upstreamPaused) return
    this.upstreamPaused = true
    conn.socket.pause()
    this.ds.socket.once('drain', () => {
      this.upstreamPaused = false
      if (!conn.closed) conn.socket.resume()
    })
  }

  // --- failures, retries, timers ----------------------------------------------------------------------

  private upstreamFailed (err: MeshError): void {
    const retry = this.plan!.retry
    // a connect failure or a reset before any response byte (resilience/retry.ts: both need onConnectFailure)
    if (retry !== null && isRetryableParts(retry, 0, true, false) && this.mayRetry(retry)) {
      this.scheduleRetry(retry)
      return
    }
    this.fail(err)
  }

  private mayRetry (retry: RetryPolicy): boolean {
    if (this.upgrading || this.retries >= retry.attempts || !this.replayable || !this.bodyDone) return false
    const plan = this.plan!
    const left = plan.deadlineAt - now()
    if (left <= retry.backoffMs) return false
    return plan.cluster.budget.tryWithdraw()
  }

  private scheduleRetry (retry: RetryPolicy): void {
    this.retries++
    const exclude = this.lastEp
    this.state = ST_BACKOFF
    // exponential backoff with full jitter, capped at 10 × base (Envoy's retry back-off; resilience/retry.ts)
    const delay = backoffMs(this.retries, retry.backoffMs)
    if (delay < 1) { this.attempt(exclude); return }
    this.tryDeadline = Infinity
    const t = new FastTimer<Exchange>(ex => { if (ex.state === ST_BACKOFF) ex.attempt(exclude) }, this)
    t.arm(delay)
  }

  private armTimer (): void {
    const plan = this.plan!
    const at = this.tryDeadline < plan.deadlineAt ? this.tryDeadline : plan.deadlineAt
    if (at === Infinity) return
    if (this.timer === null) this.timer = new FastTimer<Exchange>(onTimer, this)
    this.timer.arm(at - now())
  }

  // --- upgrade (WebSocket) ------------------------------------------------------------------------------

  onUpgrade (head: ResponseHead, up: Socket, chunk: Buffer, headStart: number, headEnd: number): void {
    this.conn = null
    if (!this.upgrading || this.state === ST_DONE) {
      up.destroy()
      this.endTry(0, false)
      this.fail(new UpstreamResetError('upstream switched protocols without being asked to'))
      return
    }
    this.endTry(101, false)
    if (this.timer !== null) this.timer.disarm() // the request's deadline does not bound the tunnel
    this.state = ST_TUNNEL
    this.status = 101
    const plan = this.plan!
    const { socket: down, early } = this.ds.takeOver!()
    if (plan.responseHeaders === null) {
      down.write(chunk.subarray(headStart, headEnd))
    } else {
      const headers = applyHeaderOps(plan.responseHeaders, head.headers)
      const upgrade = getHeader(head.headers, 'upgrade') ?? 'websocket'
      down.write(serializeResponseHead(101, headers, -1, false, false, head.connectionTokens, 'connection: upgrade\r\nupgrade: ' + upgrade + '\r\n'))
    }
    if (headEnd < chunk.length) { this.bytesOut += chunk.length - headEnd; down.write(chunk.subarray(headEnd)) }
    if (early !== null) { this.bytesIn += early.length; up.write(early) }
    spliceTunnel(down, up, (bytesIn, bytesOut) => {
      this.bytesIn += bytesIn
      this.bytesOut += bytesOut
      this.finish()
    })
  }

  /** @internal */
  onTimeout (): void {
    if (this.state === ST_DONE || this.state === ST_BACKOFF || this.state === ST_TUNNEL) return
    const plan = this.plan!
    const t = now()
    const overall = plan.deadlineAt <= t
    if (this.conn !== null) { this.conn.destroy(); this.conn = null }
    if (this.state === ST_RESPONDING) {
      this.errorCode = 'MESH_ERR_UPSTREAM_TIMEOUT'
      this.ds.abort()
      this.finish()
      return
    }
    this.endTry(0, false)
    if (!overall && plan.retry !== null && isRetryableParts(plan.retry, 0, false, true) && this.mayRetry(plan.retry)) {
      this.state = ST_IDLE
      this.scheduleRetry(plan.retry)
      return
    }
    if (overall && plan.propagate) this.fail(new DeadlineExceededError(`${plan.cluster.name}: deadline exceeded`))
    else this.fail(new UpstreamTimeoutError(`${plan.cluster.name} did not answer in time`))
  }

  /** Record the outcome of the current try on its endpoint (balancer stats, outlier detection). */
  private endTry (status: number, connectFailure: boolean): void {
    const ep = this.ep
    if (ep === null) return
    this.ep = null
    const p = preciseNow()
    ep.end(status, connectFailure, p - this.tryStart, p)
    const od = this.plan!.cluster.outlier
    if (od !== null) od.observe(ep, this.plan!.cluster.states, now())
    this.lastEp = ep
  }

  private fail (err: MeshError): void {
    if (this.state === ST_DONE) return
    if (!this.ds.responseStarted) {
      // a gRPC caller gets HTTP 200 and the error as a gRPC status (trailers-only)
      this.status = this.grpc ? 200 : err.status
      if (this.grpc) this.grpcStatus = grpcStatusForError(err)
    }
    this.errorCode = err.code
    if (this.conn !== null) { this.conn.destroy(); this.conn = null }
    if (this.ep !== null) this.endTry(0, false)
    this.ds.sendError(err, this.grpc)
    this.finish()
  }

  private finish (): void {
    if (this.state === ST_DONE) return
    this.state = ST_DONE
    if (this.timer !== null) this.timer.disarm()
    if (this.breakerHeld) { this.breakerHeld = false; this.plan!.cluster.breaker.release() }
    this.durationMs = preciseNow() - this.startedAt
    if (this.dsPausedForBody) this.ds.resume()
    if (this.observer !== null) this.observer.onEnd(this)
  }
}

function onTimer (ex: Exchange): void {
  ex.onTimeout()
}
