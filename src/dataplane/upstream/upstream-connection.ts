/**
 * One HTTP/1.1 keep-alive connection to an upstream endpoint: sends one request at a time and parses the
 * response, handing head and body bytes to the exchange that owns it (no copies: body bytes are the
 * socket's own buffers, sliced).
 *
 *   IDLE ──send()──▶ WAIT_HEAD ──head──▶ BODY ──body done──▶ IDLE (back to the pool) or closed
 *                       │  1xx: forwarded, stays in WAIT_HEAD
 *                       │  101 and the listener takes upgrades: the socket leaves the pool for the listener's tunnel
 *                       └── close/error before the end ──▶ listener.onUpstreamError()
 */
import type { Socket } from 'node:net'
import { UpstreamResetError } from '../../errors.ts'
import { BodyFramer, MODE_CHUNKED, MODE_CLOSE, MODE_LENGTH, MODE_NONE } from '../http1/body-framer.ts'
import { findHeadEnd, parseResponseHead, type ResponseHead } from '../http1/head-parser.ts'
import { serializeRequestHead } from '../http1/serialize.ts'
import { parseTrailerText } from '../http1/trailers.ts'
import type { SocketReader } from './socket-reader.ts'

/**
 * A request as the exchange hands it to an upstream connection: HTTP/1.1 serializes it into a head (one latin1
 * string, one write), an h2 stream into HEADERS without parsing a head back.
 */
export interface OutgoingRequest {
  method: string
  /** Origin-form target. */
  path: string
  /** Flat `[name, value, …]`, names lower-case, `host` included; hop-by-hop ones are dropped when sent. */
  headers: readonly string[]
  /** -1 = none (chunked or no body). */
  contentLength: number
  chunked: boolean
  connectionTokens: readonly string[] | null
  /** Extra raw header lines (`name: value\r\n`), e.g. tracing and the deadline. */
  extra: string
  /** The downstream accepts trailers: `te: trailers` goes upstream and trailers come back (RFC 9110 §10.1.4). */
  acceptsTrailers: boolean
  /** Keep the response's trailer fields for `onResponseEnd` (gRPC: `grpc-status`). */
  captureTrailers: boolean
}

const TE_TRAILERS = 'te: trailers\r\n'

/**
 * What an exchange implements to receive a response. The bytes passed in are only valid during the call
 * (the connection reads the next ones into the same buffer: socket-reader.ts), so the three methods that
 * get bytes return true when they kept a reference to them (e.g. a write the downstream socket queued).
 */
export interface ResponseListener {
  /** An informational (1xx, not 101) response head, raw bytes to forward. */
  onInformational (raw: Buffer): boolean
  /**
   * The final response head. `chunk[headStart, headEnd)` is the raw head and `chunk[headEnd, bodyEnd)` the
   * first body bytes (possibly none) — contiguous, so a passthrough can forward them with one write.
   */
  onResponseHead (head: ResponseHead, chunk: Buffer, headStart: number, headEnd: number, bodyEnd: number): boolean
  onResponseBody (chunk: Buffer): boolean
  /** The response is complete; `trailers` (flat) when the request asked to capture them and there were any. */
  onResponseEnd (trailers: readonly string[] | null): void
  /** `responseStarted`: a response head was already delivered. */
  onUpstreamError (err: Error, responseStarted: boolean): void
  /**
   * 101 Switching Protocols: the connection left the pool and its socket is the listener's now (a tunnel).
   * `chunk[headStart, headEnd)` is the raw head; bytes after `headEnd` already belong to the new protocol.
   * Without this method a 101 is an error (MESH_ERR_UPSTREAM_RESET).
   */
  onUpgrade? (head: ResponseHead, socket: Socket, chunk: Buffer, headStart: number, headEnd: number): void
}

