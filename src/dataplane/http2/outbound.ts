/**
 * The sending half of a connection: HEADERS (HPACK-encoded in place in the write slab), DATA within the
 * peer's windows, per-stream queues for what does not fit, and the batch flush (one socket write per turn).
 *
 *   write(data) ──windows open, nothing queued──▶ DATA frame now (fast path)
 *        └──────otherwise──▶ stream queue ──▶ pump(): round robin, one frame per stream per round, while the
 *                                             connection window is open and the socket is not congested
 *   WINDOW_UPDATE / SETTINGS / socket 'drain' ──▶ pump()
 *
 * A stream whose own window is shut leaves the pump list (its WINDOW_UPDATE puts it back); one waiting for
 * the connection window or the socket stays in it. Socket backpressure (`writableNeedDrain`) is treated like
 * a shut connection window, so a peer that grants windows but does not read cannot make us buffer without
 * bound: what is queued stays in the stream queues, where `write()` returns false at the high-water mark.
 *
 * @example
 * out.sendHead(stream, 200, ['content-type', 'application/grpc'], false); out.writeData(stream, msg, false)
 */
import type { Socket } from 'node:net'
import { DEFAULT_WINDOW, FLAG_END_STREAM, FRAME_HEADER_SIZE } from './constants.ts'
import { FrameWriter } from './frame-writer.ts'
import { HpackEncoder, maxBlockSize } from './hpack/encoder.ts'
import type { H2Stream } from './stream.ts'
import type { H2Options, H2Settings } from './types.ts'

/** What the sending half needs from its connection. */
export interface OutboundHost {
  readonly socket: Socket | null
  readonly closed: boolean
  readonly peerSettings: H2Settings
  readonly options: H2Options
  /** Our END_STREAM for `s` is written. */
  localEnd (s: H2Stream): void
  /** Call a handler of `s`, turning a throw into a stream reset. */
  guarded (s: H2Stream, fn: () => void): void
  /** A flush handed bytes to the socket; `congested`: the socket asked us to wait for 'drain'. */
  onFlushed (congested: boolean): void
}

const STATUS_STRINGS: string[] = []
for (let s = 100; s < 600; s++) STATUS_STRINGS[s] = String(s)
/** Bytes batched before a pump flushes and re-checks socket backpressure. */
const PUMP_FLUSH_BYTES = 256 * 1024
const EMPTY = Buffer.alloc(0)
const NO_FIELDS: string[] = []

export class Outbound {
  readonly writer = new FrameWriter()
  readonly encoder = new HpackEncoder(4096)
  /** Connection send window (what the peer lets us send). */
  sendWindow = DEFAULT_WINDOW
  congested = false
  /** Set while the connection handles a read: its flush comes at the end of it. */
  inRead = false
  private sendable: H2Stream[] = []
  private pumping = false
  private flushScheduled = false
  private readonly host: OutboundHost
  private readonly flushBound = (): void => { this.flushScheduled = false; this.flush() }

  constructor (host: OutboundHost) {
    this.host = host
  }

  /** A response head (status ≥ 100) on `s`. */
  sendHead (s: H2Stream, status: number, headers: string[], endStream: boolean): void {
    if (s.closed || this.host.closed) return
    if (s.headSent) throw new Error(`stream ${s.id}: response head already sent`)
    if (status >= 200) s.headSent = true
    this.encodeHeaders(s.id, status, null, headers, endStream)
    if (endStream) { s.endQueued = true; this.host.localEnd(s) }
  }

  /** Client role: the request head. */
  sendRequestHead (s: H2Stream, method: string, scheme: string, authority: string, path: string, headers: string[], endStream: boolean): void {
    s.headSent = true
    this.encodeHeaders(s.id, 0, [':method', method, ':scheme', scheme, ':authority', authority, ':path', path], headers, endStream)
    if (endStream) { s.endQueued = true; this.host.localEnd(s) }
  }

  private encodeHeaders (id: number, status: number, pseudo: string[] | null, headers: string[], endStream: boolean): void {
    const w = this.writer
    const enc = this.encoder
    const room = FRAME_HEADER_SIZE + maxBlockSize(headers, pseudo !== null ? maxBlockSize(pseudo, 0) : 8)
    const b = w.reserve(room)
    const hp = w.pos
    let p = enc.begin(b, hp + FRAME_HEADER_SIZE)
    if (pseudo !== null) p = enc.fields(pseudo, b, p)
    else if (status !== 0) p = enc.field(':status', STATUS_STRINGS[status] ?? String(status), b, p)
    p = enc.fields(headers, b, p)
    w.headersAt(id, endStream ? FLAG_END_STREAM : 0, hp, p - hp - FRAME_HEADER_SIZE, this.host.peerSettings.maxFrameSize)
    this.scheduleFlush()
  }

