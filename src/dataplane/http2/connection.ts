/**
 * The HTTP/2 connection, both roles (RFC 9113): frames in (FrameReader) and out (FrameWriter), HPACK state,
 * SETTINGS, PING, GOAWAY, the stream table, flow control both ways and the flood guards. The role classes
 * (server.ts, client.ts) add how streams start.
 *
 *   socket ─▶ FrameReader ─▶ onFrame / onData* ─▶ stream state machine ─▶ handler callbacks
 *   caller ─▶ stream.respond / write / end ─▶ windows ok? ─▶ FrameWriter ─▶ one socket write per turn
 *                                                 └ no ─▶ stream queue ─▶ pump() on WINDOW_UPDATE / drain
 *
 * Connection errors send GOAWAY with the code and close; stream errors send RST_STREAM. Nothing thrown by a
 * handler escapes into the socket's callbacks.
 *
 * @example see server.ts / client.ts
 */
import type { Socket } from 'node:net'
import { H2ConnectionClosedError, H2ProtocolError, H2RefusedStreamError, H2StreamResetError, type MeshError } from '../../errors.ts'
import { now } from '../resilience/clock.ts'
import {
  COMPRESSION_ERROR, DEFAULT_WINDOW, ENHANCE_YOUR_CALM, errorName, FLAG_ACK, FLAG_END_STREAM, FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION, FRAME_GOAWAY, FRAME_HEADERS, FRAME_PING, FRAME_PRIORITY, FRAME_PUSH_PROMISE, FRAME_RST_STREAM,
  FRAME_SETTINGS, FRAME_SIZE_ERROR, FRAME_WINDOW_UPDATE, INTERNAL_ERROR, MAX_WINDOW, MIN_MAX_FRAME_SIZE, NO_ERROR,
  PREFACE, PROTOCOL_ERROR, REFUSED_STREAM, STREAM_CLOSED
} from './constants.ts'
import { ConnectionError } from './connection-error.ts'
import { FloodGuard } from './flood-guard.ts'
import { FrameReader, type FrameSink } from './frame-reader.ts'
import type { FrameWriter } from './frame-writer.ts'
import { HeaderAssembler } from './header-assembler.ts'
import { trailersOk } from './header-block.ts'
import { HpackDecoder, HpackError } from './hpack/decoder.ts'
import { Outbound } from './outbound.ts'
import { applyPeerSettings, localSettingsPairs } from './settings.ts'
import { SlabReader } from './slab-reader.ts'
import { H2Stream, type StreamOwner } from './stream.ts'
import { DEFAULT_OPTIONS, type H2ConnectionEvents, type H2Options, type H2Settings } from './types.ts'

/** How many ids of streams we reset are remembered (frames for them are ignored, not errors). */
const RECENT_RESETS = 256

export abstract class H2Connection implements FrameSink, StreamOwner {
  readonly isClient: boolean
  readonly options: H2Options
  socket: Socket | null = null
  readonly localSettings: H2Settings
  readonly peerSettings: H2Settings
  /** The peer's first SETTINGS arrived. */
  ready = false
  closed = false
  /** GOAWAY sent or received: no new streams. */
  goingAway = false
  /** Coarse ms of the last read (for the owner's idle / stall timeouts). */
  lastReadAt = 0
  /** Open streams (both directions). */
  readonly streams = new Map<number, H2Stream>()
  protected readonly events: H2ConnectionEvents
  protected readonly out: Outbound = new Outbound(this)
  protected readonly writer: FrameWriter = this.out.writer
  protected readonly reader: FrameReader
  protected readonly decoder: HpackDecoder
  protected readonly guard: FloodGuard
  /** Highest stream id the peer opened. */
  protected lastPeerStreamId = 0
  /** Next id for a stream we open. */
  protected nextStreamId: number
  protected localActive = 0
  protected peerActive = 0
  private recvWindow = DEFAULT_WINDOW
  private connUnacked = 0
  /** Our SETTINGS_INITIAL_WINDOW_SIZE once the peer ACKed it (65,535 until then). */
  private localInitialWindow = DEFAULT_WINDOW
  private settingsAcked = false
  private goawaySent = false
  private peerGoawayLastId = -1
  private readonly assembler: HeaderAssembler
  /** DATA frame in progress: its stream (null: ignored), declared length. */
  private dataStream: H2Stream | null = null
  private dataLength = 0
  private dataIgnored = false
  private readonly recentResets = new Int32Array(RECENT_RESETS)
  private recentResetsPos = 0
  /** Streams with queued DATA waiting for window or socket drain (FIFO, round robin). */
  private readonly pings: { payload: bigint, at: number, cb: (err: Error | null, rttMs: number) => void }[] = []
  private pingCounter = 0n
  private closeError: MeshError | null = null
  private endTimer: NodeJS.Timeout | null = null
  private slabReader: SlabReader | null = null

