import net from 'node:net'
import tls from 'node:tls'
import { encodeH1Request, type Target } from './target.ts'

/** Callbacks of one connection; bound once per connection, not per request. */
export interface ConnectionEvents {
  /** Connected (and TLS handshake done): ready for the first request. */
  onReady (): void
  /**
   * One full response was read. `inRead`: completed inside the socket's read callback, i.e. in the event
   * loop's poll phase (not from a 'close' event or a deferred stream event).
   */
  onResponse (status: number, inRead?: boolean): void
  /** The connection is gone; `code` says why (`ECONNREFUSED`, `ETIMEDOUT`, `ECONNRESET`, `EPARSE`, `ECLOSED`…). */
  onClose (code: string): void
}

export interface LoadConnection {
  /** Send the request; exactly one is in flight at a time. */
  send (): void
  /** False once the connection is closing (e.g. after `Connection: close`): do not send on it. */
  readonly isOpen: boolean
  destroy (): void
}

enum State { Idle, Head, Length, Chunked, UntilClose }
const CRLF = Buffer.from('\r\n')
const CRLFCRLF = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = Buffer.from('content-length')
const TRANSFER_ENCODING = Buffer.from('transfer-encoding')
const CONNECTION = Buffer.from('connection')
const CLOSE = Buffer.from('close')
const CHUNKED = Buffer.from('chunked')
const KEEP_ALIVE = Buffer.from('keep-alive')
/** Shared by every plain connection of this thread (reads are handled synchronously). */
const READ_BUFFER = Buffer.allocUnsafe(65536)

/** Whether `buf[from, to)` contains `lower`, ASCII case-insensitively. */
function contains (buf: Buffer, from: number, to: number, lower: Buffer): boolean {
  for (let i = from; i + lower.length <= to; i++) if (nameIs(buf, i, lower)) return true
  return false
}

/** Case-insensitive match of a header name (ASCII letters and '-') at `at`. */
function nameIs (buf: Buffer, at: number, lower: Buffer): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[at + k] | 0x20) !== lower[k]) return false
  return true
}

/**
 * Keep-alive HTTP/1.1 over a raw `net`/`tls` socket with a minimal response parser: status line,
 * Content-Length, chunked, close-delimited. No pipelining: one request in flight.
 * Perf: the request is one pre-encoded Buffer, and a small response is parsed straight from the
 * `data` chunk without copies (the generator must not be the bottleneck it measures).
 */
export class H1Connection implements LoadConnection {
  private readonly socket: net.Socket
  private readonly request: Buffer
  private readonly ev: ConnectionEvents
  private readonly headOnly: boolean
  private state = State.Idle
  private pending: Buffer | null = null
  private status = 0
  private remaining = 0
  private closeAfter = false
  private closed = false
  /** True while `onData` runs from the socket's libuv read callback (plain sockets; TLS 'data' may be replayed later). */
  private reading = false
  private readonly readsInPoll: boolean

