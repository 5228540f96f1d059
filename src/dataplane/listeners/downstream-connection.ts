/**
 * Server side of one client connection (app → outbound listener, peer sidecar → inbound listener, client →
 * gateway): parses request heads strictly, frames request bodies and hands both to the request handler,
 * writes the responses back, keeps the connection alive between requests.
 *
 * One request at a time: pipelined bytes that arrive while a request is in flight are held (and the socket
 * paused) until its response has been written (RFC 9112 §9.3.2 allows answering in order only).
 *
 *   HEAD ──head parsed──▶ BODY ──body framed──▶ WAIT ──response done──▶ HEAD (keep-alive) / close
 *     │ framing error → 400/431 MESH_ERR_BAD_REQUEST / MESH_ERR_HEADERS_TOO_LARGE, close
 *     │ head not complete within headTimeoutMs (slowloris) → 408 MESH_ERR_REQUEST_TIMEOUT, close
 *     └ upstream answered 101 to an Upgrade (WebSocket) → takeOver(): TUNNEL, the socket belongs to the tunnel
 */
import type { Socket } from 'node:net'
import { BadRequestError, MeshError, RequestTimeoutError } from '../../errors.ts'
import { BodyFramer, MODE_CHUNKED, MODE_LENGTH, MODE_NONE } from '../http1/body-framer.ts'
import { findHeadEnd, parseRequestHead, type RequestHead, type ResponseHead } from '../http1/head-parser.ts'
import { serializeError, serializeGrpcError } from '../http1/serialize.ts'
import { now } from '../resilience/clock.ts'

/** Receives the request body of one exchange. */
export interface BodySink {
  onBody (chunk: Buffer): void
  onBodyEnd (): void
  /** The client went away (or sent a broken body) before the exchange ended. */
  onAbort (err: Error): void
}

/** The client side of one exchange: an HTTP/1.1 connection, or one h2 stream (listeners/h2-downstream.ts). */
export interface Downstream {
  /** Where 'drain' is emitted after `write` returned false. */
  readonly socket: { once (event: 'drain', fn: () => void): unknown }
  readonly peerIdentity: string | undefined
  /** The client speaks h2 (an h2 stream): a peer sidecar gets the request over h2 too (protocol preservation). */
  readonly h2: boolean
  closeAfterResponse: boolean
  readonly responseStarted: boolean
  statsKey: unknown
  statsSlot: unknown
  statsVersion: string
  /** HTTP/1.1 response bytes (head, then body as framed by the upstream). */
  write (chunk: Buffer): boolean
  /**
   * The final response head, already parsed, instead of its bytes (`headers`: after the route's header filters).
   * Perf: h2 streams have it, so an h2 client's response head is not serialized and parsed again; body bytes
   * follow through `write`. Absent on HTTP/1.1 connections (they forward the head's bytes).
   */
  writeHead? (head: ResponseHead, headers: readonly string[]): boolean
  /**
   * The chunk of the last `write` may still be referenced (queued by the socket, not yet copied into the
   * kernel or encrypted), so its bytes must not be overwritten (upstream read buffers are reused).
   */
  readonly holdsLastWrite: boolean
  endResponse (): void
  /** Answer with a proxy error: status + `x-meshwork-error`, or for a gRPC request a trailers-only gRPC status. */
  sendError (err: MeshError, grpc: boolean): void
  abort (): void
  pause (): void
  resume (): void
  /**
   * Hand the connection over to a tunnel (HTTP Upgrade answered 101): no more HTTP is parsed on it. Returns the
   * socket and the bytes already read past the request head (or null). Absent where there is no connection of
   * its own to give (an h2 stream).
   */
  takeOver? (): { socket: Socket, early: Buffer | null }
  /**
   * CONNECT accepted (filters/connect.ts): answer 200 and serve the connection from now on as a new client
   * connection (h2 or HTTP/1.1, sniffed) whose requests default to `authority`. Absent on h2 streams.
   */
  openTunnel? (authority: string): void
}

