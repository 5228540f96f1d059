/**
 * Serializes frames into one batch per turn (RFC 9113 §4.1 layout: 24-bit length, type, flags, 31-bit id).
 *
 * Frame headers, control frames, HPACK blocks and small DATA payloads are copied into a write slab at a
 * moving offset; larger payloads are queued as the caller's buffer. `flush()` hands the batch to the socket
 * as one `write` (or one corked writev). A slab region given to the socket is never written again (the next
 * frames go after it, or into a new slab), so nothing the socket still holds is overwritten.
 *
 *   slab: [ flushed … | unflushed frames … | free ]      chunks: [slab region, big payload, slab region, …]
 *                      ^start              ^pos
 *
 * @example
 * const w = new FrameWriter()
 * w.settingsAck(); w.data(1, FLAG_END_STREAM, payload, 0, payload.length)
 * w.flush(socket)
 */
import type { Socket } from 'node:net'
import {
  FRAME_CONTINUATION, FRAME_DATA, FRAME_GOAWAY, FRAME_HEADERS, FRAME_PING, FRAME_RST_STREAM, FRAME_SETTINGS,
  FRAME_WINDOW_UPDATE, FLAG_ACK, FLAG_END_HEADERS, FRAME_HEADER_SIZE
} from './constants.ts'

const SLAB_SIZE = 32 * 1024
/** DATA payloads up to this size are copied into the slab (cheaper than one more iovec and write entry). */
const COPY_MAX = 2048

