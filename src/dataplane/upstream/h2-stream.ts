/**
 * HTTP/2 to an upstream (an h2-only endpoint, an h2 app, or a peer sidecar for a request that arrived over h2),
 * behind the same interface as an HTTP/1.1 {@link UpstreamConnection}, so the exchange (retries, timeouts, metrics)
 * does not care which is used: one multiplexed session per endpoint, one {@link H2UpstreamStream} per request.
 *
 *   exchange ──OutgoingRequest + body (chunked when no length)──▶ H2UpstreamStream ──HEADERS/DATA/trailers──▶ peer
 *   exchange ◀─HTTP/1.1 head + body (chunked when no length, trailers in the last chunk)── h2 response, 1xx too
 *
 * Chunked request bodies are decoded into plain DATA frames (h2 has no chunked coding); their trailer section
 * becomes a trailers HEADERS frame. Response trailers reach the exchange as the trailer section of the last chunk
 * when the downstream accepts trailers (`acceptsTrailers`), and as a list for `onResponseEnd` when asked to capture
 * them (gRPC status). A HEADERS frame with END_STREAM (gRPC trailers-only) becomes a head with `content-length: 0`.
 */
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2'
import type { Socket } from 'node:net'
import type { Endpoint } from '../../config/snapshot.ts'
import { UpstreamConnectError, UpstreamResetError } from '../../errors.ts'
import { ChunkDecoder, encodeChunk } from '../http1/chunk-codec.ts'
import { lastChunk } from '../http1/trailers.ts'
import { flatFromNodeHeaders, H2_CANCEL, http2Module, nodeHeadersFromFlat } from '../lazy-http2.ts'
import { h1Informational, h1ResponseHead, h2RequestFields } from './h2-translate.ts'
import type { Dialer } from './pool.ts'
import type { OutgoingRequest, ResponseListener, UpstreamLike } from './upstream-connection.ts'

/** NGHTTP2_FLAG_END_STREAM: the 'response' event's flags say the response has no body. */
const FLAG_END_STREAM = 0x1

/** The multiplexed session to one h2 endpoint, reconnected on demand. */
export class H2Session {
  session: ClientHttp2Session | null = null
  private connecting: ((err: Error | null) => void)[] | null = null

  constructor (private readonly endpoint: () => Endpoint, private readonly dial: Dialer, private readonly connectTimeoutMs: number) {}

  get ready (): boolean {
    const s = this.session
    return s !== null && !s.closed && !s.destroyed && !s.connecting
  }