  writeData (s: H2Stream, data: Buffer, end: boolean): boolean {
    if (s.closed || this.host.closed) return true
    if (!s.headSent) throw new Error(`stream ${s.id}: DATA before the head`)
    if (s.endQueued) throw new Error(`stream ${s.id}: write after end`)
    if (end) s.endQueued = true
    const len = data.length
    // Perf: nothing queued, windows open, one frame: framed at once, no queue touched (the unary gRPC case).
    if (s.bufferedAmount === 0 && !this.congested && len <= s.sendWindow && len <= this.sendWindow && len <= this.host.peerSettings.maxFrameSize) {
      s.sendWindow -= len
      this.sendWindow -= len
      this.writer.data(s.id, end ? FLAG_END_STREAM : 0, data, 0, len)
      if (end) this.host.localEnd(s)
      this.scheduleFlush()
      return true
    }
    if (len > 0) {
      s.queue.push(data)
      s.bufferedAmount += len
    }
    this.schedule(s)
    this.pump()
    if (s.bufferedAmount >= this.host.options.streamHighWaterMark) {
      s.needDrain = true
      return false
    }
    return true
  }

  /** END_STREAM after what is queued, or trailers. */
  endStream (s: H2Stream, trailers: string[] | null): void {
    if (s.closed || this.host.closed || s.endQueued) return
    if (!s.headSent) throw new Error(`stream ${s.id}: end before the head`)
    s.endQueued = true
    if (s.bufferedAmount > 0) {
      s.trailersPending = trailers
      this.schedule(s)
      return
    }
    this.sendEnd(s, trailers)
  }

  private sendEnd (s: H2Stream, trailers: string[] | null): void {
    if (trailers !== null) this.encodeHeaders(s.id, 0, NO_FIELDS, trailers, true)
    else {
      this.writer.data(s.id, FLAG_END_STREAM, EMPTY, 0, 0)
      this.scheduleFlush()
    }
    this.host.localEnd(s)
  }

  /** The peer opened `s`'s window (WINDOW_UPDATE, SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindowOpened (s: H2Stream): void {
    if (s.bufferedAmount > 0 || (s.endQueued && !s.localEnded)) { this.schedule(s); this.pump() }
  }

  /** Put `s` in the list of streams with something to send. */
  schedule (s: H2Stream): void {
    if (s.scheduled || s.closed) return
    s.scheduled = true
    this.sendable.push(s)
  }

  /** Send queued DATA while the windows and the socket allow (see the diagram above). */
  pump (): void {
    if (this.pumping || this.host.closed) return
    this.pumping = true
    const drained: H2Stream[] = []
    let list = this.sendable
    this.sendable = []
    try {
      while (list.length > 0) {
        const next: H2Stream[] = []
        for (let i = 0; i < list.length; i++) {
          const s = list[i]
          if (!s.closed) this.sendOneFrame(s)
          if (s.closed || (s.bufferedAmount === 0 && (s.localEnded || !s.endQueued))) {
            s.scheduled = false
            if (s.needDrain && !s.closed) { s.needDrain = false; drained.push(s) }
          } else if (s.bufferedAmount > 0 && s.sendWindow <= 0) {
            s.scheduled = false // waits for its own WINDOW_UPDATE
          } else {
            next.push(s)
          }
        }
        list = next
        if (this.writer.pending >= PUMP_FLUSH_BYTES) this.flush()
        if (this.congested || this.sendWindow <= 0) break
      }
    } finally {
      this.pumping = false
      // what still waits for the connection window or the socket, then what was scheduled meanwhile
      this.sendable = list.length === 0 ? this.sendable : list.concat(this.sendable)
    }
    this.scheduleFlush()
    for (let i = 0; i < drained.length; i++) {
      const s = drained[i]
      const onDrain = s.handler.onDrain
      if (!s.closed && onDrain !== undefined) this.host.guarded(s, () => onDrain.call(s.handler, s))
    }
  }

  /** One DATA frame from `s`'s queue within its window, the connection's and the peer's frame size; END_STREAM / trailers once empty. */
  private sendOneFrame (s: H2Stream): void {
    if (s.bufferedAmount > 0) {
      const room = this.congested ? 0 : Math.min(s.sendWindow, this.sendWindow, this.host.peerSettings.maxFrameSize)
      if (room <= 0) return
      const head = s.queue[s.queueHead]
      const avail = head.length - s.queueOffset
      const n = Math.min(room, avail)
      const endNow = n === avail && s.queueHead === s.queue.length - 1 && s.endQueued && s.trailersPending === null
      this.writer.data(s.id, endNow ? FLAG_END_STREAM : 0, head, s.queueOffset, n)
      s.sendWindow -= n
      this.sendWindow -= n
      s.bufferedAmount -= n
      if (n === avail) {
        s.queue[s.queueHead] = EMPTY
        s.queueHead++
        s.queueOffset = 0
        if (s.queueHead === s.queue.length) { s.queue = []; s.queueHead = 0 }
      } else {
        s.queueOffset += n
      }
      if (endNow) { this.host.localEnd(s); return }
    }
    if (s.bufferedAmount === 0 && s.endQueued && !s.localEnded) {
      const t = s.trailersPending
      s.trailersPending = null
      this.sendEnd(s, t)
    }
  }

  /** Flush at the end of this turn (or of the read being handled). */
  scheduleFlush (): void {
    if (this.inRead || this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(this.flushBound)
  }

  flush (): void {
    const socket = this.host.socket
    if (socket === null || this.writer.empty) return
    this.writer.flush(socket)
    if (socket.writableNeedDrain) this.congested = true
    this.host.onFlushed(this.congested)
  }

  /** The socket drained: streams that waited for it go again. */
  onSocketDrain (): void {
    this.congested = false
    this.pump()
    this.flush()
  }

  /** Forget queued streams (the connection closed). */
  clear (): void {
    this.sendable = []
  }
}
