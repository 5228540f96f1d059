import http2 from 'node:http2'
import net from 'node:net'
import type { ConnectionEvents, LoadConnection } from './h1-client.ts'
import type { Target } from './target.ts'

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_SCHEME, HTTP2_HEADER_STATUS } = http2.constants

/**
 * One HTTP/2 session (h2 over TLS with ALPN, or h2c prior knowledge) carrying one stream at a time,
 * so that "connections" means the same thing as for HTTP/1.1.
 */
export class H2Connection implements LoadConnection {
  private readonly session: http2.ClientHttp2Session
  private readonly ev: ConnectionEvents
  private readonly headers: http2.OutgoingHttpHeaders
  private readonly body: Buffer | null
  private closed = false
  private readonly onStreamResponse: (h: http2.IncomingHttpHeaders) => void
  private status = 0

  constructor (t: Target, ev: ConnectionEvents) {
    this.ev = ev
    this.body = t.body
    const headers: http2.OutgoingHttpHeaders = {
      [HTTP2_HEADER_METHOD]: t.method,
      [HTTP2_HEADER_PATH]: t.path,
      [HTTP2_HEADER_SCHEME]: t.secure ? 'https' : 'http',
      [HTTP2_HEADER_AUTHORITY]: t.authority
    }
    for (const [k, v] of Object.entries(t.headers)) {
      const lk = k.toLowerCase()
      if (lk === 'host') headers[HTTP2_HEADER_AUTHORITY] = v
      else if (lk !== 'connection' && lk !== 'transfer-encoding' && lk !== 'keep-alive') headers[lk] = v
    }
    if (t.body !== null) headers['content-length'] = String(t.body.length)
    this.headers = headers
    const authority = `${t.secure ? 'https' : 'http'}://${net.isIPv6(t.host) ? `[${t.host}]` : t.host}:${t.port}`
    this.session = http2.connect(authority, t.secure
      ? { rejectUnauthorized: !t.tls.insecure, ca: t.tls.caPem, cert: t.tls.certPem, key: t.tls.keyPem, servername: t.tls.servername ?? (net.isIP(t.host) ? undefined : t.host) }
      : {})
    const timer = setTimeout(() => this.fail('ETIMEDOUT'), t.connectTimeoutMs)
    this.session.once('connect', () => { clearTimeout(timer); ev.onReady() })
    this.session.on('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); this.fail(err.code ?? 'ESOCKET') })
    this.session.on('close', () => { clearTimeout(timer); this.fail('ECLOSED') })
    this.session.on('goaway', () => this.fail('EGOAWAY'))
    this.onStreamResponse = (h) => { this.status = Number(h[HTTP2_HEADER_STATUS]) }
  }

  get isOpen (): boolean {
    return !this.closed
  }

  send (): void {
    const stream = this.session.request(this.headers, { endStream: this.body === null })
    stream.on('response', this.onStreamResponse)
    stream.on('data', noop)
    stream.on('end', () => { if (!this.closed) this.ev.onResponse(this.status) })
    stream.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? 'ESTREAM'))
    if (this.body !== null) stream.end(this.body)
  }

  destroy (): void {
    this.closed = true
    this.session.destroy()
  }

  private fail (code: string): void {
    if (this.closed) return
    this.closed = true
    this.session.destroy()
    this.ev.onClose(code)
  }
}

function noop (): void {}
