/**
 * HTTP/2 from peer sidecars on the inbound listener (ALPN `h2` over mTLS, or cleartext with the h2
 * preface). Each h2 stream becomes one request for the same pipeline as HTTP/1.1: the stream is turned
 * into a {@link RequestHead} plus body bytes (chunk-coded when the caller sent no content-length, since
 * the local app speaks HTTP/1.1), and the HTTP/1.1 response bytes the exchange writes back are parsed
 * into h2 HEADERS and DATA.
 *
 * @example
 * const h2 = new H2Inbound(inboundHandler(ctx)); listener.options.onH2 = (socket, id) => h2.accept(socket, id)
 */
import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { MeshError } from '../../errors.ts'
import { ChunkDecoder, encodeChunk, LAST_CHUNK } from '../http1/chunk-codec.ts'
import { findHeadEnd, parseResponseHead, type RequestHead } from '../http1/head-parser.ts'
import { isHopByHop } from '../http1/serialize.ts'
import { H2_CANCEL, H2_INTERNAL_ERROR, http2Module } from '../lazy-http2.ts'
import type { BodySink, Downstream, RequestHandler } from './downstream-connection.ts'

export class H2Inbound {
  /** Created on the first h2 connection (node:http2 is loaded then, see lazy-http2.ts). */
  private h2Server: Http2Server | null = null
  private readonly identities = new WeakMap<object, string | undefined>()
  private readonly sessions = new Set<ServerHttp2Session>()
  /** Identity of the connection being accepted: 'session' is emitted synchronously inside accept(). */
  private accepting: string | undefined = undefined

  constructor (private readonly handler: RequestHandler) {}

  private get server (): Http2Server {
    if (this.h2Server !== null) return this.h2Server
    const server = http2Module().createServer()
    server.on('session', s => {
      this.identities.set(s, this.accepting)
      this.sessions.add(s)
      s.once('close', () => this.sessions.delete(s))
    })
    server.on('stream', (stream, headers) => this.onStream(stream, headers))
    this.h2Server = server
    return server
  }

  /**
   * Serve h2 on an accepted socket (TLS already handshaken, or cleartext). `sniffed` is the first bytes the
   * listener already read from a cleartext socket: the native h2 session reads the socket's handle and would
   * miss them, so such a socket is served through a small JS duplex that replays them first (cleartext h2
   * is the rare case; mTLS is the mesh default).
   */
  accept (socket: Socket, peerIdentity: string | undefined, sniffed?: Buffer): void {
    this.accepting = peerIdentity
    try {
      this.server.emit('connection', sniffed === undefined ? socket : replaying(socket, sniffed))
    } finally {
      this.accepting = undefined
    }
  }

  close (): void {
    for (const s of this.sessions) s.destroy()
    this.sessions.clear()
  }

  private onStream (stream: ServerHttp2Stream, h: IncomingHttpHeaders): void {
    const flat: string[] = []
    const authority = String(h[':authority'] ?? h.host ?? '')
    flat.push('host', authority)
    let contentLength = -1
    for (const [k, v] of Object.entries(h)) {
      if (k.charCodeAt(0) === 58 || v === undefined || k === 'host') continue
      if (k === 'content-length') contentLength = Number(v)
      if (Array.isArray(v)) for (const x of v) flat.push(k, x)
      else flat.push(k, String(v))
    }
    const ended = stream.endAfterHeaders
    const chunked = contentLength < 0 && !ended
    if (chunked) flat.push('transfer-encoding', 'chunked')
    const req: RequestHead = {
      method: String(h[':method']),
      target: String(h[':path'] ?? '/'),
      minor: 1,
      headers: flat,
      authority,
      contentLength: chunked ? -1 : contentLength,
      chunked,
      keepAlive: true,
      connectionTokens: null,
      upgrade: false,
      expectContinue: false
    }
    const ds = new H2Downstream(stream, stream.session !== undefined ? this.identities.get(stream.session) : undefined)
    const sink: BodySink = this.handler(ds, req)
    if (ended) { sink.onBodyEnd(); return }
    stream.on('data', (d: Buffer) => sink.onBody(chunked ? encodeChunk(d) : d))
    stream.on('end', () => {
      if (chunked) sink.onBody(LAST_CHUNK)
      sink.onBodyEnd()
    })
    stream.on('aborted', () => sink.onAbort(new Error('h2 stream aborted')))
  }
}

/** The response side of one h2 stream, as the exchange sees a downstream connection. */
export class H2Downstream implements Downstream {
  readonly socket: ServerHttp2Stream
  readonly peerIdentity: string | undefined
  closeAfterResponse = false
  responseStarted = false
  statsKey: unknown = null
  statsSlot: unknown = null
  statsVersion = ''
  /** Always: h2 DATA frames are queued in the session, and a partial head is kept. */
  readonly holdsLastWrite = true
  private pending: Buffer | null = null
  private headDone = false
  private decoder: ChunkDecoder | null = null
  private done = false
  private readonly writeData = (d: Buffer): void => { this.socket.write(d) }

  constructor (stream: ServerHttp2Stream, peerIdentity: string | undefined) {
    this.socket = stream
    this.peerIdentity = peerIdentity
    stream.on('error', () => {})
  }

  /** HTTP/1.1 response bytes from the exchange → h2 HEADERS / DATA. */
  write (chunk: Buffer): boolean {
    this.responseStarted = true
    if (this.done || this.socket.destroyed) return true
    if (!this.headDone) {
      if (this.pending !== null) { chunk = Buffer.concat([this.pending, chunk]); this.pending = null }
      let pos = 0
      for (;;) {
        const end = findHeadEnd(chunk, pos)
        if (end === -1) { this.pending = chunk.subarray(pos); return true }
        const head = parseResponseHead(chunk, pos, end)
        pos = end
        if (head.status < 200) continue // informational: h2 peers get the final response only
        const out: Record<string, string | string[] | number> = { ':status': head.status }
        const hs = head.headers
        for (let i = 0; i < hs.length; i += 2) {
          const n = hs[i]
          if (isHopByHop(n) && n !== 'content-length') continue
          const prev = out[n]
          out[n] = prev === undefined ? hs[i + 1] : Array.isArray(prev) ? [...prev, hs[i + 1]] : [String(prev), hs[i + 1]]
        }
        this.socket.respond(out)
        this.headDone = true
        if (head.chunked) this.decoder = new ChunkDecoder()
        if (pos >= chunk.length) return true
        chunk = chunk.subarray(pos)
        break
      }
    }
    if (this.decoder !== null) this.decoder.push(chunk, this.writeData)
    else this.socket.write(chunk)
    return !this.socket.writableNeedDrain
  }

  endResponse (): void {
    if (this.done) return
    this.done = true
    if (!this.socket.destroyed) this.socket.end()
  }

  sendError (err: MeshError): void {
    if (this.done) return
    if (this.responseStarted || this.socket.headersSent) { this.abort(); return }
    const body = `${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`
    this.responseStarted = true
    this.done = true
    if (this.socket.destroyed) return
    this.socket.respond({ ':status': err.status, 'content-type': 'text/plain; charset=utf-8', 'x-meshwork-error': err.code, 'content-length': Buffer.byteLength(body) })
    this.socket.end(body)
  }

  abort (): void {
    this.done = true
    if (!this.socket.destroyed) this.socket.close(this.responseStarted ? H2_INTERNAL_ERROR : H2_CANCEL)
  }

  pause (): void { this.socket.pause() }
  resume (): void { this.socket.resume() }
}

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
  return d
}
