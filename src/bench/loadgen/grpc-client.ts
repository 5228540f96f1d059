/**
 * gRPC unary calls for the load generator, on Meshwork's own HTTP/2 client role (src/dataplane/http2/):
 * one connection (h2c prior knowledge for http:, TLS with ALPN h2 for https:) carrying one call at a time,
 * so "connections" means the same as for HTTP/1.1 and h2. Each call is `POST <path>` with
 * `content-type: application/grpc`, `te: trailers` and one length-prefixed message of `messageSize` bytes;
 * the call's outcome is its `grpc-status` (from the trailers, or the head of a trailers-only response; an
 * HTTP status without one maps to a gRPC code as gRPC clients do).
 *
 *   send() ──HEADERS + DATA(END_STREAM)──▶ server ──HEADERS, DATA…, trailers(grpc-status)──▶ onResponse(code)
 *
 * @example
 * const c = new GrpcConnection(target, 100, { onReady, onResponse: code => …, onClose })
 */
import net from 'node:net'
import tls from 'node:tls'
import { grpcStatusForHttpStatus } from '../../dataplane/grpc/status.ts'
import { H2ClientConnection, type H2Stream, type H2StreamHandler } from '../../dataplane/http2/index.ts'
import type { MeshError } from '../../errors.ts'
import type { ConnectionEvents, LoadConnection } from './h1-client.ts'
import type { Target } from './target.ts'

/** One length-prefixed gRPC message (not compressed) of `size` bytes. */
export function grpcMessage (size: number): Buffer {
  const out = Buffer.alloc(5 + size, 0x61)
  out[0] = 0
  out.writeUInt32BE(size, 1)
  return out
}

export class GrpcConnection implements LoadConnection {
  private readonly conn: H2ClientConnection
  private readonly ev: ConnectionEvents
  private readonly head: { method: string, scheme: string, authority: string, path: string, headers: string[] }
  private readonly message: Buffer
  private readonly handler: H2StreamHandler
  private closed = false
  private headStatus = -1
  private timer: NodeJS.Timeout | null

  constructor (t: Target, messageSize: number, ev: ConnectionEvents) {
    this.ev = ev
    this.message = grpcMessage(messageSize)
    const headers = ['content-type', 'application/grpc', 'te', 'trailers', 'user-agent', 'meshwork-bench']
    let authority = t.authority
    for (const [k, v] of Object.entries(t.headers)) {
      const lk = k.toLowerCase()
      if (lk === 'host') authority = v
      else if (lk !== 'connection' && lk !== 'transfer-encoding' && lk !== 'keep-alive' && lk !== 'content-type' && lk !== 'te') headers.push(lk, v)
    }
    this.head = { method: 'POST', scheme: t.secure ? 'https' : 'http', authority, path: t.path, headers }
    // Perf: one handler object for every call of the connection (one call in flight at a time).
    this.handler = {
      onResponse: (_s: H2Stream, status: number, h: string[], endStream: boolean) => {
        this.headStatus = endStream ? statusOf(h, status) : -1
        if (status !== 200 && !endStream) this.headStatus = grpcStatusForHttpStatus(status)
      },
      onData: (s: H2Stream, d: Buffer) => s.consumed(d.length),
      onEnd: (_s: H2Stream, trailers: string[] | null) => {
        if (this.closed) return
        const code = trailers !== null ? statusOf(trailers, 200) : this.headStatus
        this.ev.onResponse(code)
      },
      onReset: (_s: H2Stream, err: MeshError) => this.fail(err.code === 'MESH_ERR_H2_REFUSED_STREAM' ? 'EREFUSED' : 'ESTREAM')
    }
    const conn = this.conn = new H2ClientConnection({
      onClose: (_c, err) => this.fail(err === null ? 'ECLOSED' : 'ESESSION'),
      onGoaway: () => this.fail('EGOAWAY')
    })
    const socket = t.secure
      ? tls.connect({
        host: t.host,
        port: t.port,
        ALPNProtocols: ['h2'],
        rejectUnauthorized: !t.tls.insecure,
        ca: t.tls.caPem,
        cert: t.tls.certPem,
        key: t.tls.keyPem,
        servername: t.tls.servername ?? (net.isIP(t.host) ? undefined : t.host),
        onread: conn.onread
      } as tls.ConnectionOptions)
      : net.connect({ host: t.host, port: t.port, onread: conn.onread } as net.NetConnectOpts)
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? 'ESOCKET'))
    this.timer = setTimeout(() => this.fail('ETIMEDOUT'), t.connectTimeoutMs)
    socket.once(t.secure ? 'secureConnect' : 'connect', () => {
      if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
      if (t.secure && (socket as tls.TLSSocket).alpnProtocol !== 'h2') { this.fail('EALPN'); return }
      if (!this.closed) ev.onReady()
    })
    conn.attach(socket)
  }

  get isOpen (): boolean {
    return !this.closed && this.conn.availableStreams > 0
  }

  send (): void {
    this.headStatus = -1
    const s = this.conn.request(this.head, false, this.handler)
    s.write(this.message, true)
  }

  destroy (): void {
    this.closed = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.conn.destroy()
  }

  private fail (code: string): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    this.conn.destroy()
    this.ev.onClose(code)
  }
}

/** The grpc-status of a field list; a list without one maps from the HTTP status. */
function statusOf (fields: string[], httpStatus: number): number {
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'grpc-status') {
      const n = Number(fields[i + 1])
      return Number.isInteger(n) && n >= 0 ? n : 2 // UNKNOWN
    }
  }
  return httpStatus === 200 ? 2 /* UNKNOWN: no grpc-status at all */ : grpcStatusForHttpStatus(httpStatus)
}
