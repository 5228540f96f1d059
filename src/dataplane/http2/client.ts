/**
 * The client role: sends the preface and our SETTINGS at once, opens streams with request(), respects the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive) and says when it is full
 * (`availableStreams`, `onCapacity`) so a pool can open another connection.
 *
 * @example
 * const conn = new H2ClientConnection({ onCapacity: c => pool.retry(c) })
 * conn.attach(net.connect({ host, port, onread: conn.onread }))
 * const s = conn.request({ method: 'GET', scheme: 'http', authority: 'a', path: '/', headers: [] }, true, handler)
 */
import type { Socket } from 'node:net'
import { H2NoCapacityError } from '../../errors.ts'
import { H2Connection } from './connection.ts'
import { PROTOCOL_ERROR } from './constants.ts'
import { contentLength, responseStatus } from './header-block.ts'
import type { H2Stream } from './stream.ts'
import type { H2ClientEvents, H2Options, H2RequestHead, H2StreamHandler } from './types.ts'

const MAX_STREAM_ID = 0x7fffffff

export class H2ClientConnection extends H2Connection {
  private readonly clientEvents: H2ClientEvents

  constructor (events: H2ClientEvents = {}, options?: Partial<H2Options>) {
    super(true, events, options)
    this.clientEvents = events
  }

  /** Start on a connected (or connecting) socket: the preface and SETTINGS are written at once. */
  attach (socket: Socket): this {
    this.start(socket, undefined)
    return this
  }

  /** Streams that can be opened now (0: full, going away or closed). */
  get availableStreams (): number { return this.availableStreamsInternal() }

  protected override availableStreamsInternal (): number {
    if (this.closed || this.goingAway || this.socket === null) return 0
    const byLimit = this.peerSettings.maxConcurrentStreams - this.localActive
    const byIds = ((MAX_STREAM_ID - this.nextStreamId) >>> 1) + 1
    return Math.max(0, Math.min(byLimit, byIds))
  }

  protected override onCapacityFreed (): void {
    this.clientEvents.onCapacity?.(this)
  }

  /**
   * Open a stream with the request head (`endStream`: no body follows). Throws H2NoCapacityError when
   * `availableStreams` is 0.
   */
  request (head: H2RequestHead, endStream: boolean, handler: H2StreamHandler): H2Stream {
    if (this.availableStreamsInternal() <= 0) {
      throw new H2NoCapacityError(this.closed || this.goingAway ? 'h2 connection is closed or going away' : `h2 connection is at the peer's limit of ${this.peerSettings.maxConcurrentStreams} streams`)
    }
    const id = this.nextStreamId
    this.nextStreamId += 2
    const s = this.newStream(id)
    s.handler = handler
    s.method = head.method
    this.localActive++
    this.out.sendRequestHead(s, head.method, head.scheme, head.authority, head.path, head.headers, endStream)
    return s
  }

  protected onNewStream (): void {
    // isPeerStreamId() is false for a client (push is disabled), so no HEADERS reaches here
  }

  protected onResponseHead (s: H2Stream, list: string[], endStream: boolean): void {
    const status = responseStatus(list)
    if (status < 0) { this.streamError(s, PROTOCOL_ERROR, 'malformed response head'); return }
    const headers = list.slice(2)
    if (status < 200) {
      if (endStream || status === 101) { this.streamError(s, PROTOCOL_ERROR, `informational ${status} ${endStream ? 'with END_STREAM' : 'in HTTP/2'}`); return }
      const h = s.handler
      if (h.onInformational !== undefined) { try { h.onInformational(s, status, headers) } catch (err) { this.handlerFailed(s, err) } }
      return
    }
    s.headReceived = true
    s.status = status
    const cl = contentLength(headers)
    if (cl === -2) { this.streamError(s, PROTOCOL_ERROR, 'malformed response: invalid content-length'); return }
    // a HEAD response, 204 and 304 carry no body whatever content-length says
    s.expectLength = s.method === 'HEAD' || status === 204 || status === 304 ? -1 : cl
    const h = s.handler
    // Perf: try/catch inline rather than guarded(() => …): no closure per response
    if (h.onResponse !== undefined) { try { h.onResponse(s, status, headers, endStream) } catch (err) { this.handlerFailed(s, err); return } }
    if (s.closed) return
    if (endStream) this.remoteEnd(s, null)
  }
}
