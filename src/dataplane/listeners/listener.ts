/**
 * A TCP listener of the proxy (outbound, inbound or gateway). It looks at the first bytes of each connection
 * (once per connection, never per request):
 *
 *   0x16 (TLS handshake) ─▶ inbound: mTLS (`tls`) · gateway: TLS termination of HTTPS listeners (`terminateTls`)
 *        └─ after the handshake: ALPN `h2` ─▶ onH2, else HTTP/1.1
 *   "PRI * HTTP/2.0" (h2 prior knowledge, h2c) ─▶ onH2
 *   anything else ─▶ HTTP/1.1 ({@link DownstreamConnection})
 *
 * so the inbound port serves STRICT (TLS only, enforced per request by the pipeline), PERMISSIVE (both) and
 * DISABLE (plain) without re-binding when the MeshConfig changes, and the gateway's one local port serves its
 * HTTP and HTTPS listeners. A TLS peer's verified SPIFFE ID becomes the connection's `peerIdentity`.
 * A CONNECT tunnel the pipeline accepted (filters/connect.ts) comes back through {@link acceptTunnel} and is
 * sniffed the same way (h2 or HTTP/1.1 inside), its requests defaulting to the CONNECT target's authority.
 *
 * @example
 * const l = new Listener({ host: '127.0.0.1', port: 15001, handler: outboundHandler(ctx) })
 * const addr = await l.start(); …; await l.stop()
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls'
import { now } from '../resilience/clock.ts'
import { peerSpiffeId } from '../tls/spiffe.ts'
import type { CertStore } from '../tls/cert-store.ts'
import { DownstreamConnection, type RequestHandler } from './downstream-connection.ts'
import type { TlsTermination } from './gateway-tls.ts'

export interface ListenerOptions {
  host: string
  port: number
  handler: RequestHandler
  /** Accept mTLS (inbound): the current identity, or null while the proxy has none. */
  tls?: () => CertStore | null
  idleTimeoutMs?: number
  /** Terminate TLS without client certificates (gateway HTTPS listeners): the current termination, or null. */
  terminateTls?: () => TlsTermination | null
  /** h2 connections (ALPN `h2` or the cleartext preface) are handed here when set. */
  onH2?: (socket: Socket, peerIdentity: string | undefined, sniffed?: Buffer, defaultAuthority?: string) => void
  /** Serve CONNECT tunnels accepted by the pipeline (outbound listener). */
  tunnels?: boolean
}

const TLS_HANDSHAKE = 0x16
const H2_PREFACE_START = 0x50 // 'P' of "PRI * HTTP/2.0"
const ALPN = ['h2', 'http/1.1']
const H1_ONLY = ['http/1.1']

export class Listener {
  readonly options: ListenerOptions
  readonly connections = new Set<DownstreamConnection>()
  private server: Server | null = null
  private readonly rawSockets = new Set<Socket>()
  private tlsServer: TlsServer | null = null
  private sweeper: NodeJS.Timeout | null = null
  private tlsStore: CertStore | null = null
  private termServer: TlsServer | null = null
  private termOf: TlsTermination | null = null
  private readonly dsOptions: { idleTimeoutMs: number }
  private readonly onDrop = (ds: DownstreamConnection): void => { this.connections.delete(ds) }

  constructor (options: ListenerOptions) {
    this.options = options
    this.dsOptions = { idleTimeoutMs: options.idleTimeoutMs ?? 120_000 }
  }

  get address (): AddressInfo | null {
    return this.server !== null ? this.server.address() as AddressInfo : null
  }

