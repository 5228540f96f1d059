import net from 'node:net'
import tls from 'node:tls'
import { encodeH1Request, type Target } from './target.ts'

/** Callbacks of one connection; bound once per connection, not per request. */
export interface ConnectionEvents {
  /** Connected (and TLS handshake done): ready for the first request. */
  onReady (): void
  /** One full response was read. */
  onResponse (status: number): void
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

  constructor (t: Target, ev: ConnectionEvents, request = encodeH1Request(t)) {
    this.ev = ev
    this.request = request
    this.headOnly = t.method === 'HEAD'
    const onConnect = (): void => {
      this.socket.setTimeout(0)
      ev.onReady()
    }
    this.socket = t.secure
      ? tls.connect({ host: t.host, port: t.port, servername: t.tls.servername ?? (net.isIP(t.host) ? undefined : t.host), rejectUnauthorized: !t.tls.insecure, ca: t.tls.caPem, cert: t.tls.certPem, key: t.tls.keyPem, ALPNProtocols: ['http/1.1'] }, onConnect)
      : net.connect({ host: t.host, port: t.port }, onConnect)
    this.socket.setNoDelay(true)
    this.socket.setTimeout(t.connectTimeoutMs, () => this.fail('ETIMEDOUT'))
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
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
    this.ev.onResponse(this.status)
    return 'ECLOSED'
  }

  private onData (chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    while (buf.length > 0) {
      const used = this.parse(buf)
      if (used < 0) { this.fail('EPARSE'); return }
      if (used === 0) { this.pending = buf; return }
      buf = buf.subarray(used)
    }
  }

  /** Consume from `buf`; returns bytes used, 0 when more bytes are needed, -1 on a parse error. */
  private parse (buf: Buffer): number {
    switch (this.state) {
      case State.Head: {
        const end = buf.indexOf(CRLFCRLF)
        if (end < 0) return buf.length > 65536 ? -1 : 0
        // "HTTP/1.1 200 OK": the status is at bytes 9..11.
        if (buf[0] !== 0x48 || buf[5] !== 0x31) return -1
        const status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
        if (!(status >= 100 && status <= 999)) return -1
        this.status = status
        let length = -1
        let chunked = false
        this.closeAfter = buf[7] === 0x30 // HTTP/1.0
        let i = buf.indexOf(CRLF) + 2
        while (i < end) {
          const eol = buf.indexOf(CRLF, i)
          const colon = buf.indexOf(0x3a, i)
          if (colon > 0 && colon < eol) {
            const nameLen = colon - i
            const c = buf[i] | 0x20
            if (nameLen === 14 && c === 0x63 && buf.toString('latin1', i, colon).toLowerCase() === 'content-length') {
              length = Number.parseInt(buf.toString('latin1', colon + 1, eol).trim(), 10)
              if (!(length >= 0)) return -1
            } else if (nameLen === 17 && c === 0x74 && buf.toString('latin1', i, colon).toLowerCase() === 'transfer-encoding') {
              chunked = buf.toString('latin1', colon + 1, eol).toLowerCase().includes('chunked')
            } else if (nameLen === 10 && c === 0x63 && buf.toString('latin1', i, colon).toLowerCase() === 'connection') {
              const v = buf.toString('latin1', colon + 1, eol).toLowerCase()
              if (v.includes('close')) this.closeAfter = true
              else if (v.includes('keep-alive')) this.closeAfter = false
            }
          }
          i = eol + 2
        }
        if (status < 200) { // 1xx interim response: the final one follows
          return end + 4
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
        return end + 4
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
      this.ev.onResponse(this.status)
      this.ev.onClose('ECLOSED')
      return
    }
    this.ev.onResponse(this.status)
  }
}