  constructor (isClient: boolean, events: H2ConnectionEvents, options: Partial<H2Options> | undefined) {
    this.isClient = isClient
    this.events = events
    const o = this.options = { ...DEFAULT_OPTIONS, ...options }
    this.localSettings = {
      headerTableSize: o.headerTableSize,
      enablePush: false,
      maxConcurrentStreams: o.maxConcurrentStreams,
      initialWindowSize: o.initialStreamWindow,
      maxFrameSize: MIN_MAX_FRAME_SIZE,
      maxHeaderListSize: o.maxHeaderListSize
    }
    this.peerSettings = {
      headerTableSize: 4096,
      enablePush: true,
      // a client assumes 100 until the server's SETTINGS say otherwise (RFC 9113 §6.5.2 recommends ≥ 100)
      maxConcurrentStreams: isClient ? 100 : MAX_WINDOW,
      initialWindowSize: DEFAULT_WINDOW,
      maxFrameSize: MIN_MAX_FRAME_SIZE,
      maxHeaderListSize: MAX_WINDOW
    }
    this.reader = new FrameReader(this, !isClient, MIN_MAX_FRAME_SIZE)
    this.assembler = new HeaderAssembler(o.maxHeaderBlockSize, o.maxContinuationFrames)
    this.decoder = new HpackDecoder(o.headerTableSize, o.maxHeaderListSize)
    this.guard = new FloodGuard(o.resetWindowMs, o.maxResetsPerWindow, o.maxControlFramesPerWindow, o.maxOutboundControlFrames)
    this.nextStreamId = isClient ? 1 : 2
  }

  /**
   * Node's `onread` option for net.connect / tls.connect: reads go into slabs the connection owns (see
   * slab-reader.ts). Pass it when dialing, then `attach(socket)`.
   */
  get onread (): SlabReader['onread'] {
    this.slabReader ??= new SlabReader(chunk => this.onChunk(chunk))
    return this.slabReader.onread
  }

  /** Open streams. */
  get activeStreams (): number { return this.streams.size }

  /** Connection send window: what the peer lets us send before its next WINDOW_UPDATE. */
  get sendWindow (): number { return this.out.sendWindow }

  /** Bytes queued in streams (not yet framed for lack of window or socket drain). */
  get bufferedBytes (): number {
    let n = 0
    for (const s of this.streams.values()) n += s.bufferedAmount
    return n
  }

