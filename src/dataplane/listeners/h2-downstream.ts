/**
 * HTTP/2 from clients on any listener, on our codec (src/dataplane/http2/, server role): apps (h2c prior knowledge on
 * the outbound listener, or inside a CONNECT tunnel), peer sidecars (ALPN `h2` over mTLS on the inbound listener),
 * gateway clients (h2c, or ALPN `h2` on a TLS listener). Each stream becomes one request for the same pipeline as
 * HTTP/1.1 (listeners/h2-request.ts), and the HTTP/1.1 response bytes the exchange writes back become HEADERS, DATA
 * and trailers (listeners/h1-to-h2.ts).
 *
 *   stream HEADERS ─▶ RequestHead ─▶ handler(ds, req) ─▶ sink.onBody(DATA, chunk-coded when no length) … last chunk + trailers
 *   exchange ds.write(HTTP/1.1 bytes) ─▶ H1ToH2Response ─▶ respond / informational (1xx) / write / end(trailers)
 *
 * Errors the proxy makes for a gRPC request are trailers-only responses (HTTP 200, `grpc-status`, `grpc-message`:
 * grpc/status.ts); a response cut after it started is RST_STREAM INTERNAL_ERROR (the gRPC client sees INTERNAL).
 *
 * Flow control: request DATA is given back to the codec (`consumed`, hence WINDOW_UPDATE to the client) once the
 * exchange took it without pausing the stream; while paused (the upstream is full) it is given back on resume. So per
 * stream the proxy holds at most the stream receive window + the codec's send high-water mark + one frame.
 *
 * @example
 * const h2 = new H2Server(inboundHandler(ctx)); listener.options.onH2 = (socket, id, sniffed) => h2.accept(socket, id, sniffed)
 */
import type { Socket } from 'node:net'
import { ConnectRefusedError, type MeshError } from '../../errors.ts'
import { grpcErrorHeaders } from '../grpc/status.ts'
import { encodeChunk } from '../http1/chunk-codec.ts'
import { lastChunk } from '../http1/trailers.ts'
import { CANCEL, INTERNAL_ERROR } from '../http2/constants.ts'
import type { H2ServerConnection } from '../http2/index.ts'
import type { H2Stream } from '../http2/stream.ts'
import type { H2Options, H2RequestHead, H2StreamHandler } from '../http2/types.ts'
import type { ResponseHead } from '../http1/head-parser.ts'
import type { BodySink, Downstream, RequestHandler } from './downstream-connection.ts'
import { DISCARD_SINK } from './downstream-connection.ts'
import { H1ToH2Response, type H2ResponseSink } from './h1-to-h2.ts'
import { h2RequestHead } from './h2-request.ts'
import { PROXY_H2_WINDOWS } from '../upstream/h2-session.ts'
import { h2Codec, loadH2Codec } from '../lazy-h2.ts'

/**
 * Codec options of client connections (both roles use {@link PROXY_H2_WINDOWS}). Streams one connection may open at
 * once: 2,000 (a gRPC client multiplexes everything on one connection; the acceptance test opens 1,000).
 */
export const DOWNSTREAM_H2_OPTIONS: Partial<H2Options> = { ...PROXY_H2_WINDOWS, maxConcurrentStreams: 2000 }

export class H2Server {
  private readonly conns = new Set<H2ServerConnection>()

  constructor (private readonly handler: RequestHandler) {}

  /**
   * Serve h2 on an accepted socket (TLS already handshaken, or cleartext). `sniffed` is the bytes the listener already
   * read (the preface, maybe more); `defaultAuthority` is used by streams without `:authority` (a CONNECT tunnel's target).
   */
  accept (socket: Socket, peerIdentity: string | undefined, sniffed?: Buffer, defaultAuthority = ''): void {
    const codec = h2Codec()
    if (codec === null) {
      // the first h2 connection of this process: load the codec, the socket waits (paused by the listener's sniff)
      loadH2Codec().then(() => { if (!socket.destroyed) this.accept(socket, peerIdentity, sniffed, defaultAuthority) }, () => socket.destroy())
      return
    }
    const conn = new codec.H2ServerConnection({
      onStream: (stream, head, endStream) => this.onStream(stream, head, endStream, peerIdentity, defaultAuthority),
      onClose: c => { this.conns.delete(c as H2ServerConnection) }
    }, DOWNSTREAM_H2_OPTIONS)
    this.conns.add(conn)
    conn.attach(socket, sniffed)
    socket.resume()
  }

  /** Listener stopping: GOAWAY, streams in flight finish. */
  shutdown (): void {
    for (const c of this.conns) c.shutdown()
  }

  close (): void {
    for (const c of this.conns) c.destroy()
    this.conns.clear()
  }

  get connections (): number { return this.conns.size }