  constructor (t: Target, ev: ConnectionEvents, request = encodeH1Request(t)) {
    this.ev = ev
    this.request = request
    this.headOnly = t.method === 'HEAD'
    this.readsInPoll = !t.secure
    const onConnect = (): void => {
      this.socket.setTimeout(0)
      ev.onReady()
    }
    if (t.secure) {
      this.socket = tls.connect({ host: t.host, port: t.port, servername: t.tls.servername ?? (net.isIP(t.host) ? undefined : t.host), rejectUnauthorized: !t.tls.insecure, ca: t.tls.caPem, cert: t.tls.certPem, key: t.tls.keyPem, ALPNProtocols: ['http/1.1'] }, onConnect)
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    } else {
      // Perf: `onread` hands bytes to us in one shared buffer, without a stream 'data' event and an
      // allocation per read. The parser consumes them synchronously and copies any leftover.
      this.socket = net.connect({ host: t.host, port: t.port, onread: { buffer: READ_BUFFER, callback: (n: number, buf: Uint8Array) => { this.onData(Buffer.from(buf.buffer, buf.byteOffset, n)); return true } } }, onConnect)
    }
    this.socket.setNoDelay(true)
    this.socket.setTimeout(t.connectTimeoutMs, () => this.fail('ETIMEDOUT'))
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? 'ESOCKET'))
    this.socket.on('close', () => this.fail(this.state === State.UntilClose ? this.finishUntilClose() : 'ECLOSED'))
  }

  send (): void {
    this.state = State.Head
    this.socket.write(this.request)
  }

  get isOpen (): boolean {
    return !this.closed
  }

  destroy (): void {
    this.closed = true
    this.socket.destroy()
  }

  private fail (code: string): void {
    if (this.closed) return
    this.closed = true
    this.socket.destroy()
    this.ev.onClose(code)
  }

  private finishUntilClose (): string {
    this.state = State.Idle
    this.ev.onResponse(this.status, false)
    return 'ECLOSED'
  }

  private onData (chunk: Buffer): void {
    this.reading = this.readsInPoll
    try {
      this.consume(chunk)
    } finally {
      this.reading = false
    }
  }

  private consume (chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    while (buf.length > 0) {
      const used = this.parse(buf)
      if (used < 0) { this.fail('EPARSE'); return }
      if (used === 0) { this.pending = Buffer.from(buf); return } // copy: buf may be the shared read buffer
      buf = buf.subarray(used)
    }
  }

  /** Consume from `buf`; returns bytes used, 0 when more bytes are needed, -1 on a parse error. */
  private parse (buf: Buffer): number {
    switch (this.state) {
      case State.Head: {
        // Perf: one JS pass over the head bytes; no indexOf calls into C++ and no strings per header.
        const n = buf.length
        if (n < 12) return 0
        // "HTTP/1.1 200 OK": the status is at bytes 9..11.
        if (buf[0] !== 0x48 || buf[5] !== 0x31) return -1
        const status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
        if (!(status >= 100 && status <= 999)) return -1
        let length = -1
        let chunked = false
        let closeAfter = buf[7] === 0x30 // HTTP/1.0
        let i = 12
        while (i < n && buf[i] !== 0x0a) i++ // end of the status line
        let end = -1
        while (++i < n) {
          const lineStart = i
          if (buf[i] === 0x0d && i + 1 < n && buf[i + 1] === 0x0a) { end = i + 2; break } // empty line: end of head
          let colon = -1
          while (i < n && buf[i] !== 0x0a) { if (colon < 0 && buf[i] === 0x3a) colon = i; i++ }
          if (i >= n) break
          if (colon < 0) continue
          const nameLen = colon - lineStart
          const c = buf[lineStart] | 0x20
          if (nameLen === 14 && c === 0x63 && nameIs(buf, lineStart, CONTENT_LENGTH)) {
            length = 0
            let seen = false
            for (let j = colon + 1; j < i; j++) {
              const d = buf[j]
              if (d >= 48 && d <= 57) { length = length * 10 + d - 48; seen = true } else if (d !== 0x20 && d !== 0x09 && d !== 0x0d) return -1
            }
            if (!seen) return -1
          } else if (nameLen === 17 && c === 0x74 && nameIs(buf, lineStart, TRANSFER_ENCODING)) {
            chunked = contains(buf, colon + 1, i, CHUNKED)
          } else if (nameLen === 10 && c === 0x63 && nameIs(buf, lineStart, CONNECTION)) {
            if (contains(buf, colon + 1, i, CLOSE)) closeAfter = true
            else if (contains(buf, colon + 1, i, KEEP_ALIVE)) closeAfter = false
          }
        }
        if (end < 0) return n > 65536 ? -1 : 0
        this.status = status
        this.closeAfter = closeAfter
        if (status < 200) { // 1xx interim response: the final one follows
          return end
        }
        if (this.headOnly || status === 204 || status === 304) {
          this.complete()
        } else if (chunked) {
          this.state = State.Chunked
          this.remaining = -1
        } else if (length >= 0) {
          this.remaining = length
          this.state = State.Length
          if (length === 0) this.complete()
        } else {
          this.state = State.UntilClose
        }
        return end
      }
      case State.Length: {
        const n = Math.min(buf.length, this.remaining)
        this.remaining -= n
        if (this.remaining === 0) this.complete()
        return n
      }
      case State.Chunked: {
        if (this.remaining > 0) { // inside chunk data (+ its CRLF)
          const n = Math.min(buf.length, this.remaining)
          this.remaining -= n
          if (this.remaining === 0) this.remaining = -1
          return n
        }
        if (this.remaining === -2) { // after the last chunk: optional trailers, then CRLF
          if (buf.length < 2) return 0
          if (buf[0] === 0x0d && buf[1] === 0x0a) { this.complete(); return 2 }
          const end = buf.indexOf(CRLFCRLF)
          if (end < 0) return 0
          this.complete()
          return end + 4
        }
        const eol = buf.indexOf(CRLF)
        if (eol < 0) return buf.length > 1024 ? -1 : 0
        const size = Number.parseInt(buf.toString('latin1', 0, eol).split(';')[0], 16)
        if (!(size >= 0)) return -1
        this.remaining = size === 0 ? -2 : size + 2
        return eol + 2
      }
      case State.UntilClose:
        return buf.length
      default:
        return -1 // bytes while no request is in flight
    }
  }

  private complete (): void {
    this.state = State.Idle
    if (this.closeAfter) {
      // The server closes after this response: report it (isOpen is already false), then the close.
      this.closed = true
      this.socket.destroy()
      this.ev.onResponse(this.status, this.reading)
      this.ev.onClose('ECLOSED')
      return
    }
    this.ev.onResponse(this.status, this.reading)
  }
}