  /** Start on `socket`; `first` is bytes already read from it (a sniffer's). */
  protected start (socket: Socket, first: Buffer | undefined): void {
    this.socket = socket
    this.lastReadAt = now()
    socket.setNoDelay(true)
    if (this.slabReader === null) socket.on('data', (chunk: Buffer) => this.onChunk(chunk))
    socket.on('drain', () => this.out.onSocketDrain())
    socket.on('error', (err: Error) => { this.closeError ??= new H2ConnectionClosedError(`socket error: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 0, { cause: err }) })
    socket.on('close', () => this.onSocketClose())
    if (this.isClient) this.writer.raw(PREFACE)
    const o = this.options
    this.writer.settings(localSettingsPairs(o))
    if (o.connectionWindow > DEFAULT_WINDOW) {
      this.writer.windowUpdate(0, o.connectionWindow - DEFAULT_WINDOW)
      this.recvWindow = o.connectionWindow
    }
    if (first !== undefined && first.length > 0) this.onChunk(first)
    else this.out.flush()
  }

  // ---------------------------------------------------------------- reading

  /** One chunk from the socket. */
  private onChunk (chunk: Buffer): void {
    if (this.closed) return
    this.lastReadAt = now()
    this.out.inRead = true
    try {
      this.reader.push(chunk)
    } catch (err) {
      this.fatal(err)
    }
    this.out.inRead = false
    this.out.flush()
  }

  /** An exception from frame handling: a ConnectionError, an HPACK error, or a bug (ours or a handler's). */
  private fatal (err: unknown): void {
    if (err instanceof ConnectionError) this.connectionError(err.h2Code, err.message)
    else if (err instanceof HpackError) this.connectionError(COMPRESSION_ERROR, `HPACK: ${err.message}`)
    else this.connectionError(INTERNAL_ERROR, `internal error: ${(err as Error)?.message ?? String(err)}`, err)
  }

  onReadError (code: number, message: string): void {
    this.connectionError(code, message)
  }

  onFrame (type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (this.assembler.pending && type !== FRAME_CONTINUATION) throw new ConnectionError(PROTOCOL_ERROR, 'frame interleaved in a header block')
    if (!this.ready && type !== FRAME_SETTINGS) throw new ConnectionError(PROTOCOL_ERROR, 'first frame is not SETTINGS')
    switch (type) {
      case FRAME_HEADERS: {
        const b = this.assembler.headers(flags, id, buf, start, end)
        if (b !== null) this.onHeaderBlock(b.id, b.flags, b.buf, b.start, b.end)
        break
      }
      case FRAME_CONTINUATION: {
        const b = this.assembler.continuation(flags, id, buf, start, end)
        if (b !== null) this.onHeaderBlock(b.id, b.flags, b.buf, b.start, b.end)
        break
      }
      case FRAME_SETTINGS: this.onSettings(flags, id, buf, start, end); break
      case FRAME_WINDOW_UPDATE: this.onWindowUpdate(id, buf, start, end); break
      case FRAME_RST_STREAM: this.onRstStream(id, buf, start, end); break
      case FRAME_PING: this.onPing(flags, id, buf, start, end); break
      case FRAME_GOAWAY: this.onGoaway(id, buf, start, end); break
      case FRAME_PRIORITY:
        if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, 'PRIORITY on stream 0')
        if (end - start !== 5) { this.streamErrorById(id, FRAME_SIZE_ERROR); break }
        this.cheapFrame()
        break
      case FRAME_PUSH_PROMISE: throw new ConnectionError(PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled')
      default: break // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  /** A complete header block: decode it (always: the HPACK state must stay in sync), then apply it. */
  private onHeaderBlock (id: number, flags: number, buf: Buffer, start: number, end: number): void {
    const list: string[] = []
    this.decoder.decode(buf, start, end, list)
    const endStream = (flags & FLAG_END_STREAM) !== 0
    const s = this.streams.get(id)
    if (s !== undefined) {
      if (s.remoteEnded) { this.streamError(s, STREAM_CLOSED, 'HEADERS after END_STREAM'); return }
      if (this.decoder.tooLarge) { this.streamError(s, PROTOCOL_ERROR, 'header list over maxHeaderListSize'); return }
      if (this.decoder.malformed !== null) { this.streamError(s, PROTOCOL_ERROR, this.decoder.malformed); return }
      if (!s.headReceived) { this.onResponseHead(s, list, endStream); return }
      // trailers
      if (!endStream) { this.streamError(s, PROTOCOL_ERROR, 'second HEADERS without END_STREAM'); return }
      if (!trailersOk(list)) { this.streamError(s, PROTOCOL_ERROR, 'malformed trailers'); return }
      this.remoteEnd(s, list)
      return
    }
    if (this.isPeerStreamId(id) && id > this.lastPeerStreamId) {
      this.lastPeerStreamId = id
      if (this.goawaySent) return // above our GOAWAY's last id: ignored (§6.8)
      this.onNewStream(id, list, endStream)
      return
    }
    if (this.isPeerStreamId(id) || id < this.nextStreamId) {
      // a closed stream: fine if we reset it (the peer had not seen our RST yet), else STREAM_CLOSED
      if (this.wasReset(id)) return
      throw new ConnectionError(STREAM_CLOSED, `HEADERS on closed stream ${id}`)
    }
    throw new ConnectionError(PROTOCOL_ERROR, `HEADERS on idle stream ${id}`)
  }

  /** Server role: a new request. */
  protected abstract onNewStream (id: number, list: string[], endStream: boolean): void
  /** Client role: a response head (1xx or final) on stream `s`. */
  protected abstract onResponseHead (s: H2Stream, list: string[], endStream: boolean): void

  /** Stream ids the peer may open: odd (from a client) when we are the server; none when we are the client (no push). */
  protected isPeerStreamId (id: number): boolean {
    return !this.isClient && (id & 1) === 1
  }

  onDataStart (flags: number, id: number, length: number): void {
    if (this.assembler.pending) throw new ConnectionError(PROTOCOL_ERROR, 'frame interleaved in a header block')
    if (!this.ready) throw new ConnectionError(PROTOCOL_ERROR, 'first frame is not SETTINGS')
    if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, 'DATA on stream 0')
    if (length > this.recvWindow) throw new ConnectionError(FLOW_CONTROL_ERROR, `DATA of ${length} bytes over the connection window ${this.recvWindow}`)
    this.recvWindow -= length
    this.dataLength = length
    this.dataStream = null
    this.dataIgnored = true
    if (length === 0 && (flags & FLAG_END_STREAM) === 0) this.cheapFrame()
    const s = this.streams.get(id)
    if (s === undefined) {
      if ((this.isPeerStreamId(id) && id > this.lastPeerStreamId) || (!this.isPeerStreamId(id) && id >= this.nextStreamId)) {
        throw new ConnectionError(PROTOCOL_ERROR, `DATA on idle stream ${id}`)
      }
      return // closed stream: ignored, the connection window is given back at the frame's end
    }
    if (s.remoteEnded || !s.headReceived) { this.streamError(s, STREAM_CLOSED, s.remoteEnded ? 'DATA after END_STREAM' : 'DATA before HEADERS'); return }
    if (length > s.recvWindow) { this.streamError(s, FLOW_CONTROL_ERROR, `DATA of ${length} bytes over the stream window ${s.recvWindow}`); return }
    s.recvWindow -= length
    this.dataStream = s
    this.dataIgnored = false
  }

  onDataPiece (buf: Buffer, start: number, end: number): void {
    const s = this.dataStream
    if (s === null || s.closed) return
    const n = end - start
    s.received += n
    if (s.expectLength >= 0 && s.received > s.expectLength) { this.streamError(s, PROTOCOL_ERROR, 'DATA beyond content-length'); return }
    try { s.handler.onData(s, buf.subarray(start, end)) } catch (err) { this.handlerFailed(s, err); return }
    if (this.options.consumeOnDelivery) this.consumed(s, n)
  }

  onDataEnd (flags: number, padding: number): void {
    const s = this.dataStream
    this.dataStream = null
    if (this.dataIgnored || s === null || s.closed) {
      // nobody will consume these bytes: give the connection window back now
      this.creditConnection(this.dataLength)
      return
    }
    if (padding > 0) this.consumed(s, padding)
    if ((flags & FLAG_END_STREAM) !== 0) this.remoteEnd(s, null)
  }

  /** The peer ended its side of `s`. */
  protected remoteEnd (s: H2Stream, trailers: string[] | null): void {
    if (s.expectLength >= 0 && s.received !== s.expectLength) { this.streamError(s, PROTOCOL_ERROR, 'body length differs from content-length'); return }
    s.remoteEnded = true
    try { s.handler.onEnd(s, trailers) } catch (err) { this.handlerFailed(s, err); return }
    this.maybeClose(s)
  }

  private onSettings (flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) throw new ConnectionError(PROTOCOL_ERROR, 'SETTINGS on a stream')
    const len = end - start
    if ((flags & FLAG_ACK) !== 0) {
      if (len !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload')
      if (!this.settingsAcked) {
        this.settingsAcked = true
        const delta = this.options.initialStreamWindow - this.localInitialWindow
        this.localInitialWindow = this.options.initialStreamWindow
        if (delta !== 0) for (const s of this.streams.values()) s.recvWindow += delta
      }
      return
    }
    if (len % 6 !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, 'SETTINGS length not a multiple of 6')
    if (this.ready && this.cheapFrame()) return
    const availableBefore = this.isClient ? this.availableStreamsInternal() : 0
    const change = applyPeerSettings(this.peerSettings, buf, start, end, this.isClient)
    if (change.headerTableSize >= 0) this.out.encoder.setPeerMaxSize(change.headerTableSize)
    if (change.windowDelta !== 0) {
      for (const s of this.streams.values()) {
        if (s.sendWindow + change.windowDelta > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, 'stream window overflow')
        s.sendWindow += change.windowDelta
        if (change.windowDelta > 0) this.out.streamWindowOpened(s)
      }
    }
    // no SETTINGS_MAX_CONCURRENT_STREAMS in the server's first SETTINGS: no limit (we assumed 100 until now)
    if (!this.ready && this.isClient && !change.hadMaxConcurrentStreams) this.peerSettings.maxConcurrentStreams = MAX_WINDOW
    this.ready = true
    this.writer.settingsAck()
    this.reply()
    this.out.pump()
    if (this.isClient && availableBefore === 0 && this.availableStreamsInternal() > 0) this.onCapacityFreed()
  }

  private onWindowUpdate (id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new ConnectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE length not 4')
    const inc = buf.readUInt32BE(start) & 0x7fffffff
    if (id === 0) {
      if (inc === 0) throw new ConnectionError(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection')
      if (this.out.sendWindow + inc > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, 'connection window overflow')
      this.out.sendWindow += inc
      this.out.pump()
      return
    }
    const s = this.streams.get(id)
    if (s === undefined) {
      if ((this.isPeerStreamId(id) && id > this.lastPeerStreamId) || (!this.isPeerStreamId(id) && id >= this.nextStreamId)) {
        throw new ConnectionError(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`)
      }
      return
    }
    if (inc === 0) { this.streamError(s, PROTOCOL_ERROR, 'WINDOW_UPDATE of 0'); return }
    if (s.sendWindow + inc > MAX_WINDOW) { this.streamError(s, FLOW_CONTROL_ERROR, 'stream window overflow'); return }
    s.sendWindow += inc
    this.out.streamWindowOpened(s)
  }