/** What an exchange needs from an upstream connection: HTTP/1.1 ({@link UpstreamConnection}) or an h2 stream. */
export interface UpstreamLike {
  /** The stream to watch for 'drain' and to pause/resume for backpressure. */
  readonly socket: { once (event: 'drain' | 'close', fn: () => void): unknown, pause (): unknown, resume (): unknown }
  readonly closed: boolean
  /** Requests served by the underlying connection (> 1: reused, eligible for a transparent retry). */
  readonly served: number
  /** Start the request: its head and any body bytes already known; `requestDone` when no more body follows. */
  send (listener: ResponseListener, req: OutgoingRequest, body: Buffer[] | null, requestDone: boolean, isHead: boolean): void
  writeBody (chunk: Buffer): boolean
  endRequest (): void
  destroy (): void
}

export interface ConnectionOwner {
  release (conn: UpstreamConnection): void
  remove (conn: UpstreamConnection): void
}

const S_IDLE = 0
const S_HEAD = 1
const S_BODY = 2

export class UpstreamConnection implements UpstreamLike {
  readonly socket: Socket
  readonly owner: ConnectionOwner
  listener: ResponseListener | null = null
  /** Requests served so far (0 = fresh connection; a failure on a reused one is retried transparently). */
  served = 0
  closed = false
  /** Time it went idle (coarse ms), for idle timeout sweeps. */
  idleSince = 0
  private state = S_IDLE
  private pending: Buffer | null = null
  private readonly framer = new BodyFramer()
  private headRequest = false
  private requestDone = true
  private responseKeepAlive = true
  private responseStarted = false
  private captureTrailers = false
  private readonly onDataBound = this.onData.bind(this)
  private readonly onCloseBound = this.onClose.bind(this)
  private readonly onErrorBound = this.onError.bind(this)

  /** Set when the socket is read through `onread` (then there are no 'data' events). */
  private readonly reader: SocketReader | null

  /** `reader`: the SocketReader whose `onread` the socket was opened with, or null to read 'data' events. */
  constructor (socket: Socket, owner: ConnectionOwner, reader: SocketReader | null = null) {
    this.socket = socket
    this.owner = owner
    this.reader = reader
    // Perf: callbacks bound once per connection, not per request.
    if (reader !== null) reader.attach(socket, this.onDataBound)
    else socket.on('data', this.onDataBound)
    socket.on('close', this.onCloseBound)
    socket.on('error', this.onErrorBound)
    socket.setNoDelay(true)
  }

  /** Start a request: write its head (and any body bytes already known). `requestDone` when no more body follows. */
  send (listener: ResponseListener, req: OutgoingRequest, body: Buffer[] | null, requestDone: boolean, isHead: boolean): void {
    this.listener = listener
    this.state = S_HEAD
    this.headRequest = isHead
    this.requestDone = requestDone
    this.responseStarted = false
    this.captureTrailers = req.captureTrailers
    this.served++
    const head = serializeRequestHead(req.method, req.path, req.headers, req.contentLength, req.chunked, req.connectionTokens, req.acceptsTrailers ? req.extra + TE_TRAILERS : req.extra)
    const s = this.socket
    if (body === null || body.length === 0) {
      s.write(head, 'latin1')
    } else {
      // Perf: cork so head and body leave in one writev.
      s.cork()
      s.write(head, 'latin1')
      for (let i = 0; i < body.length; i++) s.write(body[i])
      s.uncork()
    }
  }

  /** Forward more request body bytes; false = upstream buffer full, wait for 'drain'. */
  writeBody (chunk: Buffer): boolean {
    return this.socket.write(chunk)
  }

  /** The request body is complete. */
  endRequest (): void {
    this.requestDone = true
    if (this.state === S_IDLE && this.listener === null) this.afterResponse()
  }

  /** Drop the connection (timeout, client gone, retry on another endpoint). */
  destroy (): void {
    this.listener = null
    if (!this.closed) {
      this.closed = true
      this.socket.destroy()
      this.owner.remove(this)
    }
  }