  /** Open (or wait for) the session. */
  open (cb: (err: Error | null) => void): void {
    if (this.ready) { cb(null); return }
    if (this.connecting !== null) { this.connecting.push(cb); return }
    this.connecting = [cb]
    const ep = this.endpoint()
    let socket: Socket
    try {
      socket = this.dial(ep, undefined, true).socket
    } catch (err) {
      this.settle(new UpstreamConnectError(`cannot dial ${ep.id}: ${(err as Error).message}`))
      return
    }
    const session = http2Module().connect(`${ep.tls ? 'https' : 'http'}://${ep.address}:${ep.port}`, { createConnection: () => socket })
    this.session = session
    const timer = setTimeout(() => session.destroy(new Error(`connect timeout after ${this.connectTimeoutMs}ms`)), this.connectTimeoutMs)
    session.once('connect', () => { clearTimeout(timer); this.settle(null) })
    session.once('error', (err: Error) => {
      clearTimeout(timer)
      this.settle(new UpstreamConnectError(`cannot connect to ${ep.id} (h2): ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }))
    })
    session.once('close', () => { clearTimeout(timer); if (this.session === session) this.session = null; this.settle(new UpstreamConnectError(`h2 session to ${ep.id} closed`)) })
  }

  close (): void {
    this.session?.close()
    this.session = null
  }

  private settle (err: Error | null): void {
    const list = this.connecting
    this.connecting = null
    if (list !== null) for (const cb of list) cb(err)
  }
}

/** One request over an h2 session, adapted to the exchange's upstream-connection interface. */
export class H2UpstreamStream implements UpstreamLike {
  socket!: ClientHttp2Stream
  closed = false
  served = 1
  private listener: ResponseListener | null = null
  private decoder: ChunkDecoder | null = null
  private chunkedOut = false
  private started = false
  private acceptsTrailers = false
  private captureTrailers = false
  private trailers: string[] | null = null
  private readonly writeData = (data: Buffer): void => { this.socket.write(data) }

  constructor (private readonly h2: H2Session, private readonly scheme: string) {}

  send (listener: ResponseListener, req: OutgoingRequest, body: Buffer[] | null, requestDone: boolean, isHead: boolean): void {
    this.listener = listener
    this.acceptsTrailers = req.acceptsTrailers
    this.captureTrailers = req.captureTrailers
    const { authority, fields } = h2RequestFields(req)
    const headers = nodeHeadersFromFlat(fields, { ':method': req.method, ':path': req.path, ':authority': authority, ':scheme': this.scheme })
    if (req.chunked) this.decoder = new ChunkDecoder()
    const noBody = !req.chunked && req.contentLength <= 0
    // a chunked body may end with a trailer section: keep the stream open for a trailers frame
    const stream = this.h2.session!.request(headers, { endStream: noBody, waitForTrailers: req.chunked })
    this.socket = stream
    stream.on('response', (rh: IncomingHttpHeaders, flags: number) => this.onResponse(rh, (flags & FLAG_END_STREAM) !== 0, isHead))
    stream.on('headers', (rh: IncomingHttpHeaders) => this.onInformational(rh))
    stream.on('trailers', (th: IncomingHttpHeaders) => { this.trailers = flatFromNodeHeaders(th) })
    if (req.chunked) {
      stream.on('wantTrailers', () => {
        const t = this.decoder?.trailers ?? null
        stream.sendTrailers(t !== null ? nodeHeadersFromFlat(t, {}) : {})
      })
    }
    stream.on('data', (d: Buffer) => {
      const l = this.listener
      if (l !== null) l.onResponseBody(this.chunkedOut ? encodeChunk(d) : d)
    })
    stream.on('end', () => this.onEnd())
    stream.on('error', (err: Error) => this.fail(err))
    stream.on('close', () => { if (this.listener !== null) this.fail(new UpstreamResetError(`h2 stream closed (code ${stream.rstCode})`)) })
    if (body !== null) for (const b of body) this.writeBody(b)
    if (requestDone && !noBody) this.endRequest()
  }

  writeBody (chunk: Buffer): boolean {
    if (this.decoder !== null) {
      this.decoder.push(chunk, this.writeData)
      return !this.socket.writableNeedDrain
    }
    return this.socket.write(chunk)
  }

  endRequest (): void {
    if (!this.socket.writableEnded) this.socket.end()
  }

  destroy (): void {
    this.listener = null
    if (!this.closed) {
      this.closed = true
      if (!this.socket.destroyed) this.socket.close(H2_CANCEL)
    }
  }

  private onInformational (rh: IncomingHttpHeaders): void {
    const l = this.listener
    const status = Number(rh[':status'])
    if (l === null || this.started || !(status >= 100 && status < 200) || status === 101) return
    l.onInformational(h1Informational(status, flatFromNodeHeaders(rh)))
  }

  private onResponse (rh: IncomingHttpHeaders, endStream: boolean, isHead: boolean): void {
    const l = this.listener
    if (l === null) return
    const status = Number(rh[':status'])
    if (status < 200) { this.onInformational(rh); return }
    const { head, bytes, chunked } = h1ResponseHead(status, flatFromNodeHeaders(rh), endStream, isHead)
    this.chunkedOut = chunked
    this.started = true
    l.onResponseHead(head, bytes, 0, bytes.length, bytes.length)
  }

  private onEnd (): void {
    const l = this.listener
    if (l === null) return
    if (!this.started) { this.fail(new UpstreamResetError('h2 stream ended without a response')); return }
    const trailers = this.trailers
    if (this.chunkedOut) l.onResponseBody(lastChunk(this.acceptsTrailers ? trailers : null))
    this.listener = null
    this.closed = true
    l.onResponseEnd(this.captureTrailers ? trailers : null)
  }

  private fail (err: Error): void {
    const l = this.listener
    this.destroy()
    if (l !== null) l.onUpstreamError(err instanceof UpstreamResetError ? err : new UpstreamResetError(`h2 upstream failed: ${err.message}`, { cause: err }), this.started)
  }
}
