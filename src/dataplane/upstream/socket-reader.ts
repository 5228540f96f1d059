/**
 * Reads a socket through Node's `onread` option (net.connect / tls.connect): the kernel (or OpenSSL) copies
 * into one buffer this reader owns and each chunk goes to one callback, instead of Node's default path
 * (a 64 KB allocation per read, shrunk to size and wrapped in a Buffer, then Readable push → emit('data')
 * and a `maybeReadMore` nextTick).
 *
 * The same buffer is read into again and again, so a chunk is only valid during the callback. A consumer
 * that keeps a reference past it (a write the downstream socket queued instead of copying, a partial head
 * held for the next read) calls `keep()`: the next read then goes into a fresh buffer and the old one
 * belongs to whoever holds it (garbage once they let go).
 *
 *   read ─▶ buf ─▶ onChunk(chunk) ──returns, nothing held──▶ next read into the same buf
 *                        └─ keep() ────────────────────────▶ next read into a new buf
 *
 * `passThrough()` hands chunks to the socket's own Readable side (`push`), for a socket that leaves HTTP
 * parsing (a 101 tunnel uses `pipe`); every chunk is then kept.
 *
 * @example
 * const reader = new SocketReader()
 * const socket = net.connect({ host, port, onread: reader.onread })
 * reader.attach(socket, chunk => { parse(chunk); if (heldOnto) reader.keep() })
 */
import type { Socket } from 'node:net'

/** Bytes per read buffer: one TLS record's plaintext (the most one SSL_read returns). */
export const READ_BUFFER_SIZE = 16 * 1024

export class SocketReader {
  /** Pass to `net.connect` / `tls.connect` as the `onread` option. */
  readonly onread: { buffer: () => Buffer, callback: (n: number, buf: Buffer) => boolean }
  private buf: Buffer | null = null
  private kept = false
  private onChunk: ((chunk: Buffer) => void) | null = null
  private socket: Socket | null = null
  private pushing = false

  constructor () {
    this.onread = { buffer: this.next.bind(this), callback: this.onRead.bind(this) }
  }

  /**
   * Deliver the chunks of `socket` to `onChunk` from now on (null: none expected yet; a chunk then destroys
   * the socket, as an HTTP/1.1 upstream never speaks first).
   */
  attach (socket: Socket, onChunk: ((chunk: Buffer) => void) | null): void {
    this.socket = socket
    this.onChunk = onChunk
  }

  /** The chunk being delivered is referenced after the callback returns: read the next one elsewhere. */
  keep (): void {
    this.kept = true
  }

  /** Stop delivering to `onChunk`: chunks go to the socket's Readable side ('data' events, `pipe`). */
  passThrough (): void {
    this.onChunk = null
    this.pushing = true
    this.kept = true
  }

  /** Where the next read goes (Node calls it once when the socket opens and after every read). */
  private next (): Buffer {
    if (this.buf === null || this.kept) {
      this.buf = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE)
      this.kept = false
    }
    return this.buf
  }

  /** `buf` is the buffer `next()` returned; the socket stops reading when this returns false. */
  private onRead (n: number, buf: Buffer): boolean {
    const chunk = buf.subarray(0, n)
    const to = this.onChunk
    if (to !== null) { to(chunk); return true }
    const s = this.socket
    if (this.pushing && s !== null) { this.kept = true; return s.push(chunk) }
    if (s !== null) s.destroy()
    return false
  }
}