  private onData (chunk: Buffer): void {
    if (this.pending !== null) {
      chunk = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    if (this.parse(chunk) && this.reader !== null) this.reader.keep()
  }

  /** Parse and deliver `chunk`; true when something still references it afterwards (see ResponseListener). */
  private parse (chunk: Buffer): boolean {
    let pos = 0
    let held = false
    const l = this.listener
    if (l === null) {
      // bytes while idle: the upstream broke framing; never reuse this connection
      this.destroy()
      return false
    }
    try {
      while (pos < chunk.length) {
        if (this.state === S_BODY) {
          const n = this.framer.consume(chunk, pos)
          if (n > 0 && l.onResponseBody(pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n))) held = true
          pos += n
          if (this.framer.done) { this.finish(l, pos < chunk.length); return held }
          continue
        }
        if (this.state !== S_HEAD) { this.destroy(); return held }
        const end = findHeadEnd(chunk, pos)
        if (end === -1) { this.pending = pos === 0 ? chunk : chunk.subarray(pos); return true }
        const head = parseResponseHead(chunk, pos, end)
        if (head.status < 200) {
          if (head.status === 101) {
            if (l.onUpgrade === undefined) throw new UpstreamResetError('upstream switched protocols, which is not supported')
            this.handOver(l, head, chunk, pos, end)
            return true
          }
          if (l.onInformational(chunk.subarray(pos, end))) held = true
          pos = end
          continue
        }
        let mode: number
        if (this.headRequest || head.status === 204 || head.status === 304) mode = MODE_NONE
        else if (head.chunked) mode = MODE_CHUNKED
        else if (head.contentLength >= 0) mode = MODE_LENGTH
        else mode = MODE_CLOSE
        this.framer.reset(mode, head.contentLength)
        if (this.captureTrailers) this.framer.captureTrailers = true
        this.responseKeepAlive = head.keepAlive && mode !== MODE_CLOSE
        this.state = S_BODY
        this.responseStarted = true
        const n = this.framer.consume(chunk, end)
        if (l.onResponseHead(head, chunk, pos, end, end + n)) held = true
        pos = end + n
        if (this.framer.done) { this.finish(l, pos < chunk.length); return held }
      }
    } catch (err) {
      this.fail(err as Error)
    }
    return held
  }

  /** 101: stop parsing, leave the pool (the socket stays open) and give the socket to the listener. */
  private handOver (l: ResponseListener, head: ResponseHead, chunk: Buffer, headStart: number, headEnd: number): void {
    const s = this.socket
    if (this.reader !== null) this.reader.passThrough()
    else s.removeListener('data', this.onDataBound)
    s.removeListener('close', this.onCloseBound)
    s.removeListener('error', this.onErrorBound)
    this.listener = null
    this.state = S_IDLE
    this.closed = true
    this.owner.remove(this)
    l.onUpgrade!(head, s, chunk, headStart, headEnd)
  }

  private finish (l: ResponseListener, extraBytes: boolean): void {
    this.state = S_IDLE
    this.listener = null
    if (extraBytes) this.responseKeepAlive = false
    const f = this.framer
    l.onResponseEnd(f.captureTrailers && f.trailerText !== '' ? parseTrailerText(f.trailerText) : null)
    this.afterResponse()
  }

  private afterResponse (): void {
    if (this.closed) return
    if (this.listener !== null) return // the listener already started the next request on this connection
    if (!this.responseKeepAlive) { this.destroy(); return }
    if (!this.requestDone) return // release once the request body is complete (endRequest)
    this.owner.release(this)
  }

  private fail (err: Error): void {
    const l = this.listener
    const started = this.responseStarted
    this.destroy()
    if (l !== null) l.onUpstreamError(err, started)
  }

  private onError (err: Error): void {
    this.fail(new UpstreamResetError(`upstream connection failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))
  }

  private onClose (): void {
    const wasClosed = this.closed
    this.closed = true
    const l = this.listener
    this.listener = null
    if (!wasClosed) this.owner.remove(this)
    if (l === null) return
    if (this.state === S_BODY && this.framer.mode === MODE_CLOSE) {
      this.state = S_IDLE
      l.onResponseEnd(null)
      return
    }
    l.onUpstreamError(new UpstreamResetError('upstream closed the connection before a full response'), this.responseStarted)
  }
}
