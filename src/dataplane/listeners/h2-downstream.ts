/**
 * HTTP/2 from clients on any listener: apps (h2c prior knowledge on the outbound listener, or inside a CONNECT
 * tunnel), peer sidecars (ALPN `h2` over mTLS on the inbound listener), gateway clients (h2c, or ALPN `h2` on a TLS
 * listener). Each h2 stream becomes one request for the same pipeline as HTTP/1.1 (listeners/h2-request.ts), and
 * the HTTP/1.1 response bytes the exchange writes back become HEADERS, DATA and trailers (listeners/h1-to-h2.ts).
 *
 *   stream HEADERS ─▶ RequestHead ─▶ handler(ds, req) ─▶ sink.onBody(DATA as chunks) … last chunk + trailers
 *   exchange ds.write(HTTP/1.1 bytes) ─▶ H1ToH2Response ─▶ respond / additionalHeaders (1xx) / write / sendTrailers
 *
 * Errors the proxy makes for a gRPC request are trailers-only responses (HTTP 200, `grpc-status`, `grpc-message`:
 * grpc/status.ts); a response cut after it started is RST_STREAM INTERNAL_ERROR (the gRPC client sees INTERNAL).
 *
 * @example
 * const h2 = new H2Server(inboundHandler(ctx)); listener.options.onH2 = (socket, id, sniffed) => h2.accept(socket, id, sniffed)
 */
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { ConnectRefusedError, type MeshError } from '../../errors.ts'
import { grpcErrorHeaders } from '../grpc/status.ts'
import { encodeChunk } from '../http1/chunk-codec.ts'
import { lastChunk } from '../http1/trailers.ts'
import { flatFromNodeHeaders, H2_CANCEL, H2_INTERNAL_ERROR, http2Module, nodeHeadersFromFlat } from '../lazy-http2.ts'
import type { BodySink, Downstream, RequestHandler } from './downstream-connection.ts'
import { H1ToH2Response, type H2ResponseSink } from './h1-to-h2.ts'
import { h2RequestHead } from './h2-request.ts'

/** Streams one client connection may open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const H2_MAX_CONCURRENT_STREAMS = 2000

interface SessionInfo { peerIdentity: string | undefined, defaultAuthority: string }

export class H2Server {
  /** Created on the first h2 connection (node:http2 is loaded then, see lazy-http2.ts). */
  private h2Server: Http2Server | null = null
  private readonly info = new WeakMap<object, SessionInfo>()
  private readonly sessions = new Set<ServerHttp2Session>()
  /** The connection being accepted: 'session' is emitted synchronously inside accept(). */
  private accepting: SessionInfo | null = null

  constructor (private readonly handler: RequestHandler) {}

  private get server (): Http2Server {
    if (this.h2Server !== null) return this.h2Server
    const server = http2Module().createServer({ settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS } })
    server.on('session', s => {
      this.info.set(s, this.accepting ?? { peerIdentity: undefined, defaultAuthority: '' })
      this.sessions.add(s)
      s.once('close', () => this.sessions.delete(s))
    })
    server.on('stream', (stream, headers, flags) => this.onStream(stream, headers, flags))
    this.h2Server = server
    return server
  }

  /**
   * Serve h2 on an accepted socket (TLS already handshaken, or cleartext). `sniffed` is the first bytes the
   * listener already read from a cleartext socket: the native h2 session reads the socket's handle and would
   * miss them, so such a socket is served through a small JS duplex that replays them first.
   * `defaultAuthority` is used by streams without `:authority` (a CONNECT tunnel's target).
   */
  accept (socket: Socket, peerIdentity: string | undefined, sniffed?: Buffer, defaultAuthority = ''): void {
    this.accepting = { peerIdentity, defaultAuthority }
    try {
      this.server.emit('connection', sniffed === undefined ? socket : replaying(socket, sniffed))
    } finally {
      this.accepting = null
    }
  }

  close (): void {
    for (const s of this.sessions) s.destroy()
    this.sessions.clear()
  }

  private onStream (stream: ServerHttp2Stream, h: IncomingHttpHeaders, flags: number): void {
    const info = (stream.session !== undefined ? this.info.get(stream.session) : undefined) ?? { peerIdentity: undefined, defaultAuthority: '' }
    const method = String(h[':method'])
    const ended = (flags & 0x1) !== 0 || stream.endAfterHeaders
    const req = h2RequestHead(method, h[':path'] as string | undefined, h[':authority'] as string | undefined, flatFromNodeHeaders(h), ended, info.defaultAuthority)
    const ds = new H2Downstream(stream, info.peerIdentity, method === 'HEAD')
    if (method === 'CONNECT' || req.target === '') {
      // CONNECT over h2 (RFC 9113 §8.5) and extended CONNECT are not served: only HTTP/1.1 CONNECT (filters/connect.ts)
      ds.sendError(new ConnectRefusedError('CONNECT over h2 is not served: use HTTP/1.1 CONNECT, or h2c prior knowledge on the outbound listener'), req.grpc)
      return
    }
    const sink: BodySink = this.handler(ds, req)
    if (ended) { sink.onBodyEnd(); return }
    const chunked = req.chunked
    let trailers: string[] | null = null
    stream.on('data', (d: Buffer) => sink.onBody(chunked ? encodeChunk(d) : d))
    stream.on('trailers', (t: IncomingHttpHeaders) => { trailers = flatFromNodeHeaders(t) })
    stream.on('end', () => {
      if (chunked) sink.onBody(lastChunk(trailers))
      sink.onBodyEnd()
    })
    stream.on('aborted', () => sink.onAbort(new Error('h2 stream aborted')))
  }
}

