/**
 * HTTP/2 to an upstream sidecar (endpoint `protocol: h2`), behind the same interface as an HTTP/1.1
 * {@link UpstreamConnection}, so the exchange (retries, timeouts, metrics) does not care which is used:
 * one multiplexed session per endpoint, one {@link H2UpstreamStream} per request.
 *
 *   exchange ──HTTP/1.1 head bytes──▶ H2UpstreamStream ──h2 HEADERS/DATA──▶ peer sidecar
 *   exchange ◀─HTTP/1.1 head + body (chunked when the peer sends no content-length)── h2 response
 *
 * Chunked request bodies are decoded into plain DATA frames (h2 has no chunked coding).
 */
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2'
import type { Socket } from 'node:net'
import type { Endpoint } from '../../config/snapshot.ts'
import { UpstreamConnectError, UpstreamResetError } from '../../errors.ts'
import { ChunkDecoder, encodeChunk, LAST_CHUNK } from '../http1/chunk-codec.ts'
import { parseRequestHead, parseResponseHead } from '../http1/head-parser.ts'
import { isHopByHop, serializeResponseHead } from '../http1/serialize.ts'
import { H2_CANCEL, http2Module } from '../lazy-http2.ts'
import type { Dialer } from './pool.ts'
import type { ResponseListener, UpstreamLike } from './upstream-connection.ts'


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
      socket = this.dial(ep).socket
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
  private readonly writeData = (data: Buffer): void => { this.socket.write(data) }

  constructor (private readonly h2: H2Session, private readonly scheme: string) {}

  send (listener: ResponseListener, head: string, body: Buffer[] | null, requestDone: boolean, isHead: boolean): void {
    this.listener = listener
    const raw = Buffer.from(head, 'latin1')
    const req = parseRequestHead(raw, 0, raw.length)
    const headers: Record<string, string | string[]> = {
      ':method': req.method,
      ':path': req.target,
      ':authority': req.authority,
      ':scheme': this.scheme
    }
    const h = req.headers
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i]
      if (n === 'host' || isHopByHop(n)) continue
      const prev = headers[n]
      headers[n] = prev === undefined ? h[i + 1] : Array.isArray(prev) ? [...prev, h[i + 1]] : [prev, h[i + 1]]
    }
    if (req.contentLength >= 0) headers['content-length'] = String(req.contentLength)
    if (req.chunked) this.decoder = new ChunkDecoder()
    const noBody = !req.chunked && req.contentLength <= 0
    const stream = this.h2.session!.request(headers, { endStream: noBody })
    this.socket = stream
    stream.on('response', (rh: IncomingHttpHeaders) => this.onResponse(rh, isHead))
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

  private onResponse (rh: IncomingHttpHeaders, isHead: boolean): void {
    const l = this.listener
    if (l === null) return
    const status = Number(rh[':status'])
    if (status < 200) return
    const flat: string[] = []
    let contentLength = -1
    for (const [k, v] of Object.entries(rh)) {
      if (k.charCodeAt(0) === 58 /* : */ || v === undefined) continue
      if (k === 'content-length') { contentLength = Number(v); continue }
      if (Array.isArray(v)) for (const x of v) flat.push(k, x)
      else flat.push(k, String(v))
    }
    const bodyless = isHead || status === 204 || status === 304
    this.chunkedOut = !bodyless && contentLength < 0
    const out = serializeResponseHead(status, flat, bodyless ? -1 : contentLength, this.chunkedOut, false)
    this.started = true
    l.onResponseHead(parseResponseHead(out, 0, out.length), out, 0, out.length, out.length)
  }

  private onEnd (): void {
    const l = this.listener
    if (l === null) return
    if (!this.started) { this.fail(new UpstreamResetError('h2 stream ended without a response')); return }
    if (this.chunkedOut) l.onResponseBody(LAST_CHUNK)
    this.listener = null
    this.closed = true
    l.onResponseEnd()
  }

  private fail (err: Error): void {
    const l = this.listener
    this.destroy()
    if (l !== null) l.onUpstreamError(err instanceof UpstreamResetError ? err : new UpstreamResetError(`h2 upstream failed: ${err.message}`, { cause: err }), this.started)
  }
}
