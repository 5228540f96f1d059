/**
 * Header octets ↔ JS strings, one char code per octet (latin1), as the HTTP/1.1 codec does.
 *
 * @example
 * const name = latin1Slice(buf, start, end); pos = latin1Write(out, value, pos)
 */

// Perf: Buffer's own latin1Slice/latin1Write skip toString()/write()'s encoding dispatch and argument checks.
interface Latin1Buffer {
  latin1Slice (start: number, end: number): string
  latin1Write (s: string, offset: number, length: number): number
}

export function latin1Slice (buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end)
}

/** Write `s` at `buf[pos…]` (room for s.length bytes); returns the new position. */
export function latin1Write (buf: Buffer, s: string, pos: number): number {
  const n = s.length
  // Perf: short strings (most header names and values) are cheaper to copy in JS than through a native call.
  if (n < 24) {
    for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i)
    return pos + n
  }
  return pos + (buf as unknown as Latin1Buffer).latin1Write(s, pos, n)
}