/** The response side of one h2 stream, as the exchange sees a downstream connection. */
export class H2Downstream implements Downstream, H2ResponseSink {
  readonly socket: ServerHttp2Stream
  readonly peerIdentity: string | undefined
  readonly h2 = true
  closeAfterResponse = false
  responseStarted = false
  statsKey: unknown = null
  statsSlot: unknown = null
  statsVersion = ''
  /** Always: h2 DATA frames are queued in the session, and a partial head is kept. */
  readonly holdsLastWrite = true
  private readonly out: H1ToH2Response
  private done = false
  private trailers: string[] | null = null

  constructor (stream: ServerHttp2Stream, peerIdentity: string | undefined, headRequest: boolean) {
    this.socket = stream
    this.peerIdentity = peerIdentity
    this.out = new H1ToH2Response(this, headRequest)
    stream.on('error', noop)
    stream.on('wantTrailers', () => {
      const t = this.trailers
      stream.sendTrailers(t !== null ? nodeHeadersFromFlat(t, {}) : {})
    })
  }

  /** HTTP/1.1 response bytes from the exchange → h2 HEADERS / DATA / trailers. */
  write (chunk: Buffer): boolean {
    this.responseStarted = true
    if (this.done || this.socket.destroyed) return true
    return this.out.write(chunk)
  }

  endResponse (): void {
    if (this.done) return
    this.done = true
    this.out.end()
  }

  sendError (err: MeshError, grpc: boolean): void {
    if (this.done) return
    if (this.out.started || this.socket.headersSent) { this.abort(); return }
    this.responseStarted = true
    this.done = true
    if (this.socket.destroyed) return
    if (grpc) {
      this.socket.respond(nodeHeadersFromFlat(grpcErrorHeaders(err), { ':status': 200 }), { endStream: true })
      return
    }
    const body = `${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`
    this.socket.respond({ ':status': err.status, 'content-type': 'text/plain; charset=utf-8', 'x-meshwork-error': err.code, 'content-length': Buffer.byteLength(body) })
    this.socket.end(body)
  }

  abort (): void {
    this.done = true
    if (!this.socket.destroyed) this.socket.close(this.responseStarted ? H2_INTERNAL_ERROR : H2_CANCEL)
  }

  pause (): void { this.socket.pause() }
  resume (): void { this.socket.resume() }

  // --- H2ResponseSink: what H1ToH2Response makes of the exchange's bytes --------------------------------

  informational (status: number, fields: string[]): void {
    if (!this.socket.destroyed && !this.socket.headersSent) this.socket.additionalHeaders(nodeHeadersFromFlat(fields, { ':status': status }))
  }

  head (status: number, fields: string[], endStream: boolean, mayHaveTrailers: boolean): void {
    if (this.socket.destroyed) return
    this.socket.respond(nodeHeadersFromFlat(fields, { ':status': status }), { endStream, waitForTrailers: mayHaveTrailers })
  }

  data (chunk: Buffer): boolean {
    if (this.socket.destroyed) return true
    return this.socket.write(chunk)
  }

  end (trailers: string[] | null): void {
    this.trailers = trailers
    if (!this.socket.destroyed) this.socket.end()
  }
}

function noop (): void {}

/** A duplex over `socket` whose readable side starts with `first`. */
function replaying (socket: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read () { socket.resume() },
    write (chunk: Buffer, _enc, cb) { socket.write(chunk, cb) },
    final (cb) { socket.end(); cb() },
    destroy (err, cb) { socket.destroy(); cb(err) }
  })
  d.push(first)
  socket.on('data', (c: Buffer) => { if (!d.push(c)) socket.pause() })
  socket.on('end', () => d.push(null))
  socket.on('close', () => d.destroy())
  socket.on('error', err => d.destroy(err))
  socket.resume()
  return d
}