/** Where a listener takes a CONNECT tunnel's connection back in, to serve it as a new client connection. */
export type TunnelAcceptor = (socket: Socket, early: Buffer | null, defaultAuthority: string, peerIdentity: string | undefined) => void

/** Handles one request; returns where its body goes. Must eventually call `ds.endResponse()` (or `sendError`). */
export type RequestHandler = (ds: Downstream, req: RequestHead) => BodySink

const CONNECT_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1')

/** A sink that drops the body (requests answered without an upstream). */
export const DISCARD_SINK: BodySink = { onBody () {}, onBodyEnd () {}, onAbort () {} }

const S_HEAD = 0
const S_BODY = 1
const S_WAIT = 2
const S_CLOSED = 3
const S_TUNNEL = 4

export interface DownstreamOptions {
  /** Close a connection with no request in flight after this long. */
  idleTimeoutMs: number
  /**
   * A request head must be complete this long after its first byte arrived (default 10 s). The idle
   * timeout alone cannot stop a slowloris client: every trickled byte resets it.
   */
  headTimeoutMs?: number
}

/** Default of {@link DownstreamOptions.headTimeoutMs}. */
export const DEFAULT_HEAD_TIMEOUT_MS = 10_000

export class DownstreamConnection implements Downstream {
  readonly socket: Socket
  /** SPIFFE ID of the verified peer (mTLS inbound), set by the listener after the handshake. */
  peerIdentity: string | undefined = undefined
  readonly h2 = false
  /** Authority for requests without one (HTTP/1.0 without Host inside a CONNECT tunnel), '' when none. */
  defaultAuthority = ''
  /** Set by the listener: where an accepted CONNECT tunnel is served (null: CONNECT not served here). */
  tunnelAcceptor: TunnelAcceptor | null = null
  private tunnelAuthority: string | null = null
  /** The request in flight wants the connection closed after its response (or the proxy decided so). */
  closeAfterResponse = false
  /** A response head was written for the request in flight. */
  responseStarted = false
  /** Telemetry's per-connection cache (series of the last request and the key it was found for). */
  statsKey: unknown = null
  statsSlot: unknown = null
  statsVersion = ''
  /** Coarse time of the last request start or response end (idle sweep). */
  lastActive = 0
  holdsLastWrite = false
  private readonly encrypted: boolean
  private state = S_HEAD
  /** The request in flight is HEAD: a response to it carries no content (RFC 9110 §9.3.2), errors included. */
  private headRequest = false
  private pending: Buffer | null = null
  private readonly framer = new BodyFramer()
  private sink: BodySink = DISCARD_SINK
  private readonly handler: RequestHandler
  private processing = false
  private responseDone = true
  private readonly idleTimeoutMs: number
  private readonly headTimeoutMs: number
  /** Armed only while a head is incomplete (rare: most heads arrive in one chunk). */
  private headTimer: NodeJS.Timeout | null = null
  private readonly onHeadTimeoutBound = this.onHeadTimeout.bind(this)
  private readonly onDrop: (ds: DownstreamConnection) => void
  private readonly onDataBound = this.onData.bind(this)
  private readonly onCloseBound = this.onClose.bind(this)

  constructor (socket: Socket, handler: RequestHandler, options: DownstreamOptions, onDrop: (ds: DownstreamConnection) => void) {
    this.socket = socket
    this.handler = handler
    this.idleTimeoutMs = options.idleTimeoutMs
    this.headTimeoutMs = options.headTimeoutMs ?? DEFAULT_HEAD_TIMEOUT_MS
    this.onDrop = onDrop
    this.encrypted = (socket as { encrypted?: boolean }).encrypted === true
    socket.setNoDelay(true)
    // Perf: callbacks bound once per connection.
    socket.on('data', this.onDataBound)
    socket.on('close', this.onCloseBound)
    socket.on('error', noop) // 'close' follows; the sink hears about it there
    // Perf: no socket.setTimeout (it re-arms a timer on every read and write); the listener sweeps idle
    // connections instead, using `lastActive` (coarse clock, stamped twice per request).
    this.lastActive = now()
  }