  private onStream (stream: H2Stream, head: H2RequestHead, endStream: boolean, peerIdentity: string | undefined, defaultAuthority: string): void {
    const req = h2RequestHead(head.method, head.path, head.authority, head.headers, endStream, defaultAuthority)
    const ds = new H2Downstream(stream, peerIdentity, head.method === 'HEAD', req.chunked)
    stream.handler = ds
    if (head.method === 'CONNECT' || req.target === '') {
      // CONNECT over h2 (RFC 9113 §8.5): not served; HTTP/1.1 CONNECT on the outbound listener is (filters/connect.ts)
      ds.sink = DISCARD_SINK
      ds.sendError(new ConnectRefusedError('CONNECT over h2 is not served: use HTTP/1.1 CONNECT, or h2c prior knowledge on the outbound listener'), req.grpc)
      return
    }
    ds.sink = this.handler(ds, req)
  }
}

/** One h2 stream: the request side feeds the exchange's sink, the response side is the exchange's downstream. */
export class H2Downstream implements Downstream, H2ResponseSink, H2StreamHandler {
  /** This object stands in for a socket: the exchange waits for its 'drain'. */
  readonly socket = this
  readonly peerIdentity: string | undefined
  readonly h2 = true
  closeAfterResponse = false
  responseStarted = false
  statsKey: unknown = null
  statsSlot: unknown = null
  statsVersion = ''
  /** Always: the codec references written buffers until they are on the socket. */
  readonly holdsLastWrite = true
  sink: BodySink = DISCARD_SINK
  private readonly stream: H2Stream
  private readonly out: H1ToH2Response
  private readonly chunked: boolean
  private done = false
  private paused = false
  private unconsumed = 0
  private drainFns: (() => void)[] | null = null

  constructor (stream: H2Stream, peerIdentity: string | undefined, headRequest: boolean, chunked: boolean) {
    this.stream = stream
    this.peerIdentity = peerIdentity
    this.chunked = chunked
    this.out = new H1ToH2Response(this, headRequest)
  }

  once (_event: 'drain', fn: () => void): this {
    (this.drainFns ??= []).push(fn)
    return this
  }

  // --- request side: the codec's callbacks ------------------------------------------------------------

  onData (s: H2Stream, data: Buffer): void {
    this.sink.onBody(this.chunked ? encodeChunk(data) : data)
    // Perf: give the window back at once unless the exchange paused us (its upstream is full)
    if (this.paused && !this.done) this.unconsumed += data.length
    else s.consumed(data.length)
  }

  onEnd (_s: H2Stream, trailers: string[] | null): void {
    if (this.chunked) this.sink.onBody(lastChunk(trailers))
    this.sink.onBodyEnd()
  }

  onReset (_s: H2Stream, err: MeshError): void {
    const wasDone = this.done
    this.done = true
    if (!wasDone) this.sink.onAbort(err)
  }

  onDrain (): void {
    const fns = this.drainFns
    this.drainFns = null
    if (fns !== null) for (const fn of fns) fn()
  }

  // --- response side: Downstream ----------------------------------------------------------------------

  /** HTTP/1.1 response bytes from the exchange → h2 HEADERS / DATA / trailers. */
  write (chunk: Buffer): boolean {
    this.responseStarted = true
    if (this.done || this.stream.closed) return true
    return this.out.write(chunk)
  }

  writeHead (head: ResponseHead, headers: readonly string[]): boolean {
    this.responseStarted = true
    if (this.done || this.stream.closed) return true
    this.out.writeHead(head, headers)
    return true
  }

  endResponse (): void {
    if (this.done) return
    this.done = true
    this.out.end()
    // the request may still be arriving (an early response): its bytes are not wanted any more
    if (this.unconsumed > 0) { this.stream.consumed(this.unconsumed); this.unconsumed = 0 }
  }

  sendError (err: MeshError, grpc: boolean): void {
    if (this.done) return
    if (this.out.started || this.stream.headSent) { this.abort(); return }
    this.responseStarted = true
    this.done = true
    if (this.stream.closed) return
    if (grpc) {
      this.stream.respond(200, grpcErrorHeaders(err), true)
      return
    }
    const body = Buffer.from(`${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`, 'utf8')
    this.stream.respond(err.status, ['content-type', 'text/plain; charset=utf-8', 'x-meshwork-error', err.code, 'content-length', String(body.length)], false)
    this.stream.write(body)
    this.stream.end()
  }

  abort (): void {
    this.done = true
    if (!this.stream.closed) this.stream.reset(this.responseStarted ? INTERNAL_ERROR : CANCEL)
  }

  pause (): void { this.paused = true }

  resume (): void {
    this.paused = false
    const n = this.unconsumed
    if (n > 0) { this.unconsumed = 0; if (!this.stream.closed) this.stream.consumed(n) }
  }

  // --- H2ResponseSink: what H1ToH2Response makes of the exchange's bytes --------------------------------

  informational (status: number, fields: string[]): void {
    if (!this.stream.closed && !this.stream.headSent) this.stream.informational(status, fields)
  }

  head (status: number, fields: string[], endStream: boolean): void {
    if (!this.stream.closed) this.stream.respond(status, fields, endStream)
  }

  data (chunk: Buffer): boolean {
    if (this.stream.closed) return true
    return this.stream.write(chunk)
  }

  end (trailers: string[] | null): void {
    if (!this.stream.closed) this.stream.end(trailers)
  }
}
