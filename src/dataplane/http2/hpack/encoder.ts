/**
 * HPACK encoder (RFC 7541): one per connection. Repeated fields become 1–2 byte indexed references: gRPC's
 * `:method POST`, `:scheme`, `:path`, `content-type`, `te`, `user-agent`, `grpc-status` all repeat on every
 * call, so after the first call a request head is a handful of bytes.
 *
 * Policy per field:
 * - static or dynamic entry with the same name and value → indexed (1xxxxxxx);
 * - sensitive (authorization, proxy-authorization, cookie, set-cookie) → literal never indexed (0001xxxx), so
 *   no intermediary may index it either (RFC 7541 §7.1.3);
 * - values unique per request (trace ids, deadlines, dates…, `:path` with a query, entries > 1/4 of the table)
 *   → literal without indexing (0000xxxx): indexing them would only evict useful entries;
 * - anything else → literal with incremental indexing (01xxxxxx).
 * Names and indexed values are Huffman-coded when that is shorter; values sent as literals every time are raw.
 *
 * @example
 * const enc = new HpackEncoder()
 * let pos = enc.begin(buf, 0)
 * pos = enc.field(':status', '200', buf, pos)
 * pos = enc.fields(['content-type', 'application/grpc'], buf, pos)   // buf has room: maxBlockSize(…)
 */
import { latin1Write } from '../latin1.ts'
import { huffmanEncode, huffmanLength } from './huffman.ts'
import { STATIC_BY_NAME, STATIC_TABLE_LENGTH } from './static-table.ts'

const ENTRY_OVERHEAD = 32

const SENSITIVE = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])
const UNIQUE = new Set(['traceparent', 'tracestate', 'x-request-id', 'grpc-timeout', 'meshwork-timeout', 'date',
  'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'etag', 'last-modified', 'age', 'expires',
  'if-modified-since', 'if-none-match', 'if-unmodified-since', 'location', 'content-range', 'x-amzn-trace-id',
  'grpc-status-details-bin', 'grpc-previous-rpc-attempts', 'x-envoy-attempt-count'])

/** What the encoder knows about one field name. */
interface NameInfo {
  /** First static-table index of the name, or 0. */
  staticIndex: number
  /** Static entries with a value (`:method GET`…), or null. */
  staticValues: Map<string, number> | null
  /** value → id of the newest dynamic entry with this name and value. */
  dyn: Map<string, number>
  /** Id of the newest dynamic entry with this name, or 0. */
  newest: number
  /** Literal policy: 0 index, 1 no index, 2 never index. */
  mode: number
}

/** Bytes `headers` (plus `extra` bytes of fields) can take at most once encoded. */
export function maxBlockSize (headers: string[], extra: number): number {
  let n = extra + 8
  for (let i = 0; i < headers.length; i++) n += headers[i].length + 6
  return n
}

export class HpackEncoder {
  /** Table size the peer allows (its SETTINGS_HEADER_TABLE_SIZE), capped by ours. */
  private maxSize: number
  private readonly cap: number
  /** Smallest size set since the last block (−1: none): RFC 7541 §4.2 wants it signalled first. */
  private minPending = -1
  private size = 0
  // Ring of entries oldest → newest, ids increase by one per insertion.
  private names: string[] = new Array(32)
  private values: string[] = new Array(32)
  private mask = 31
  /** Id of the newest entry (0: none yet); the oldest live id is inserted - count + 1. */
  private inserted = 0
  private count = 0
  private readonly info = new Map<string, NameInfo>()

  private readonly huffman: boolean

  /**
   * `cap`: the most we want to spend on a table whatever the peer allows (4096, the protocol default).
   * `huffman: false` writes every literal raw (RFC 7541 C.3 / C.5 test vectors).
   */
  constructor (cap = 4096, huffman = true) {
    this.cap = cap
    this.huffman = huffman
    // the peer's decoder starts at the protocol default: a smaller table must be signalled
    this.maxSize = 4096
    if (cap < 4096) this.setPeerMaxSize(cap)
  }

  get tableLength (): number { return this.count }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed. */
  setPeerMaxSize (peer: number): void {
    const size = Math.min(peer, this.cap)
    if (size === this.maxSize) return
    this.minPending = this.minPending === -1 ? size : Math.min(this.minPending, size)
    this.maxSize = size
    this.evict(size)
  }

  /** Start a header block: writes a pending table size update. */
  begin (buf: Buffer, pos: number): number {
    if (this.minPending === -1) return pos
    if (this.minPending < this.maxSize) pos = writeInt(buf, pos, this.minPending, 0x1f, 0x20)
    pos = writeInt(buf, pos, this.maxSize, 0x1f, 0x20)
    this.minPending = -1
    return pos
  }

  /** Encode every pair of `headers` from index `from`. */
  fields (headers: string[], buf: Buffer, pos: number, from = 0): number {
    for (let i = from; i < headers.length; i += 2) pos = this.field(headers[i], headers[i + 1], buf, pos)
    return pos
  }