  get idle (): boolean { return this.state === S_HEAD && this.responseDone && this.pending === null }

  /** Write response bytes; false = the client's buffer is full, wait for the socket's 'drain'. */
  write (chunk: Buffer): boolean {
    this.responseStarted = true
    const s = this.socket
    if (this.encrypted) {
      // TLS: a write with nothing queued before it is encrypted at once (OpenSSL copies the bytes); only a
      // write queued behind another is held as is. (A TLS write always looks pending afterwards.)
      this.holdsLastWrite = s.writableLength > 0
      return s.write(chunk)
    }
    // TCP: a write the kernel took whole is done; a partial one keeps pointing at the rest of `chunk`
    const ok = s.write(chunk)
    this.holdsLastWrite = s.writableLength > 0
    return ok
  }

  /** The response of the request in flight is complete: keep the connection for the next one or close it. */
  endResponse (): void {
    if (this.responseDone) return
    this.responseDone = true
    this.lastActive = now()
    if (this.state === S_CLOSED) return
    if (this.closeAfterResponse || this.state === S_BODY) {
      // a request body we did not read to the end cannot be skipped safely: close (RFC 9112 §9.6)
      this.state = S_CLOSED
      this.socket.end()
      return
    }
    this.state = S_HEAD
    this.sink = DISCARD_SINK
    if (!this.processing && this.pending !== null) {
      const buf = this.pending
      this.pending = null
      this.socket.resume()
      this.process(buf)
    } else if (this.socket.isPaused()) {
      this.socket.resume()
    }
  }

  /** Answer the request in flight with a proxy error (status, `x-meshwork-error`, one-line body). */
  sendError (err: MeshError, grpc: boolean): void {
    if (this.responseDone || this.state === S_CLOSED) return
    if (this.responseStarted) {
      // too late for a status: cut the response so the client sees a broken message, not a truncated success
      this.abort()
      return
    }
    const close = this.closeAfterResponse || this.state === S_BODY
    this.socket.write(grpc ? serializeGrpcError(err, close) : serializeError(err, close, '', this.headRequest))
    this.endResponse()
  }

  openTunnel (authority: string): void {
    // taken over once the handler returns (process() knows which bytes after the CONNECT head are the tunnel's)
    this.tunnelAuthority = authority
  }

  /** CONNECT accepted: 200, then the connection (and `early`, bytes already read past the head) is the tunnel's. */
  private startTunnel (authority: string, early: Buffer | null): void {
    const acceptor = this.tunnelAcceptor
    this.tunnelAuthority = null
    this.state = S_TUNNEL
    this.responseStarted = true
    this.responseDone = true
    this.socket.removeListener('data', this.onDataBound)
    this.socket.removeListener('close', this.onCloseBound)
    this.socket.write(CONNECT_ESTABLISHED)
    this.onDrop(this)
    if (acceptor === null) { this.socket.destroy(); return }
    acceptor(this.socket, early, authority, this.peerIdentity)
  }

  /** Drop the connection now. */
  abort (): void {
    if (this.state === S_CLOSED) return
    this.state = S_CLOSED
    this.socket.destroy()
  }

  takeOver (): { socket: Socket, early: Buffer | null } {
    this.state = S_TUNNEL
    this.responseStarted = true
    this.responseDone = true
    if (this.headTimer !== null) { clearTimeout(this.headTimer); this.headTimer = null }
    this.socket.removeListener('data', this.onDataBound)
    const early = this.pending
    this.pending = null
    return { socket: this.socket, early }
  }

  pause (): void { this.socket.pause() }
  resume (): void { if (this.state !== S_CLOSED) this.socket.resume() }