  start (): Promise<AddressInfo> {
    const server = createServer({ noDelay: true }, s => this.onConnection(s))
    this.server = server
    const every = Math.max(250, Math.min(5000, this.dsOptions.idleTimeoutMs / 4))
    this.sweeper = setInterval(() => {
      const t = now()
      for (const ds of this.connections) ds.sweep(t)
    }, every)
    this.sweeper.unref()
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port, this.options.host, () => {
        server.removeListener('error', reject)
        resolve(server.address() as AddressInfo)
      })
    })
  }

  /** Stop accepting; close idle keep-alive connections now and busy ones when their response ends (or after `graceMs`). */
  async stop (graceMs = 2000): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    if (this.sweeper !== null) { clearInterval(this.sweeper); this.sweeper = null }
    const closed = new Promise<void>(resolve => server.close(() => resolve()))
    for (const s of this.rawSockets) s.destroy()
    const deadline = Date.now() + graceMs
    while (this.connections.size > 0 && Date.now() < deadline) {
      for (const ds of this.connections) {
        ds.closeAfterResponse = true
        if (ds.idle) ds.abort()
      }
      if (this.connections.size === 0) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    for (const ds of this.connections) ds.abort()
    if (this.tlsServer !== null) { this.tlsStore?.detach(this.tlsServer); this.tlsServer = null }
    await closed
  }

  private onConnection (socket: Socket): void {
    const tls = this.options.tls
    if (tls === undefined && this.options.onH2 === undefined && this.options.terminateTls === undefined) {
      this.connections.add(this.http1(socket, undefined, ''))
      return
    }
    this.sniff(socket, null, undefined, '')
  }

  /**
   * A CONNECT tunnel's connection (the client already has its 200): serve what it carries as a new client
   * connection, h2 or HTTP/1.1 (TLS inside a tunnel is not terminated: closed), requests defaulting to `authority`.
   */
  acceptTunnel (socket: Socket, early: Buffer | null, authority: string, peerIdentity: string | undefined): void {
    if (this.server === null) { socket.destroy(); return }
    this.sniff(socket, early, peerIdentity, authority)
  }

  /** Sniff the first bytes (once per connection): TLS handshake, h2 preface, or HTTP/1.1. */
  private sniff (socket: Socket, early: Buffer | null, peerIdentity: string | undefined, authority: string): void {
    const route = (chunk: Buffer): void => {
      if (chunk[0] === H2_PREFACE_START && this.options.onH2 !== undefined && chunk.toString('latin1', 0, 3) === 'PRI') {
        this.options.onH2(socket, peerIdentity, chunk, authority)
        return
      }
      socket.unshift(chunk)
      if (chunk[0] === TLS_HANDSHAKE) {
        if (authority !== '') { socket.destroy(); return } // TLS inside a tunnel: the proxy cannot route it
        const tls = this.options.tls
        if (tls !== undefined) { this.startTls(socket, tls()); return }
        if (this.options.terminateTls !== undefined) { this.startTermination(socket, this.options.terminateTls()); return }
      }
      this.startHttp1(socket, peerIdentity, authority)
    }
    if (early !== null && early.length > 0) { socket.pause(); route(early); return }
    this.rawSockets.add(socket)
    socket.on('error', noop)
    socket.once('close', () => this.rawSockets.delete(socket))
    socket.once('data', (chunk: Buffer) => {
      this.rawSockets.delete(socket)
      socket.pause()
      route(chunk)
    })
    socket.resume()
  }

  /** TLS for a gateway's HTTPS listeners (no client certificate). */
  private startTermination (socket: Socket, term: TlsTermination | null): void {
    if (term === null) { socket.destroy(); return }
    if (this.termServer === null || this.termOf !== term) {
      const server = createTlsServer(term.options)
      server.on('secureConnection', (t: TLSSocket) => {
        t.on('error', noop)
        if (t.alpnProtocol === 'h2' && this.options.onH2 !== undefined) this.options.onH2(t, undefined)
        else this.startHttp1(t, undefined, '')
      })
      server.on('tlsClientError', noop)
      this.termServer = server
      this.termOf = term
    }
    this.termServer.emit('connection', socket)
  }

  private startTls (socket: Socket, store: CertStore | null): void {
    if (store === null) { socket.destroy(); return }
    // A never-listening tls.Server does the handshake (and sets `authorized` from the client certificate
    // check); the store keeps it on the current identity across rotations.
    if (this.tlsServer === null || this.tlsStore !== store) {
      const server = createTlsServer({
        ...store.serverOptions({ requireClientCert: false }),
        ALPNProtocols: this.options.onH2 !== undefined ? ALPN : H1_ONLY
      })
      store.attach(server)
      server.on('secureConnection', (t: TLSSocket) => this.onSecure(t))
      server.on('tlsClientError', noop)
      if (this.tlsServer !== null) this.tlsStore?.detach(this.tlsServer)
      this.tlsServer = server
      this.tlsStore = store
    }
    this.tlsServer.emit('connection', socket)
  }

  private onSecure (t: TLSSocket): void {
    // Verify client certificates, but let the pipeline answer 403 MESH_ERR_PEER_IDENTITY (readable) when a
    // STRICT listener gets a caller without a valid mesh certificate.
    const id = t.authorized ? peerSpiffeId(t) : undefined
    t.on('error', noop)
    if (t.alpnProtocol === 'h2' && this.options.onH2 !== undefined) this.options.onH2(t, id)
    else this.startHttp1(t, id, '')
  }

  private startHttp1 (socket: Socket, peerIdentity: string | undefined, authority: string): void {
    this.connections.add(this.http1(socket, peerIdentity, authority))
    socket.resume()
  }

  private http1 (socket: Socket, peerIdentity: string | undefined, authority: string): DownstreamConnection {
    const ds = new DownstreamConnection(socket, this.options.handler, this.dsOptions, this.onDrop)
    ds.peerIdentity = peerIdentity
    ds.defaultAuthority = authority
    if (this.options.tunnels === true) ds.tunnelAcceptor = this.acceptTunnelBound
    return ds
  }

  private readonly acceptTunnelBound = this.acceptTunnel.bind(this)
}

function noop (): void {}
