/**
 * HPACK decoder (RFC 7541): one per connection, fed each complete header block in order.
 *
 * The dynamic table is a ring of decoded strings (newest at `head`), so an indexed field costs two array
 * reads and no allocation. Field names and values are checked against RFC 9113 §8.2.1 once, when a literal
 * is decoded; the result is kept per table entry. A malformed field is not a decoding error: the block is
 * still decoded (the table must stay in sync) and `malformed` names the problem, for a stream error.
 *
 *   block ──▶ indexed (1xxxxxxx) ──────────────▶ static / dynamic entry
 *         ├─▶ literal + index (01xxxxxx) ─────▶ out, table.add
 *         ├─▶ literal, no index (0000xxxx) ───▶ out
 *         ├─▶ literal, never indexed (0001xxxx) ▶ out
 *         └─▶ table size update (001xxxxx) ───▶ only before the first field, ≤ SETTINGS_HEADER_TABLE_SIZE
 *
 * @example
 * const dec = new HpackDecoder(4096, 65536)
 * const headers: string[] = []
 * dec.decode(block, 0, block.length, headers)   // throws HpackError → COMPRESSION_ERROR
 * if (dec.malformed !== null || dec.tooLarge) { … stream error … }
 */
import { latin1Slice } from '../latin1.ts'
import { HpackError, huffmanDecode } from './huffman.ts'
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.ts'

export { HpackError }

const ENTRY_OVERHEAD = 32

export class HpackDecoder {
  /** Size the peer's encoder may use at most (our SETTINGS_HEADER_TABLE_SIZE). */
  private allowedMaxSize: number
  /** Size the encoder last chose (table size update), ≤ allowedMaxSize. */
  private maxSize: number
  private size = 0
  // Ring buffer, capacity a power of two; `head` is the slot of the newest entry.
  private names: string[] = new Array(32)
  private values: string[] = new Array(32)
  private bad: Uint8Array = new Uint8Array(32)
  private mask = 31
  private head = 0
  private count = 0
  private readonly maxListSize: number
  /** Set by int() and str(): where the next field starts. */
  private pos = 0
  /** Set by decode(): the first malformed field (RFC 9113 §8.2.1), or null. */
  malformed: string | null = null
  /** Set by decode(): the decoded list went over the limit (fields past it were not output). */
  tooLarge = false
  /** Set by decode(): sum of name + value + 32 over the block's fields. */
  listSize = 0

  constructor (allowedMaxSize: number, maxListSize: number) {
    this.allowedMaxSize = allowedMaxSize
    this.maxSize = allowedMaxSize
    this.maxListSize = maxListSize
  }

  /** Entries in the dynamic table (for tests). */
  get tableLength (): number { return this.count }
  get tableSize (): number { return this.size }

  /** Decode `buf[start, end)`, one whole header block, pushing name, value pairs onto `out`. */
  decode (buf: Buffer, start: number, end: number, out: string[]): void {
    this.malformed = null
    this.tooLarge = false
    this.listSize = 0
    let pos = start
    let fields = 0
    while (pos < end) {
      const b = buf[pos]
      if (b >= 0x80) {
        // indexed field
        let index = b & 0x7f
        pos++
        if (index === 0x7f) { index = this.int(buf, pos, end, 0x7f); pos = this.pos }
        if (index === 0) throw new HpackError('index 0')
        if (index <= STATIC_TABLE_LENGTH) this.emit(out, STATIC_NAMES[index], STATIC_VALUES[index], 0)
        else {
          const slot = this.slot(index)
          this.emit(out, this.names[slot], this.values[slot], this.bad[slot])
        }
        fields++
        continue
      }
      if ((b & 0xe0) === 0x20) {
        // dynamic table size update: only at the start of a block (RFC 7541 §4.2)
        if (fields > 0) throw new HpackError('table size update after a field')
        let size = b & 0x1f
        pos++
        if (size === 0x1f) { size = this.int(buf, pos, end, 0x1f); pos = this.pos }
        if (size > this.allowedMaxSize) throw new HpackError(`table size update to ${size} over ${this.allowedMaxSize}`)
        this.maxSize = size
        this.evict(0)
        continue
      }
      const indexing = (b & 0xc0) === 0x40
      const prefix = indexing ? 0x3f : 0x0f
      let nameIndex = b & prefix
      pos++
      if (nameIndex === prefix) { nameIndex = this.int(buf, pos, end, prefix); pos = this.pos }
      let name: string
      let bad = 0
      if (nameIndex === 0) {
        name = this.str(buf, pos, end)
        pos = this.pos
        bad = checkName(name)
      } else if (nameIndex <= STATIC_TABLE_LENGTH) {
        name = STATIC_NAMES[nameIndex]
      } else {
        const slot = this.slot(nameIndex)
        name = this.names[slot]
        bad = this.bad[slot] & BAD_NAME
      }
      const value = this.str(buf, pos, end)
      pos = this.pos
      bad |= checkValue(value)
      this.emit(out, name, value, bad)
      if (indexing) this.add(name, value, bad)
      fields++
    }
  }

