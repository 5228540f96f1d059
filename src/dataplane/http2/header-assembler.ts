/**
 * Assembles one header block from HEADERS + CONTINUATION frames (RFC 9113 §4.3, §6.2, §6.10): strips
 * padding and priority fields, enforces that nothing interleaves, and bounds the block (CONTINUATION flood:
 * total size `maxBlockSize`, at most `maxFrames` frames, empty ones included).
 *
 *   HEADERS(END_HEADERS) ───────────────────────────────────────────▶ block
 *   HEADERS ──▶ CONTINUATION … ──▶ CONTINUATION(END_HEADERS) ───────▶ block (parts joined once)
 *
 * @example
 * const block = asm.headers(flags, id, buf, start, end)   // null: CONTINUATION frames follow
 */
import { ConnectionError } from './connection-error.ts'
import { ENHANCE_YOUR_CALM, FLAG_END_HEADERS, FLAG_PADDED, FLAG_PRIORITY, FRAME_SIZE_ERROR, PROTOCOL_ERROR } from './constants.ts'

export interface HeaderBlock { id: number, flags: number, buf: Buffer, start: number, end: number }

export class HeaderAssembler {
  private stream = 0
  private flags = 0
  private parts: Buffer[] | null = null
  private size = 0
  private frames = 0

  constructor (private readonly maxBlockSize: number, private readonly maxFrames: number) {}

  /** A block is open: only its CONTINUATION frames may come next. */
  get pending (): boolean { return this.parts !== null }

  /** A HEADERS frame; returns the block when it is complete. */
  headers (flags: number, id: number, buf: Buffer, start: number, end: number): HeaderBlock | null {
    if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, 'HEADERS on stream 0')
    if ((flags & FLAG_PADDED) !== 0) {
      if (end - start < 1) throw new ConnectionError(FRAME_SIZE_ERROR, 'padded HEADERS without a pad length')
      const pad = buf[start]
      start++
      if (pad > end - start) throw new ConnectionError(PROTOCOL_ERROR, 'HEADERS padding longer than the frame')
      end -= pad
    }
    if ((flags & FLAG_PRIORITY) !== 0) {
      if (end - start < 5) throw new ConnectionError(FRAME_SIZE_ERROR, 'HEADERS priority fields missing')
      start += 5
    }
    if (end - start > this.maxBlockSize) throw new ConnectionError(ENHANCE_YOUR_CALM, 'header block over maxHeaderBlockSize')
    if ((flags & FLAG_END_HEADERS) !== 0) return { id, flags, buf, start, end }
    this.stream = id
    this.flags = flags
    this.parts = [buf.subarray(start, end)]
    this.size = end - start
    this.frames = 1
    return null
  }

  /** A CONTINUATION frame; returns the block when it is complete. */
  continuation (flags: number, id: number, buf: Buffer, start: number, end: number): HeaderBlock | null {
    const parts = this.parts
    if (parts === null || id !== this.stream) throw new ConnectionError(PROTOCOL_ERROR, 'CONTINUATION without a header block')
    this.size += end - start
    if (this.size > this.maxBlockSize) throw new ConnectionError(ENHANCE_YOUR_CALM, 'header block over maxHeaderBlockSize (CONTINUATION flood)')
    if (++this.frames > this.maxFrames) throw new ConnectionError(ENHANCE_YOUR_CALM, 'too many CONTINUATION frames')
    if (end > start) parts.push(buf.subarray(start, end))
    if ((flags & FLAG_END_HEADERS) === 0) return null
    this.parts = null
    const block = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    return { id, flags: this.flags, buf: block, start: 0, end: block.length }
  }
}
