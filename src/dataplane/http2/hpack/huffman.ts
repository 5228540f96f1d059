/**
 * HPACK Huffman coding (RFC 7541 §5.2, Appendix B).
 *
 * Decoding walks a finite-state machine four bits at a time (nghttp2's approach): the states are the 256
 * inner nodes of the code tree, and `DECODE[state * 16 + nibble]` packs the next state, the octet emitted
 * (at most one: the shortest code is 5 bits) and whether the EOS symbol was hit (a decoding error).
 * A string may end only at the root or at a node reached by ≤ 7 one-bits (the EOS prefix used as padding).
 *
 *   bytes ──hi nibble──▶ DECODE ──lo nibble──▶ DECODE ──▶ … ──▶ end: state accepting? else COMPRESSION_ERROR
 *
 * @example
 * const s = huffmanDecode(buf, start, end)          // throws HpackError on a bad code
 * const n = huffmanEncode(value, out, pos)          // after huffmanLength(value) < value.length
 */
import { latin1Slice } from '../latin1.ts'
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from './huffman-table.ts'

/** An HPACK decoding error: the connection answers COMPRESSION_ERROR. */
export class HpackError extends Error {}

const EMIT = 1 << 8
const FAIL = 1 << 9
// Perf: one Int32Array lookup per nibble: (next state << 16) | flags | octet.
const DECODE = new Int32Array(256 * 16)
/** States where the string may end. */
const ACCEPT = new Uint8Array(256)

function buildDecoder (): void {
  // The tree: node 0 is the root; children[2n], children[2n+1]; a leaf is stored as -(symbol + 1).
  const children = new Int32Array(512).fill(0)
  let nodes = 1
  for (let sym = 0; sym <= 256; sym++) {
    const code = HUFFMAN_CODES[sym]
    const len = HUFFMAN_LENGTHS[sym]
    let node = 0
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1
      const slot = node * 2 + bit
      if (i === 0) { children[slot] = -(sym + 1); break }
      if (children[slot] === 0) children[slot] = nodes++
      node = children[slot]
    }
  }
  // depth and all-ones path of each inner node, for the accepting states
  const depth = new Int32Array(256)
  const ones = new Uint8Array(256)
  ones[0] = 1
  for (let n = 0; n < nodes; n++) {
    for (let bit = 0; bit < 2; bit++) {
      const c = children[n * 2 + bit]
      if (c > 0) { depth[c] = depth[n] + 1; ones[c] = ones[n] & bit }
    }
  }
  for (let n = 0; n < nodes; n++) ACCEPT[n] = n === 0 || (ones[n] === 1 && depth[n] <= 7) ? 1 : 0
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state
      let flags = 0
      let sym = 0
      for (let i = 3; i >= 0; i--) {
        const c = children[node * 2 + ((nibble >>> i) & 1)]
        if (c < 0) {
          const s = -c - 1
          if (s === 256) { flags |= FAIL; node = 0; break }
          flags |= EMIT
          sym = s
          node = 0
        } else {
          node = c
        }
      }
      DECODE[state * 16 + nibble] = (node << 16) | flags | sym
    }
  }
}
buildDecoder()

let scratch = Buffer.allocUnsafe(4096)

/** Decode `buf[start, end)` into a latin1 string (header octets map 1:1 to char codes). */
export function huffmanDecode (buf: Buffer, start: number, end: number): string {
  // A Huffman string decodes to at most 8/5 of its length.
  const max = ((end - start) * 8 / 5 | 0) + 1
  if (scratch.length < max) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2))
  const out = scratch
  let n = 0
  let state = 0
  for (let i = start; i < end; i++) {
    const b = buf[i]
    let e = DECODE[(state << 4) | (b >>> 4)]
    if ((e & FAIL) !== 0) throw new HpackError('Huffman string contains EOS')
    if ((e & EMIT) !== 0) out[n++] = e & 0xff
    state = e >>> 16
    e = DECODE[(state << 4) | (b & 0xf)]
    if ((e & FAIL) !== 0) throw new HpackError('Huffman string contains EOS')
    if ((e & EMIT) !== 0) out[n++] = e & 0xff
    state = e >>> 16
  }
  if (ACCEPT[state] === 0) throw new HpackError('Huffman string has invalid padding')
  return latin1Slice(out, 0, n)
}

/** Bytes `s` takes Huffman-encoded. */
export function huffmanLength (s: string): number {
  let bits = 0
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]
  return (bits + 7) >>> 3
}

/** Write `s` Huffman-encoded at `out[pos…]` (room for huffmanLength(s) bytes); returns the new position. */
export function huffmanEncode (s: string, out: Buffer, pos: number): number {
  // Perf: a 32-bit accumulator holds < 8 pending bits plus one code of ≤ 24 bits; longer codes (only for
  // rare control and high octets) go in two parts.
  let acc = 0
  let bits = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff
    let code = HUFFMAN_CODES[c]
    let len = HUFFMAN_LENGTHS[c]
    if (len > 24) {
      const hi = len - 24
      acc = (acc << hi) | (code >>> 24)
      bits += hi
      while (bits >= 8) {
        bits -= 8
        out[pos++] = (acc >>> bits) & 0xff
      }
      acc &= (1 << bits) - 1
      code &= 0xffffff
      len = 24
    }
    acc = (acc << len) | code
    bits += len
    while (bits >= 8) {
      bits -= 8
      out[pos++] = (acc >>> bits) & 0xff
    }
    acc &= (1 << bits) - 1
  }
  if (bits > 0) out[pos++] = ((acc << (8 - bits)) | (0xff >>> bits)) & 0xff
  return pos
}
