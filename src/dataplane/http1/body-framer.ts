/**
 * Finds where a message body ends, without copying it. The proxy forwards body bytes exactly as received
 * (chunked stays chunked), so the framer only has to say how many bytes of a buffer belong to the body and
 * when the body is complete.
 *
 * Chunked state machine (RFC 9112 §7.1), bare LF and malformed sizes refused:
 *
 *   SIZE ──hex──▶ SIZE ──;──▶ EXT ──CR──▶ SIZE_LF ──LF──▶ DATA(n) ──n bytes──▶ DATA_CR ─CR─▶ DATA_LF ─LF─▶ SIZE
 *                   │                                   (n = 0) │
 *                   └──CR──▶ SIZE_LF                             ▼
 *                                                   TRAILER_START ─CR─▶ END_LF ─LF─▶ DONE
 *                                                         │ other
 *                                                         ▼
 *                                                   TRAILER ─CR─▶ TRAILER_LF ─LF─▶ TRAILER_START
 *
 * The trailer section's bytes stay part of the body (forwarded as received); with `captureTrailers` they are also kept
 * as text (bounded by {@link MAX_TRAILER_BYTES}) so the proxy can read a `grpc-status` trailer (parseTrailerText).
 *
 * @example
 * const f = new BodyFramer(); f.reset(MODE_LENGTH, 5)
 * const used = f.consume(buf, 0) // bytes of buf that belong to the body; f.done tells if it ended
 */
import { BadRequestError } from '../../errors.ts'

export const MODE_NONE = 0
export const MODE_LENGTH = 1
export const MODE_CHUNKED = 2
/** Response without length: the body ends when the upstream closes. */
export const MODE_CLOSE = 3

const S_SIZE = 0
const S_EXT = 1
const S_SIZE_LF = 2
const S_DATA = 3
const S_DATA_CR = 4
const S_DATA_LF = 5
const S_TRAILER_START = 6
const S_TRAILER = 7
const S_TRAILER_LF = 8
const S_END_LF = 9

const MAX_SIZE_DIGITS = 12 // 16^12 = 256 TiB per chunk, well inside Number's exact range
const MAX_LINE = 4096
/** Largest trailer section accepted (all lines): the head limit (head-parser.ts MAX_HEAD_BYTES). */
export const MAX_TRAILER_BYTES = 16 * 1024

export class BodyFramer {
  mode = MODE_NONE
  done = true
  /** Bytes of body remaining (MODE_LENGTH) or of the current chunk's data (MODE_CHUNKED). */
  remaining = 0
  private state = S_SIZE
  private size = 0
  private digits = 0
  private lineLen = 0
  private sawSize = false
  private trailerBytes = 0
  /** Keep the trailer section's text (set before `consume`; reset() clears it). */
  captureTrailers = false
  /** Trailer lines as received (`name: value\r\n` each) when `captureTrailers`; '' when none. */
  trailerText = ''

  reset (mode: number, length = 0): void {
    this.mode = mode
    this.state = S_SIZE
    this.size = 0
    this.digits = 0
    this.lineLen = 0
    this.sawSize = false
    this.trailerBytes = 0
    this.captureTrailers = false
    this.trailerText = ''
    this.remaining = mode === MODE_LENGTH ? length : 0
    this.done = mode === MODE_NONE || (mode === MODE_LENGTH && length === 0)
  }

  /**
   * How many bytes of `buf[start…]` belong to the body (all of them for MODE_CLOSE). Sets `done` once the
   * body is complete; bytes after that belong to the next message. Throws BadRequestError on bad framing.
   */
  consume (buf: Buffer, start: number): number {
    if (this.done) return 0
    const avail = buf.length - start
    if (this.mode === MODE_LENGTH) {
      // Perf: the common case is one comparison, no per-byte work.
      if (avail < this.remaining) { this.remaining -= avail; return avail }
      const n = this.remaining
      this.remaining = 0
      this.done = true
      return n
    }
    if (this.mode === MODE_CLOSE) return avail
    return this.chunked(buf, start)
  }

  private chunked (buf: Buffer, start: number): number {
    let i = start
    const len = buf.length
    while (i < len) {
      switch (this.state) {
        case S_DATA: {
          const take = len - i < this.remaining ? len - i : this.remaining
          i += take
          this.remaining -= take
          if (this.remaining === 0) this.state = S_DATA_CR
          continue
        }
        case S_SIZE: {
          const c = buf[i]
          const v = hexValue(c)
          if (v !== -1) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new BadRequestError('chunk size too large')
            this.size = this.size * 16 + v
            this.sawSize = true
          } else if (!this.sawSize) {
            throw new BadRequestError('invalid chunk size')
          } else if (c === 13) {
            this.state = S_SIZE_LF
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            this.state = S_EXT
            this.lineLen = 0
          } else {
            throw new BadRequestError('invalid chunk size')
          }
          i++
          continue
        }
        case S_EXT: {
          const c = buf[i]
          if (c === 13) this.state = S_SIZE_LF
          else if (c === 10 || c === 0 || ++this.lineLen > MAX_LINE) throw new BadRequestError('invalid chunk extension')
          i++
          continue
        }
        case S_SIZE_LF: {
          if (buf[i] !== 10) throw new BadRequestError('bare CR in chunk size line')
          i++
          if (this.size === 0) {
            this.state = S_TRAILER_START
          } else {
            this.remaining = this.size
            this.state = S_DATA
          }
          this.size = 0
          this.digits = 0
          this.sawSize = false
          continue
        }
        case S_DATA_CR:
          if (buf[i] !== 13) throw new BadRequestError('chunk data longer than its size')
          this.state = S_DATA_LF
          i++
          continue
        case S_DATA_LF:
          if (buf[i] !== 10) throw new BadRequestError('bare CR after chunk data')
          this.state = S_SIZE
          i++
          continue
        case S_TRAILER_START:
          if (buf[i] === 13) this.state = S_END_LF
          else if (buf[i] === 10) throw new BadRequestError('bare LF in trailer')
          else {
            this.state = S_TRAILER
            this.lineLen = 0
            this.trailerByte(buf[i])
          }
          i++
          continue
        case S_TRAILER: {
          const c = buf[i]
          if (c === 13) this.state = S_TRAILER_LF
          else if (c === 10 || c === 0 || ++this.lineLen > MAX_LINE) throw new BadRequestError('invalid trailer')
          else this.trailerByte(c)
          i++
          continue
        }
        case S_TRAILER_LF:
          if (buf[i] !== 10) throw new BadRequestError('bare CR in trailer')
          this.state = S_TRAILER_START
          if (this.captureTrailers) this.trailerText += '\r\n'
          i++
          continue
        case S_END_LF:
          if (buf[i] !== 10) throw new BadRequestError('bare CR at end of chunked body')
          i++
          this.done = true
          return i - start
      }
    }
    return i - start
  }

  /** One byte of a trailer line: counted against the section's bound, kept when capturing. */
  private trailerByte (c: number): void {
    if (++this.trailerBytes > MAX_TRAILER_BYTES) throw new BadRequestError(`trailer section over ${MAX_TRAILER_BYTES} bytes`)
    // Perf: trailers are rare and small (a gRPC status line or two); a string append per byte is fine there
    if (this.captureTrailers) this.trailerText += String.fromCharCode(c)
  }
}

function hexValue (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