export class FrameWriter {
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE)
  private start = 0
  /** Next free byte of the slab (callers that encode in place read and advance it). */
  pos = 0
  private chunks: Buffer[] = []
  /** Bytes waiting for flush(). */
  pending = 0

  get empty (): boolean { return this.pending === 0 && this.pos === this.start }

  /** Room for `n` more bytes at `pos` in the current slab (a new slab when the current one is full). */
  reserve (n: number): Buffer {
    if (this.slab.length - this.pos < n) {
      this.cut()
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, n))
      this.start = 0
      this.pos = 0
    }
    return this.slab
  }

  header (len: number, type: number, flags: number, id: number): void {
    const b = this.reserve(FRAME_HEADER_SIZE)
    this.writeHeaderAt(b, this.pos, len, type, flags, id)
    this.pos += FRAME_HEADER_SIZE
  }

  writeHeaderAt (b: Buffer, p: number, len: number, type: number, flags: number, id: number): void {
    b[p] = len >>> 16
    b[p + 1] = (len >>> 8) & 0xff
    b[p + 2] = len & 0xff
    b[p + 3] = type
    b[p + 4] = flags
    b.writeUInt32BE(id, p + 5)
  }

  /** One DATA frame with `payload[off, off + len)` (copied when small, else referenced until written). */
  data (id: number, flags: number, payload: Buffer, off: number, len: number): void {
    if (len <= COPY_MAX) {
      const b = this.reserve(FRAME_HEADER_SIZE + len)
      this.writeHeaderAt(b, this.pos, len, FRAME_DATA, flags, id)
      this.pos += FRAME_HEADER_SIZE
      if (len > 0) this.pos += payload.copy(b, this.pos, off, off + len)
      return
    }
    this.header(len, FRAME_DATA, flags, id)
    this.cut()
    this.chunks.push(off === 0 && len === payload.length ? payload : payload.subarray(off, off + len))
    this.pending += len
  }

  /**
   * A header block of `blockLen` bytes already encoded at `slab[blockStart, …)` (after 9 bytes left free for
   * the HEADERS frame header): writes the header, splitting into CONTINUATION frames over `maxFrame`.
   */
  headersAt (id: number, flags: number, headerPos: number, blockLen: number, maxFrame: number): void {
    const b = this.slab
    if (blockLen <= maxFrame) {
      this.writeHeaderAt(b, headerPos, blockLen, FRAME_HEADERS, flags | FLAG_END_HEADERS, id)
      this.pos = headerPos + FRAME_HEADER_SIZE + blockLen
      return
    }
    // Rare (blocks over 16 KiB): copy the block out, then lay it out as HEADERS + CONTINUATION frames.
    const block = Buffer.from(b.subarray(headerPos + FRAME_HEADER_SIZE, headerPos + FRAME_HEADER_SIZE + blockLen))
    this.pos = headerPos
    let off = 0
    let type = FRAME_HEADERS
    while (off < blockLen) {
      const n = Math.min(maxFrame, blockLen - off)
      const last = off + n === blockLen
      const out = this.reserve(FRAME_HEADER_SIZE + n)
      this.writeHeaderAt(out, this.pos, n, type, (type === FRAME_HEADERS ? flags : 0) | (last ? FLAG_END_HEADERS : 0), id)
      this.pos += FRAME_HEADER_SIZE
      this.pos += block.copy(out, this.pos, off, off + n)
      off += n
      type = FRAME_CONTINUATION
    }
  }

  settings (pairs: number[]): void {
    const len = pairs.length * 3
    const b = this.reserve(FRAME_HEADER_SIZE + len)
    this.writeHeaderAt(b, this.pos, len, FRAME_SETTINGS, 0, 0)
    let p = this.pos + FRAME_HEADER_SIZE
    for (let i = 0; i < pairs.length; i += 2) {
      b.writeUInt16BE(pairs[i], p)
      b.writeUInt32BE(pairs[i + 1], p + 2)
      p += 6
    }
    this.pos = p
  }

  settingsAck (): void { this.header(0, FRAME_SETTINGS, FLAG_ACK, 0) }

  ping (ack: boolean, payload: Buffer, off: number): void {
    const b = this.reserve(FRAME_HEADER_SIZE + 8)
    this.writeHeaderAt(b, this.pos, 8, FRAME_PING, ack ? FLAG_ACK : 0, 0)
    payload.copy(b, this.pos + FRAME_HEADER_SIZE, off, off + 8)
    this.pos += FRAME_HEADER_SIZE + 8
  }

  windowUpdate (id: number, increment: number): void {
    const b = this.reserve(FRAME_HEADER_SIZE + 4)
    this.writeHeaderAt(b, this.pos, 4, FRAME_WINDOW_UPDATE, 0, id)
    b.writeUInt32BE(increment, this.pos + FRAME_HEADER_SIZE)
    this.pos += FRAME_HEADER_SIZE + 4
  }

  rstStream (id: number, code: number): void {
    const b = this.reserve(FRAME_HEADER_SIZE + 4)
    this.writeHeaderAt(b, this.pos, 4, FRAME_RST_STREAM, 0, id)
    b.writeUInt32BE(code, this.pos + FRAME_HEADER_SIZE)
    this.pos += FRAME_HEADER_SIZE + 4
  }

  goaway (lastStreamId: number, code: number, debug: string): void {
    const dbg = Buffer.from(debug.slice(0, 256), 'utf8')
    const b = this.reserve(FRAME_HEADER_SIZE + 8 + dbg.length)
    this.writeHeaderAt(b, this.pos, 8 + dbg.length, FRAME_GOAWAY, 0, 0)
    b.writeUInt32BE(lastStreamId, this.pos + FRAME_HEADER_SIZE)
    b.writeUInt32BE(code, this.pos + FRAME_HEADER_SIZE + 4)
    dbg.copy(b, this.pos + FRAME_HEADER_SIZE + 8)
    this.pos += FRAME_HEADER_SIZE + 8 + dbg.length
  }

  /** Raw bytes (the client preface). */
  raw (bytes: Buffer): void {
    const b = this.reserve(bytes.length)
    this.pos += bytes.copy(b, this.pos)
  }

  /** Write everything batched since the last flush. Returns the bytes handed to the socket. */
  flush (socket: Socket): number {
    this.cut()
    const chunks = this.chunks
    const n = this.pending
    if (chunks.length === 0) return 0
    this.chunks = []
    this.pending = 0
    if (socket.destroyed) return 0
    if (chunks.length === 1) {
      socket.write(chunks[0])
    } else {
      // Perf: one writev (one syscall, or one SSL_write batch) for the whole turn.
      socket.cork()
      for (let i = 0; i < chunks.length; i++) socket.write(chunks[i])
      socket.uncork()
    }
    return n
  }

  /** Close the current slab region [start, pos) into the chunk list. */
  private cut (): void {
    if (this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos))
      this.pending += this.pos - this.start
      this.start = this.pos
    }
  }
}
