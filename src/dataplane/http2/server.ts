/**
 * The server role: accepts the client preface (also when a sniffer already read its first bytes: pass them
 * to attach), turns each new HEADERS into an {@link H2Stream} with its validated {@link H2RequestHead}.
 *
 * @example
 * const conn = new H2ServerConnection({
 *   onStream (stream, head, endStream) {
 *     stream.handler = { onData (s, d) { s.consumed(d.length) }, onEnd (s) { s.respond(200, []); s.end() }, onReset () {} }
 *   }
 * })
 * conn.attach(socket, sniffed)
 */
import type { Socket } from 'node:net'
import { H2Connection } from './connection.ts'
import { PROTOCOL_ERROR, REFUSED_STREAM } from './constants.ts'
import { contentLength, requestHead } from './header-block.ts'
import type { H2Stream } from './stream.ts'
import type { H2Options, H2ServerEvents } from './types.ts'

const TOO_LARGE = ['content-length', '0']

export class H2ServerConnection extends H2Connection {
  private readonly onStreamCb: H2ServerEvents['onStream']

  constructor (events: H2ServerEvents, options?: Partial<H2Options>) {
    super(false, events, options)
    this.onStreamCb = events.onStream
  }

  /** Serve h2 on `socket`; `sniffed`: bytes already read from it (the start of the preface). */
  attach (socket: Socket, sniffed?: Buffer): this {
    this.start(socket, sniffed)
    if (socket.isPaused()) socket.resume()
    return this
  }

  protected onNewStream (id: number, list: string[], endStream: boolean): void {
    const d = this.decoder
    if (this.peerActive >= this.options.maxConcurrentStreams) {
      this.writer.rstStream(id, REFUSED_STREAM)
      return
    }
    const s = this.newStream(id)
    s.headReceived = true
    this.peerStreamOpened()
    if (d.tooLarge) {
      // RFC 9113 §10.5.1: answer 431 rather than drop the connection (the block was decoded, the table is in sync)
      s.remoteEnded = true
      this.sendHead(s, 431, TOO_LARGE, true)
      if (!endStream) this.resetStream(s, 0)
      return
    }
    const head = d.malformed !== null ? d.malformed : requestHead(list)
    if (typeof head === 'string') { this.streamError(s, PROTOCOL_ERROR, `malformed request: ${head}`); return }
    const cl = contentLength(head.headers)
    if (cl === -2) { this.streamError(s, PROTOCOL_ERROR, 'malformed request: invalid content-length'); return }
    s.expectLength = cl
    s.method = head.method
    // Perf: try/catch inline rather than guarded(() => …): no closure per request
    try { this.onStreamCb(s, head, endStream) } catch (err) { this.handlerFailed(s, err); return }
    if (s.closed) return
    if (endStream) this.remoteEnd(s, null)
  }

  protected onResponseHead (s: H2Stream): void {
    // a server never waits for a response head: a second HEADERS on an open stream is trailers (connection.ts)
    this.streamError(s, PROTOCOL_ERROR, 'unexpected HEADERS')
  }
}
