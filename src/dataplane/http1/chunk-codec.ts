/**
 * Chunked transfer coding for the HTTP/1.1 ⇄ HTTP/2 bridge (h2 between sidecars): HTTP/2 carries body
 * bytes without chunk framing, so the bridge decodes chunked HTTP/1.1 bodies into plain data and encodes
 * plain data as chunks. The HTTP/1.1 ⇄ HTTP/1.1 path never uses this (bodies are forwarded as received).
 *
 * The decoder expects framing that {@link BodyFramer} already validated; it ignores chunk extensions and keeps the
 * trailer section (`trailers`, parsed by http1/trailers.ts), which the h2 side sends as a trailers HEADERS frame.
 *
 * @example
 * const d = new ChunkDecoder(); d.push(buf, data => stream.write(data)) // true once the last chunk was seen
 * socket.write(encodeChunk(data)); socket.write(LAST_CHUNK)
 */
import { parseTrailerText } from './trailers.ts'

export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')
const CRLF = Buffer.from('\r\n', 'latin1')

/** One chunk (size line, data, CRLF) as a single buffer. */
export function encodeChunk (data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(data.length.toString(16) + '\r\n', 'latin1'), data, CRLF])
}

const S_SIZE = 0
const S_EXT = 1
const S_SIZE_LF = 2
const S_DATA = 3
const S_DATA_CRLF = 4
const S_TRAILER = 5
const S_DONE = 6

export class ChunkDecoder {
  private state = S_SIZE
  private size = 0
  private skip = 0
  private trailerLineLen = 0
  private trailerText = ''

  get done (): boolean { return this.state === S_DONE }

  /** Trailer fields of the body (flat list), null when it had none or has not ended. */
  get trailers (): string[] | null {
    return this.state === S_DONE && this.trailerText !== '' ? parseTrailerText(this.trailerText) : null
  }

  /** Feed wire bytes; `onData` gets each run of body data. Returns true when the body ended. */
  push (buf: Buffer, onData: (data: Buffer) => void): boolean {
    let i = 0
    const len = buf.length
    while (i < len && this.state !== S_DONE) {
      const c = buf[i]
      switch (this.state) {
        case S_SIZE:
          if (c === 13) this.state = S_SIZE_LF
          else if (c === 59 || c === 32 || c === 9) this.state = S_EXT
          else this.size = this.size * 16 + hex(c)
          i++
          break
        case S_EXT:
          if (c === 13) this.state = S_SIZE_LF
          i++
          break
        case S_SIZE_LF:
          i++
          if (this.size === 0) { this.state = S_TRAILER; this.trailerLineLen = 0 } else this.state = S_DATA
          break
        case S_DATA: {
          const take = Math.min(len - i, this.size)
          onData(buf.subarray(i, i + take))
          i += take
          this.size -= take
          if (this.size === 0) { this.state = S_DATA_CRLF; this.skip = 2 }
          break
        }
        case S_DATA_CRLF:
          i++
          if (--this.skip === 0) { this.state = S_SIZE; this.size = 0 }
          break
        case S_TRAILER: {
          // trailer lines end with CRLF; an empty line ends the body. Perf: a line at a time (indexOf + one latin1
          // slice), not a byte at a time: every gRPC response through an h2 client has a trailer section.
          const lf = buf.indexOf(10, i)
          const stop = lf === -1 ? len : lf
          if (stop > i) { this.trailerText += buf.toString('latin1', i, stop); this.trailerLineLen += stop - i }
          i = stop
          if (lf === -1) break
          i++
          if (this.trailerText.charCodeAt(this.trailerText.length - 1) === 13) { this.trailerText = this.trailerText.slice(0, -1); this.trailerLineLen-- }
          if (this.trailerLineLen === 0) this.state = S_DONE
          else this.trailerText += '\r\n'
          this.trailerLineLen = 0
          break
        }
      }
    }
    return this.state === S_DONE
  }
}

function hex (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  return c - 55
}
