/**
 * One request over HTTP/2 to an upstream (an h2-only endpoint, an h2 app, or a peer sidecar for a request that arrived
 * over h2), on our codec (src/dataplane/http2/), behind the same interface as an HTTP/1.1 {@link UpstreamConnection},
 * so the exchange (retries, timeouts, metrics) does not care which is used.
 *
 *   exchange ──OutgoingRequest + body (chunked when no length)──▶ H2UpstreamStream ──HEADERS/DATA/trailers──▶ peer
 *   exchange ◀─HTTP/1.1 head + body (chunked when no length, trailers in the last chunk)── response, 1xx too
 *
 * Chunked request bodies are decoded into plain DATA (h2 has no chunked coding); their trailer section becomes a
 * trailers HEADERS frame. Response trailers reach the exchange as the trailer section of the last chunk when the
 * downstream accepts trailers (`acceptsTrailers`), and as a list for `onResponseEnd` when asked to capture them
 * (gRPC status). A response head with END_STREAM (gRPC trailers-only) becomes a head with `content-length: 0`.
 *
 * Flow control: received DATA is given back to the codec (`consumed`, hence WINDOW_UPDATE) once the exchange took it
 * without pausing this stream; while paused (the downstream is full) it is given back on resume, so a slow
 * downstream holds the upstream peer back instead of filling the proxy's memory.
 */
import { H2RefusedStreamError, type MeshError, UpstreamResetError } from '../../errors.ts'
import { ChunkDecoder, encodeChunk } from '../http1/chunk-codec.ts'
import { lastChunk } from '../http1/trailers.ts'
import { CANCEL } from '../http2/constants.ts'
import type { H2Stream } from '../http2/stream.ts'
import type { H2StreamHandler } from '../http2/types.ts'
import type { H2Session } from './h2-session.ts'
import { h1Informational, h1ResponseHead, h2RequestFields } from './h2-translate.ts'
import type { OutgoingRequest, ResponseListener, UpstreamLike } from './upstream-connection.ts'

const EMPTY = Buffer.alloc(0)

export class H2UpstreamStream implements UpstreamLike, H2StreamHandler {
  /** This object stands in for a socket: 'drain' / 'close' listeners, pause / resume of the response. */
  readonly socket = this
  closed = false
  /** > 1 makes a failure before the response eligible for the exchange's transparent retry (REFUSED_STREAM). */
  served = 1
  private stream: H2Stream | null = null
  private listener: ResponseListener | null = null
  private decoder: ChunkDecoder | null = null
  private chunkedOut = false
  private started = false
  private acceptsTrailers = false
  private captureTrailers = false
  private paused = false
  /** Bytes received while paused, given back on resume. */
  private unconsumed = 0
  private drainFns: (() => void)[] | null = null
  private closeFns: (() => void)[] | null = null
  private readonly writeData = (data: Buffer): void => { this.stream!.write(data) }

  constructor (private readonly session: H2Session, private readonly scheme: string) {}

  // --- the socket-like surface the exchange uses ------------------------------------------------------

  once (event: 'drain' | 'close', fn: () => void): this {
    if (event === 'drain') (this.drainFns ??= []).push(fn)
    else (this.closeFns ??= []).push(fn)
    return this
  }

  pause (): this { this.paused = true; return this }

  resume (): this {
    this.paused = false
    const n = this.unconsumed
    if (n > 0 && this.stream !== null) { this.unconsumed = 0; this.stream.consumed(n) }
    return this
  }

  // --- UpstreamLike ----------------------------------------------------------------------------------

  send (listener: ResponseListener, req: OutgoingRequest, body: Buffer[] | null, requestDone: boolean, isHead: boolean): void {
    this.listener = listener
    this.acceptsTrailers = req.acceptsTrailers
    this.captureTrailers = req.captureTrailers
    const { authority, fields } = h2RequestFields(req)
    if (req.chunked) this.decoder = new ChunkDecoder()
    const noBody = !req.chunked && req.contentLength <= 0
    try {
      this.stream = this.session.conn.request({ method: req.method, scheme: this.scheme, authority, path: req.path, headers: fields }, noBody, this)
    } catch (err) {
      // no stream slot after all (the session went away between acquire and send): nothing reached the peer
      this.served = 2
      queueMicrotask(() => this.fail(err as MeshError))
      return
    }
    void isHead
    if (body !== null) for (let i = 0; i < body.length; i++) this.writeBody(body[i])
    if (requestDone && !noBody) this.endRequest()
  }

  writeBody (chunk: Buffer): boolean {
    const s = this.stream
    if (s === null || s.closed) return true
    if (this.decoder !== null) {
      this.decoder.push(chunk, this.writeData)
      return !s.needDrain
    }
    return s.write(chunk)
  }

  endRequest (): void {
    const s = this.stream
    if (s === null || s.localEnded || s.endQueued || s.closed) return
    s.end(this.decoder !== null ? this.decoder.trailers : null)
  }

  destroy (): void {
    this.listener = null
    if (this.closed) return
    this.closed = true
    const s = this.stream
    if (s !== null && !s.closed) s.reset(CANCEL)
    this.emitClose()
  }

  // --- H2StreamHandler (the codec's callbacks) --------------------------------------------------------

  onInformational (_s: H2Stream, status: number, headers: string[]): void {
    const l = this.listener
    if (l !== null && !this.started) l.onInformational(h1Informational(status, headers))
  }

  onResponse (s: H2Stream, status: number, headers: string[], endStream: boolean): void {
    const l = this.listener
    if (l === null) return
    const head = h1ResponseHead(status, headers, endStream, s.method === 'HEAD')
    this.chunkedOut = head.chunked
    this.started = true
    l.onResponseHead(head, EMPTY, 0, 0, 0)
  }

  onData (s: H2Stream, data: Buffer): void {
    const l = this.listener
    if (l !== null) l.onResponseBody(this.chunkedOut ? encodeChunk(data) : data)
    // Perf: give the window back at once unless the exchange paused us (the downstream is full)
    if (this.paused && this.listener !== null) this.unconsumed += data.length
    else s.consumed(data.length)
  }

  onEnd (_s: H2Stream, trailers: string[] | null): void {
    const l = this.listener
    if (l === null) return
    if (!this.started) { this.fail(new UpstreamResetError('h2 stream ended without a response')); return }
    if (this.chunkedOut) l.onResponseBody(lastChunk(this.acceptsTrailers ? trailers : null))
    this.listener = null
    this.closed = true
    l.onResponseEnd(this.captureTrailers ? trailers : null)
    this.emitClose()
  }

  onReset (_s: H2Stream, err: MeshError): void {
    // a stream the peer did not process (REFUSED_STREAM, above a GOAWAY's last stream id) is safe to send again
    if (err instanceof H2RefusedStreamError && !this.started) this.served = 2
    this.fail(err)
  }

  onDrain (): void {
    const fns = this.drainFns
    this.drainFns = null
    if (fns !== null) for (const fn of fns) fn()
  }

  private fail (err: MeshError): void {
    const l = this.listener
    this.listener = null
    const started = this.started
    if (!this.closed) { this.closed = true; this.emitClose() }
    if (l !== null) l.onUpstreamError(err instanceof UpstreamResetError ? err : new UpstreamResetError(`h2 upstream: ${err.code}: ${err.message}`, { cause: err }), started)
  }

  private emitClose (): void {
    const fns = this.closeFns
    this.closeFns = null
    if (fns !== null) for (const fn of fns) fn()
  }
}