  private onData (chunk: Buffer): void {
    if (this.pending !== null) {
      chunk = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    this.process(chunk)
  }

  private process (chunk: Buffer): void {
    this.processing = true
    let pos = 0
    try {
      while (pos < chunk.length && this.state !== S_CLOSED) {
        if (this.state === S_BODY) {
          const n = this.framer.consume(chunk, pos)
          if (n > 0) this.sink.onBody(pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n))
          pos += n
          if (this.framer.done) {
            this.state = this.responseDone ? S_HEAD : S_WAIT
            this.sink.onBodyEnd()
          }
          continue
        }
        if (this.state === S_WAIT) {
          // pipelined request: hold it until the response in flight is written
          this.pending = pos === 0 ? chunk : chunk.subarray(pos)
          this.socket.pause()
          return
        }
        const end = findHeadEnd(chunk, pos)
        if (end === -1) {
          this.pending = pos === 0 ? chunk : chunk.subarray(pos)
          // Perf: a timer only for partial heads; the common one-chunk head never arms it.
          if (this.headTimer === null) this.headTimer = setTimeout(this.onHeadTimeoutBound, this.headTimeoutMs)
          return
        }
        if (this.headTimer !== null) { clearTimeout(this.headTimer); this.headTimer = null }
        const req = parseRequestHead(chunk, pos, end)
        if (req.authority === '' && this.defaultAuthority !== '') {
          // inside a CONNECT tunnel: a request without Host goes to the CONNECT target
          req.authority = this.defaultAuthority
          req.headers.push('host', this.defaultAuthority)
        }
        pos = end
        this.lastActive = now()
        this.framer.reset(req.chunked ? MODE_CHUNKED : req.contentLength > 0 ? MODE_LENGTH : MODE_NONE, req.contentLength)
        this.closeAfterResponse = !req.keepAlive
        this.headRequest = req.method === 'HEAD'
        this.responseStarted = false
        this.responseDone = false
        this.state = this.framer.done ? S_WAIT : S_BODY
        this.sink = this.handler(this, req)
        if (this.tunnelAuthority !== null) {
          this.startTunnel(this.tunnelAuthority, pos < chunk.length ? chunk.subarray(pos) : null)
          return
        }
        if (this.framer.done && this.state !== S_CLOSED) {
          if (this.responseDone) this.state = S_HEAD
          this.sink.onBodyEnd()
        }
      }
    } catch (err) {
      this.protocolError(err as Error)
    } finally {
      this.processing = false
    }
  }

  private protocolError (err: Error): void {
    // a MeshError here is the codec refusing the request; anything else is a bug in a handler: answer 500
    // MESH_ERR (never a misleading 400) and keep the process serving
    const e = err instanceof MeshError ? err : new MeshError(`internal error: ${(err as Error).message}`, { cause: err })
    if (this.state === S_BODY) {
      this.sink.onAbort(e)
      if (!this.responseStarted && !this.responseDone) {
        this.socket.end(serializeError(e, true))
      } else {
        this.socket.destroy()
      }
    } else if (this.responseDone) {
      this.socket.end(serializeError(e, true))
    } else {
      this.socket.destroy()
    }
    this.state = S_CLOSED
  }

  private onHeadTimeout (): void {
    this.headTimer = null
    if (this.state !== S_HEAD || !this.responseDone) return
    this.state = S_CLOSED
    this.socket.end(serializeError(new RequestTimeoutError(`request head not complete within ${this.headTimeoutMs} ms`), true))
    // a client that stops reading must not hold the socket open
    this.socket.setTimeout(this.idleTimeoutMs, () => this.socket.destroy())
  }

  /** Close if no request is in flight and nothing happened since `idleTimeoutMs` (called by the listener's sweep). */
  sweep (t: number): void {
    if (this.state === S_HEAD && this.responseDone && t - this.lastActive > this.idleTimeoutMs) this.abort()
  }

  private onClose (): void {
    const wasOpen = this.state !== S_CLOSED
    this.state = S_CLOSED
    if (this.headTimer !== null) { clearTimeout(this.headTimer); this.headTimer = null }
    if (!this.responseDone) {
      this.responseDone = true
      this.sink.onAbort(new BadRequestError('client closed the connection'))
    }
    void wasOpen
    this.onDrop(this)
  }
}

function noop (): void {}
