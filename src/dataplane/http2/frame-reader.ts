/**
 * Splits the bytes of a connection into frames (RFC 9113 §4): checks the preface (server role), frame sizes
 * against our SETTINGS_MAX_FRAME_SIZE, and hands each frame to a {@link FrameSink}.
 *
 * DATA frames are streamed: their payload goes to the sink as it arrives (views of the read chunk, no copy),
 * with padding stripped. Every other frame is delivered whole: a view of the chunk when it is all there (the
 * common case), else copied once into a buffer of its own as the pieces arrive.
 *
 *   PREFACE ─24 bytes ok─▶ HEADER ─9 bytes─▶ PAYLOAD (non-DATA, whole) ──▶ HEADER
 *                                   └──────▶ DATA_PAD_LEN ─▶ DATA_BODY ─▶ DATA_PADDING ─▶ HEADER
 *
 * A delivered view is never overwritten by the reader (chunks are not reused: 'data' events, or the
 * connection's read slabs), so the sink may keep it.
 *
 * @example
 * const r = new FrameReader(sink, true, 16384)
 * socket.on('data', chunk => r.push(chunk))
 */
import { FLAG_PADDED, FRAME_DATA, FRAME_HEADER_SIZE, PREFACE } from './constants.ts'

/** Where frames go (implemented by the connection). A sink method may throw FrameError (connection error). */
export interface FrameSink {
  /** A complete non-DATA frame: payload is `buf[start, end)`. */
  onFrame (type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void
  /** A DATA frame starts: `length` includes padding. */
  onDataStart (flags: number, id: number, length: number): void
  /** A piece of its payload (never empty, padding excluded). */
  onDataPiece (buf: Buffer, start: number, end: number): void
  /** The DATA frame ended; `padding` = pad length field + padding bytes (flow-controlled, not delivered). */
  onDataEnd (flags: number, padding: number): void
  /** A frame over the size limit, a bad preface or bad padding. */
  onReadError (code: number, message: string): void
}

const S_PREFACE = 0
const S_HEADER = 1
const S_PAYLOAD = 2
const S_DATA_PAD_LEN = 3
const S_DATA_BODY = 4
const S_DATA_PADDING = 5
const S_FAILED = 6

const FRAME_SIZE_ERROR = 0x6
const PROTOCOL_ERROR = 0x1

export class FrameReader {
  private state: number
  private prefaceSeen = 0
  private readonly head = Buffer.alloc(FRAME_HEADER_SIZE)
  private headHave = 0
  private type = 0
  private flags = 0
  private id = 0
  private length = 0
  /** Payload bytes of the current frame still to come. */
  private left = 0
  private partial: Buffer | null = null
  private partialHave = 0
  private padLength = 0
  private dataLeft = 0
  maxFrameSize: number

  constructor (private readonly sink: FrameSink, expectPreface: boolean, maxFrameSize: number) {
    this.state = expectPreface ? S_PREFACE : S_HEADER
    this.maxFrameSize = maxFrameSize
  }

  get failed (): boolean { return this.state === S_FAILED }

  /** Stop parsing (after a connection error). */
  fail (): void { this.state = S_FAILED }

  push (buf: Buffer): void {
    let pos = 0
    const end = buf.length
    while (pos < end) {
      switch (this.state) {
        case S_HEADER: {
          // Perf: the whole header in this chunk (the common case) is parsed in place.
          if (this.headHave === 0 && end - pos >= FRAME_HEADER_SIZE) {
            this.length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
            this.type = buf[pos + 3]
            this.flags = buf[pos + 4]
            this.id = buf.readUInt32BE(pos + 5) & 0x7fffffff
            pos += FRAME_HEADER_SIZE
          } else {
            const n = Math.min(FRAME_HEADER_SIZE - this.headHave, end - pos)
            buf.copy(this.head, this.headHave, pos, pos + n)
            this.headHave += n
            pos += n
            if (this.headHave < FRAME_HEADER_SIZE) return
            const h = this.head
            this.headHave = 0
            this.length = (h[0] << 16) | (h[1] << 8) | h[2]
            this.type = h[3]
            this.flags = h[4]
            this.id = h.readUInt32BE(5) & 0x7fffffff
          }
          if (this.length > this.maxFrameSize) {
            this.error(FRAME_SIZE_ERROR, `frame of ${this.length} bytes over SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`)
            return
          }
          if (this.type === FRAME_DATA) {
            this.sink.onDataStart(this.flags, this.id, this.length)
            if (this.failed) return
            this.left = this.length
            this.padLength = 0
            if ((this.flags & FLAG_PADDED) !== 0) {
              if (this.length === 0) { this.error(FRAME_SIZE_ERROR, 'padded DATA frame without a pad length'); return }
              this.state = S_DATA_PAD_LEN
            } else {
              this.dataLeft = this.length
              this.state = S_DATA_BODY
              if (this.length === 0) this.endData()
            }
            break
          }
          this.left = this.length
          if (end - pos >= this.length) {
            const start = pos
            pos += this.length
            this.sink.onFrame(this.type, this.flags, this.id, buf, start, pos)
            if (this.failed) return
          } else {
            this.partial = Buffer.allocUnsafe(this.length)
            this.partialHave = 0
            this.state = S_PAYLOAD
          }
          break
        }
        case S_PAYLOAD: {
          const p = this.partial!
          const n = Math.min(this.length - this.partialHave, end - pos)
          buf.copy(p, this.partialHave, pos, pos + n)
          this.partialHave += n
          pos += n
          if (this.partialHave === this.length) {
            this.partial = null
            this.state = S_HEADER
            this.sink.onFrame(this.type, this.flags, this.id, p, 0, p.length)
            if (this.failed) return
          }
          break
        }
        case S_DATA_PAD_LEN: {
          this.padLength = buf[pos++]
          if (this.padLength >= this.length) { this.error(PROTOCOL_ERROR, 'DATA padding as long as the frame'); return }
          this.dataLeft = this.length - 1 - this.padLength
          this.left = this.length - 1
          this.state = S_DATA_BODY
          if (this.dataLeft === 0) this.afterBody()
          break
        }
        case S_DATA_BODY: {
          const n = Math.min(this.dataLeft, end - pos)
          const start = pos
          pos += n
          this.dataLeft -= n
          this.left -= n
          this.sink.onDataPiece(buf, start, pos)
          if (this.failed) return
          if (this.dataLeft === 0) this.afterBody()
          break
        }
        case S_DATA_PADDING: {
          const n = Math.min(this.left, end - pos)
          pos += n
          this.left -= n
          if (this.left === 0) this.endData()
          break
        }
        case S_PREFACE: {
          const n = Math.min(PREFACE.length - this.prefaceSeen, end - pos)
          for (let i = 0; i < n; i++) {
            if (buf[pos + i] !== PREFACE[this.prefaceSeen + i]) { this.error(PROTOCOL_ERROR, 'invalid connection preface'); return }
          }
          this.prefaceSeen += n
          pos += n
          if (this.prefaceSeen === PREFACE.length) this.state = S_HEADER
          break
        }
        default:
          return
      }
    }
  }

  private afterBody (): void {
    if (this.left === 0) this.endData()
    else this.state = S_DATA_PADDING
  }

  private endData (): void {
    this.state = S_HEADER
    const padding = (this.flags & FLAG_PADDED) !== 0 ? this.padLength + 1 : 0
    this.sink.onDataEnd(this.flags, padding)
  }

  private error (code: number, message: string): void {
    this.state = S_FAILED
    this.sink.onReadError(code, message)
  }
}