  private emit (out: string[], name: string, value: string, bad: number): void {
    const n = this.listSize += name.length + value.length + ENTRY_OVERHEAD
    if (n > this.maxListSize) { this.tooLarge = true; return }
    if (bad !== 0 && this.malformed === null) this.malformed = (bad & BAD_NAME) !== 0 ? `invalid field name "${name}"` : `invalid value of field "${name}"`
    out.push(name, value)
  }

  /** An HPACK integer whose prefix (all ones) was at pos - 1 (RFC 7541 §5.1). */
  private int (buf: Buffer, pos: number, end: number, prefix: number): number {
    let value = prefix
    let shift = 0
    for (;;) {
      if (pos >= end) throw new HpackError('truncated integer')
      const b = buf[pos++]
      value += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) break
      shift += 7
      if (shift > 28) throw new HpackError('integer too large')
    }
    if (value > 0x7fffffff) throw new HpackError('integer too large')
    this.pos = pos
    return value
  }

  private str (buf: Buffer, pos: number, end: number): string {
    if (pos >= end) throw new HpackError('truncated string')
    const huffman = (buf[pos] & 0x80) !== 0
    let len = buf[pos] & 0x7f
    pos++
    if (len === 0x7f) { len = this.int(buf, pos, end, 0x7f); pos = this.pos }
    const stop = pos + len
    if (stop > end) throw new HpackError('string longer than the block')
    this.pos = stop
    if (len === 0) return ''
    return huffman ? huffmanDecode(buf, pos, stop) : latin1Slice(buf, pos, stop)
  }

  /** Ring slot of HPACK index `index` (> 61). */
  private slot (index: number): number {
    const i = index - STATIC_TABLE_LENGTH - 1
    if (i >= this.count) throw new HpackError(`index ${index} beyond the dynamic table`)
    return (this.head - i) & this.mask
  }

  private add (name: string, value: string, bad: number): void {
    const size = name.length + value.length + ENTRY_OVERHEAD
    if (size > this.maxSize) {
      // an entry larger than the table empties it (RFC 7541 §4.4)
      this.count = 0
      this.size = 0
      return
    }
    this.evict(this.maxSize - size)
    if (this.count === this.mask + 1) this.grow()
    this.head = (this.head + 1) & this.mask
    this.names[this.head] = name
    this.values[this.head] = value
    this.bad[this.head] = bad
    this.count++
    this.size += size
  }

  /** Drop the oldest entries until the table holds at most `limit` bytes. */
  private evict (limit: number): void {
    while (this.size > limit && this.count > 0) {
      const slot = (this.head - this.count + 1) & this.mask
      this.size -= this.names[slot].length + this.values[slot].length + ENTRY_OVERHEAD
      this.names[slot] = ''
      this.values[slot] = ''
      this.count--
    }
  }

  private grow (): void {
    const cap = (this.mask + 1) * 2
    const names: string[] = new Array(cap)
    const values: string[] = new Array(cap)
    const bad = new Uint8Array(cap)
    // re-lay oldest → newest at 0 … count - 1
    for (let i = 0; i < this.count; i++) {
      const from = (this.head - this.count + 1 + i) & this.mask
      names[i] = this.names[from]
      values[i] = this.values[from]
      bad[i] = this.bad[from]
    }
    this.names = names
    this.values = values
    this.bad = bad
    this.mask = cap - 1
    this.head = this.count - 1
  }
}

const BAD_NAME = 1
const BAD_VALUE = 2
const PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':status', ':protocol'])

/** RFC 9113 §8.2.1: no characters 0x00-0x20, A-Z, 0x7f-0xff; a colon only to start a known pseudo-header. */
function checkName (name: string): number {
  const n = name.length
  if (n === 0) return BAD_NAME
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f || (c === 0x3a && i > 0)) return BAD_NAME
  }
  if (name.charCodeAt(0) === 0x3a && !PSEUDO.has(name)) return BAD_NAME
  return 0
}

/** RFC 9113 §8.2.1: no NUL, CR or LF; no leading or trailing SP / HTAB. */
function checkValue (value: string): number {
  const n = value.length
  if (n === 0) return 0
  let c = value.charCodeAt(0)
  if (c === 0x20 || c === 0x09) return BAD_VALUE
  c = value.charCodeAt(n - 1)
  if (c === 0x20 || c === 0x09) return BAD_VALUE
  for (let i = 0; i < n; i++) {
    c = value.charCodeAt(i)
    if (c === 0 || c === 0x0a || c === 0x0d) return BAD_VALUE
  }
  return 0
}