  field (name: string, value: string, buf: Buffer, pos: number): number {
    let info = this.info.get(name)
    if (info === undefined) info = this.newInfo(name)
    if (info.staticValues !== null) {
      const s = info.staticValues.get(value)
      if (s !== undefined) { buf[pos] = 0x80 | s; return pos + 1 }
    }
    const id = info.mode === 2 ? undefined : info.dyn.get(value)
    if (id !== undefined) return writeInt(buf, pos, STATIC_TABLE_LENGTH + 1 + this.inserted - id, 0x7f, 0x80)
    // Perf: a static name index (≤ 61) fits the prefix; a dynamic one takes two bytes
    const nameIndex = info.staticIndex !== 0 ? info.staticIndex : info.newest !== 0 ? STATIC_TABLE_LENGTH + 1 + this.inserted - info.newest : 0
    let mode = info.mode
    const entrySize = name.length + value.length + ENTRY_OVERHEAD
    if (mode === 0 && (entrySize > this.maxSize >>> 2 || (name === ':path' && value.indexOf('?') !== -1))) mode = 1
    if (mode === 0) pos = writeInt(buf, pos, nameIndex, 0x3f, 0x40)
    else pos = writeInt(buf, pos, nameIndex, 0x0f, mode === 2 ? 0x10 : 0x00)
    if (nameIndex === 0) pos = writeString(buf, pos, name, this.huffman)
    // Perf: a value sent as a literal every time (trace ids, deadlines) goes raw: Huffman would cost CPU on
    // both ends of every call to save a few bytes; a value we index is sent once, so it is worth coding.
    pos = writeString(buf, pos, value, this.huffman && mode === 0)
    if (mode === 0) this.add(name, value, info, entrySize)
    // memory: a name that is in no table and has no policy of its own is not kept (ever new names from a
    // peer, with values too large to index, must not grow the map)
    else if (info.dyn.size === 0 && info.staticIndex === 0 && info.mode === 0) this.info.delete(name)
    return pos
  }

  private newInfo (name: string): NameInfo {
    const s = STATIC_BY_NAME.get(name)
    const info: NameInfo = {
      staticIndex: s !== undefined ? s.index : 0,
      staticValues: s !== undefined && s.values.size > 0 ? s.values : null,
      dyn: new Map(),
      newest: 0,
      mode: SENSITIVE.has(name) ? 2 : UNIQUE.has(name) ? 1 : 0
    }
    this.info.set(name, info)
    return info
  }

  private add (name: string, value: string, info: NameInfo, size: number): void {
    this.evict(this.maxSize - size)
    if (this.count === this.mask + 1) this.grow()
    const id = ++this.inserted
    const slot = id & this.mask
    this.names[slot] = name
    this.values[slot] = value
    this.count++
    this.size += size
    info.dyn.set(value, id)
    info.newest = id
  }

  private evict (limit: number): void {
    while (this.size > limit && this.count > 0) {
      const id = this.inserted - this.count + 1
      const slot = id & this.mask
      const name = this.names[slot]
      const value = this.values[slot]
      this.size -= name.length + value.length + ENTRY_OVERHEAD
      this.count--
      const info = this.info.get(name)!
      if (info.dyn.get(value) === id) info.dyn.delete(value)
      if (info.newest === id) info.newest = 0
      // Perf/memory: forget names that are in no table (a peer sending ever new names cannot grow the map)
      if (info.dyn.size === 0 && info.staticIndex === 0 && info.mode === 0) this.info.delete(name)
      this.names[slot] = ''
      this.values[slot] = ''
    }
  }

  private grow (): void {
    const cap = (this.mask + 1) * 2
    const names: string[] = new Array(cap)
    const values: string[] = new Array(cap)
    const newMask = cap - 1
    for (let i = 0; i < this.count; i++) {
      const id = this.inserted - this.count + 1 + i
      names[id & newMask] = this.names[id & this.mask]
      values[id & newMask] = this.values[id & this.mask]
    }
    this.names = names
    this.values = values
    this.mask = newMask
  }
}

/** An HPACK integer with an N-bit prefix (`prefix` = 2^N − 1) and the pattern bits `first` (RFC 7541 §5.1). */
export function writeInt (buf: Buffer, pos: number, value: number, prefix: number, first: number): number {
  if (value < prefix) { buf[pos] = first | value; return pos + 1 }
  buf[pos++] = first | prefix
  value -= prefix
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80
    value = Math.floor(value / 128)
  }
  buf[pos] = value
  return pos + 1
}

function writeString (buf: Buffer, pos: number, s: string, huffman: boolean): number {
  const n = s.length
  if (huffman && n > 4) {
    const h = huffmanLength(s)
    if (h < n) {
      pos = writeInt(buf, pos, h, 0x7f, 0x80)
      return huffmanEncode(s, buf, pos)
    }
  }
  pos = writeInt(buf, pos, n, 0x7f, 0x00)
  return latin1Write(buf, s, pos)
}