  private onRstStream (id: number, buf: Buffer, start: number, end: number): void {
    if (end - start !== 4) throw new ConnectionError(FRAME_SIZE_ERROR, 'RST_STREAM length not 4')
    if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, 'RST_STREAM on stream 0')
    const code = buf.readUInt32BE(start)
    const s = this.streams.get(id)
    if (s === undefined) {
      if ((this.isPeerStreamId(id) && id > this.lastPeerStreamId) || (!this.isPeerStreamId(id) && id >= this.nextStreamId)) {
        throw new ConnectionError(PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`)
      }
      return
    }
    const err = code === REFUSED_STREAM
      ? new H2RefusedStreamError(`stream ${id} refused by the peer`)
      : new H2StreamResetError(`stream ${id} reset by the peer (${errorName(code)})`, code, true)
    this.closeStream(s, err)
    if (this.isPeerStreamId(id) && this.guard.reset(now())) throw new ConnectionError(ENHANCE_YOUR_CALM, 'rapid reset: too many streams reset by the peer')
  }

  private onPing (flags: number, id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) throw new ConnectionError(PROTOCOL_ERROR, 'PING on a stream')
    if (end - start !== 8) throw new ConnectionError(FRAME_SIZE_ERROR, 'PING length not 8')
    if ((flags & FLAG_ACK) !== 0) {
      const v = buf.readBigUInt64BE(start)
      const i = this.pings.findIndex(p => p.payload === v)
      if (i >= 0) {
        const [p] = this.pings.splice(i, 1)
        p.cb(null, performance.now() - p.at)
      }
      return
    }
    if (this.cheapFrame()) return
    this.writer.ping(true, buf, start)
    this.reply()
  }

  private onGoaway (id: number, buf: Buffer, start: number, end: number): void {
    if (id !== 0) throw new ConnectionError(PROTOCOL_ERROR, 'GOAWAY on a stream')
    if (end - start < 8) throw new ConnectionError(FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 bytes')
    const lastId = buf.readUInt32BE(start) & 0x7fffffff
    const code = buf.readUInt32BE(start + 4)
    this.goingAway = true
    this.peerGoawayLastId = this.peerGoawayLastId === -1 ? lastId : Math.min(lastId, this.peerGoawayLastId)
    for (const s of [...this.streams.values()]) {
      if (!this.isPeerStreamId(s.id) && s.id > this.peerGoawayLastId) this.closeStream(s, new H2RefusedStreamError(`stream ${s.id} not processed: the peer sent GOAWAY (last stream ${lastId}, ${errorName(code)})`))
    }
    if (code !== NO_ERROR) this.closeError ??= new H2ConnectionClosedError(`the peer closed the connection: GOAWAY ${errorName(code)} ${buf.toString('utf8', start + 8, Math.min(end, start + 8 + 200))}`, code)
    this.events.onGoaway?.(this, code, lastId, buf.subarray(start + 8, end))
    this.maybeFinish()
  }

  private cheapFrame (): boolean {
    if (!this.guard.controlFrame(now())) return false
    throw new ConnectionError(ENHANCE_YOUR_CALM, 'flood of PING / SETTINGS / PRIORITY / empty frames')
  }

  /** A reply owed to the peer was queued. (Not a throw: also called outside the read path.) */
  private reply (): void {
    if (this.guard.reply()) this.connectionError(ENHANCE_YOUR_CALM, 'the peer does not read our replies')
  }

  // ---------------------------------------------------------------- streams

  /** A new stream object (the role classes register and count it). */
  protected newStream (id: number): H2Stream {
    const s = new H2Stream(this, id, this.peerSettings.initialWindowSize, this.localInitialWindow)
    s.openedAt = now()
    this.streams.set(id, s)
    return s
  }

  /** Call a handler of `s` (a throw resets the stream, never the connection). */
  guarded (s: H2Stream, fn: () => void): void {
    try { fn() } catch (err) { this.handlerFailed(s, err) }
  }

  /** A handler of `s` threw: reset the stream INTERNAL_ERROR (the connection and other streams go on). */
  protected handlerFailed (s: H2Stream, err: unknown): void {
    this.streamError(s, INTERNAL_ERROR, `handler failed: ${(err as Error)?.message ?? String(err)}`, err)
  }

  /** Stream error: RST_STREAM with `code`, the handler hears `onReset`. */
  protected streamError (s: H2Stream, code: number, message: string, cause?: unknown): void {
    if (s.closed) return
    this.writer.rstStream(s.id, code)
    this.rememberReset(s.id)
    this.closeStream(s, new H2StreamResetError(`stream ${s.id}: ${message}`, code, false, cause !== undefined ? { cause } : undefined))
    // not a throw: a handler's failure can land here outside the read path
    if (this.isPeerStreamId(s.id) && this.guard.reset(now())) { this.connectionError(ENHANCE_YOUR_CALM, 'too many stream errors'); return }
    this.reply()
  }

  private streamErrorById (id: number, code: number): void {
    const s = this.streams.get(id)
    if (s !== undefined) { this.streamError(s, code, errorName(code)); return }
    this.writer.rstStream(id, code)
    this.reply()
  }

  private rememberReset (id: number): void {
    this.recentResets[this.recentResetsPos] = id
    this.recentResetsPos = (this.recentResetsPos + 1) % RECENT_RESETS
  }

  private wasReset (id: number): boolean {
    return this.recentResets.includes(id)
  }

  /** Remove `s` (reset, refused or connection gone) and tell its handler. */
  protected closeStream (s: H2Stream, err: MeshError): void {
    if (s.closed) return
    this.forget(s)
    const h = s.handler
    try { h.onReset(s, err) } catch { /* the stream is gone anyway */ }
  }

  /** Both sides ended: the stream is done. */
  protected maybeClose (s: H2Stream): void {
    if (s.localEnded && s.remoteEnded && !s.closed) this.forget(s)
  }

  private forget (s: H2Stream): void {
    s.closed = true
    s.queue = []
    s.bufferedAmount = 0
    s.trailersPending = null
    const wasFull = this.isClient && this.availableStreamsInternal() === 0
    this.streams.delete(s.id)
    if (this.isPeerStreamId(s.id)) this.peerActive--
    else this.localActive--
    if (wasFull && this.availableStreamsInternal() > 0) this.onCapacityFreed()
    this.maybeFinish()
  }

  protected availableStreamsInternal (): number { return 0 }
  protected onCapacityFreed (): void {}

  // ---------------------------------------------------------------- sending (outbound.ts)

  sendHead (s: H2Stream, status: number, headers: string[], endStream: boolean): void { this.out.sendHead(s, status, headers, endStream) }
  writeData (s: H2Stream, data: Buffer, end: boolean): boolean { return this.out.writeData(s, data, end) }
  endStream (s: H2Stream, trailers: string[] | null): void { this.out.endStream(s, trailers) }

  resetStream (s: H2Stream, code: number): void {
    if (s.closed || this.closed) return
    this.writer.rstStream(s.id, code)
    this.rememberReset(s.id)
    this.out.scheduleFlush()
    this.forget(s)
  }

  /** Our END_STREAM for `s` is written. */
  localEnd (s: H2Stream): void {
    s.localEnded = true
    this.maybeClose(s)
  }

  consumed (s: H2Stream, n: number): void {
    if (n <= 0) return
    if (!s.closed && !s.remoteEnded) {
      s.unacked += n
      if (s.unacked >= this.localInitialWindow >>> 1) {
        this.writer.windowUpdate(s.id, s.unacked)
        s.recvWindow += s.unacked
        s.unacked = 0
        this.out.scheduleFlush()
      }
    }
    this.creditConnection(n)
  }

  private creditConnection (n: number): void {
    if (n <= 0) return
    this.connUnacked += n
    if (this.connUnacked >= this.options.connectionWindow >>> 1) {
      this.writer.windowUpdate(0, this.connUnacked)
      this.recvWindow += this.connUnacked
      this.connUnacked = 0
      this.out.scheduleFlush()
    }
  }

  onFlushed (congested: boolean): void {
    if (!congested) this.guard.outbound = 0
  }

  // ---------------------------------------------------------------- connection lifecycle

  /** PING the peer; `cb(null, rttMs)` on its ACK, `cb(err)` if the connection closes first. */
  ping (cb: (err: Error | null, rttMs: number) => void): void {
    if (this.closed) { cb(new H2ConnectionClosedError('connection closed'), 0); return }
    const payload = ++this.pingCounter
    const b = Buffer.allocUnsafe(8)
    b.writeBigUInt64BE(payload)
    this.pings.push({ payload, at: performance.now(), cb })
    this.writer.ping(false, b, 0)
    this.out.scheduleFlush()
  }

  /** Graceful: GOAWAY(NO_ERROR) with the last stream we took; open streams finish, then the connection closes. */
  shutdown (): void {
    if (this.closed) return
    this.goingAway = true
    if (!this.goawaySent) {
      this.goawaySent = true
      this.writer.goaway(this.lastPeerStreamId, NO_ERROR, '')
      this.out.scheduleFlush()
    }
    this.maybeFinish()
  }

  /** Same as shutdown() (graceful GOAWAY). */
  close (): void { this.shutdown() }

  /** GOAWAY with an error code now; the connection closes once open streams end (or call destroy()). */
  goaway (code: number, debug = ''): void {
    if (this.closed) return
    this.goingAway = true
    this.goawaySent = true
    this.writer.goaway(this.lastPeerStreamId, code, debug)
    this.out.scheduleFlush()
    this.maybeFinish()
  }

  /** Close now; open streams get onReset(H2ConnectionClosedError). */
  destroy (err?: MeshError): void {
    if (err !== undefined) this.closeError ??= err
    this.finish(this.closeError ?? new H2ConnectionClosedError('connection destroyed'))
    this.socket?.destroy()
  }

  /** Connection error: GOAWAY with `code`, close. */
  protected connectionError (code: number, message: string, cause?: unknown): void {
    if (this.closed) return
    this.reader.fail()
    const err = new H2ProtocolError(`${errorName(code)}: ${message}`, code, cause !== undefined ? { cause } : undefined)
    this.closeError ??= err
    if (!this.goawaySent || code !== NO_ERROR) {
      this.goawaySent = true
      this.writer.goaway(this.lastPeerStreamId, code, message)
    }
    this.out.flush()
    this.finish(err)
    this.endSocket()
  }

  /** Going away and nothing open: close cleanly. */
  private maybeFinish (): void {
    if (!this.goingAway || this.streams.size > 0 || this.closed) return
    this.out.flush()
    this.finish(null)
    this.endSocket()
  }

  private endSocket (): void {
    const socket = this.socket
    if (socket === null || socket.destroyed) return
    socket.end()
    // a peer that never closes its side must not keep the socket
    this.endTimer = setTimeout(() => socket.destroy(), 1000)
    this.endTimer.unref()
  }

  /** Fail what is open and report the end once. */
  private finish (err: MeshError | null): void {
    if (this.closed) return
    this.closed = true
    this.goingAway = true
    this.reader.fail()
    const streamErr = err instanceof H2ConnectionClosedError ? err : new H2ConnectionClosedError(err !== null ? err.message : 'connection closed', err instanceof H2ProtocolError ? err.h2Code : 0, err !== null ? { cause: err } : undefined)
    for (const s of [...this.streams.values()]) this.closeStream(s, streamErr)
    for (const p of this.pings.splice(0)) p.cb(streamErr, 0)
    this.out.clear()
    try { this.events.onClose?.(this, err) } catch { /* the owner's bug must not stop the cleanup */ }
  }

  private onSocketClose (): void {
    if (this.endTimer !== null) { clearTimeout(this.endTimer); this.endTimer = null }
    if (this.closed) return
    const open = this.streams.size > 0
    this.finish(open || this.closeError !== null ? (this.closeError ?? new H2ConnectionClosedError('the peer closed the connection')) : null)
  }

  /** Connection receive window: what the peer may still send before our next WINDOW_UPDATE. */
  get receiveWindow (): number { return this.recvWindow }

  /** A peer stream opened (counted for the concurrency limit and the rapid-reset ratio). */
  protected peerStreamOpened (): void {
    this.peerActive++
    this.guard.open(now())
  }
}
