import { EventEmitter } from 'node:events'
import { request, type ClientRequest } from 'node:http'
import type { TlsMaterial } from './tls/cert-store.ts'
import { IdentityClient } from './identity-client.ts'
import { AppProbe } from './app-probe.ts'
import { ControlPlaneHttp } from './control-plane-http.ts'

/** What the config client drives: the `Proxy` (src/dataplane/proxy.ts) or anything with the same two methods. */
export interface ConfigTarget {
  applySnapshot (raw: unknown): { ok: true, version: string } | { ok: false, error: { code: string, message: string } }
  setTlsMaterial? (m: TlsMaterial): void
}

export interface ConfigClientOptions {
  /** Control plane base URL, e.g. http://127.0.0.1:15010. */
  url: string
  id: string
  role?: 'sidecar' | 'ingress' | 'egress'
  service?: string
  version?: string
  namespace?: string
  /** The sidecar's inbound listener (what callers dial). */
  inbound?: { host: string, port: number }
  /** The local app; probed for health (readiness path from the snapshot, or `readinessPath`). */
  app?: { host: string, port: number }
  gateway?: { name: string }
  /** Ask the CA for a certificate (default true when the target has setTlsMaterial). */
  identity?: boolean
  readinessPath?: string
  probeIntervalMs?: number
  /** Reconnect backoff: exponential from initialMs to maxMs, with jitter. */
  backoff?: { initialMs?: number, maxMs?: number }
  /** No byte (pings included) for this long = dead stream, reconnect. */
  idleTimeoutMs?: number
  log?: (line: string) => void
}

export interface ConfigClientState {
  connected: boolean
  streamId: string | null
  /** Version of the snapshot the target serves. */
  version: string | null
  lastNack: { version: string, code: string, message: string } | null
  reconnects: number
}

/**
 * The proxy's side of the control-plane stream (protocol: docs/control-plane.md).
 *
 *   ┌────────────┐ POST /v1/stream (hello) ┌──────────────┐
 *   │ disconnected├────────────────────────►│  connected    │── snapshot → applySnapshot → POST /v1/ack
 *   └─────▲──────┘                          │               │── trust    → setTlsMaterial (+ re-issue)
 *         │ backoff: min(max, init·2ⁿ)·U(½,1)│               │── ping     (idle timer reset)
 *         └─────────── error / EOF / idle ───┴───────────────┘
 *
 * While disconnected the target keeps serving its last good snapshot and certificate.
 * Events: `connected`, `disconnected` (reason), `snapshot` (version), `nack` (version, error),
 * `certificate` (notAfter), `trust` (version), `health` (healthy).
 *
 * @example
 * const client = startConfigClient(proxy, { url: 'http://127.0.0.1:15010', id: 'reviews-v2-0', service: 'reviews', version: 'v2',
 *   inbound: { host: '127.0.0.1', port: 15006 }, app: { host: '127.0.0.1', port: 9081 } })
 * await client.ready
 */
export class ConfigClient extends EventEmitter {
  readonly state: ConfigClientState = { connected: false, streamId: null, version: null, lastNack: null, reconnects: 0 }
  /** Resolves once a snapshot is applied (and, with identity, a certificate is installed). */
  readonly ready: Promise<void>
  private readonly target: ConfigTarget
  private readonly opts: ConfigClientOptions
  private readonly identity: IdentityClient | null
  private readonly probe: AppProbe | null
  private readonly http: ControlPlaneHttp
  private req: ClientRequest | null = null
  private idleTimer: NodeJS.Timeout | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private attempt = 0
  private closed = false
  private resolveReady!: () => void
  private haveSnapshot = false

  constructor (target: ConfigTarget, opts: ConfigClientOptions) {
    super()
    this.target = target
    this.opts = opts
    this.ready = new Promise(resolve => { this.resolveReady = resolve })
    const wantIdentity = opts.identity ?? typeof target.setTlsMaterial === 'function'
    this.http = new ControlPlaneHttp(opts.url)
    this.identity = wantIdentity ? new IdentityClient(target, { http: this.http, log: opts.log }) : null
    this.identity?.on('certificate', (notAfter: string) => { this.emit('certificate', notAfter); this.checkReady() })
    this.probe = opts.app && (opts.role ?? 'sidecar') === 'sidecar'
      ? new AppProbe(opts.app, { path: opts.readinessPath, intervalMs: opts.probeIntervalMs ?? 250 })
      : null
    this.probe?.on('change', (healthy: boolean) => { this.emit('health', healthy); void this.post('/v1/health', { healthy }) })
    this.connect()
  }

  /** The local app's health as last probed: true/false, or null before the first probe or without an app. */
  get appHealthy (): boolean | null {
    return this.probe?.known === true ? this.probe.healthy : null
  }

  async close (): Promise<void> {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.probe?.close()
    this.identity?.close()
    this.req?.destroy()
    this.req = null
    this.http.close()
  }

  private connect (): void {
    if (this.closed) return
    const o = this.opts
    const hello = {
      id: o.id,
      role: o.role ?? 'sidecar',
      service: o.service,
      version: o.version,
      namespace: o.namespace ?? 'default',
      inbound: o.inbound,
      app: o.app,
      gateway: o.gateway,
      lastVersion: this.state.version ?? undefined
    }
    const body = JSON.stringify(hello)
    const url = new URL('/v1/stream', o.url)
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } })
    this.req = req
    let buffered = ''
    let failed = false
    const fail = (reason: string): void => {
      if (failed || this.req !== req) return
      failed = true
      this.req = null
      req.destroy()
      this.onDisconnect(reason)
    }
    req.on('error', err => fail((err as NodeJS.ErrnoException).code ?? err.message))
    req.on('response', res => {
      if (res.statusCode !== 200) {
        // Say why (e.g. an invalid hello) in the log line of every retry.
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { if (body.length < 500) body += c })
        res.on('end', () => fail(`HTTP ${res.statusCode} ${res.headers['x-meshwork-error'] ?? ''} ${body.slice(0, 300)}`.trim()))
        res.on('error', () => fail(`HTTP ${res.statusCode}`))
        return
      }
      res.setEncoding('utf8')
      this.touch(() => fail('idle'))
      res.on('data', (chunk: string) => {
        this.touch(() => fail('idle'))
        buffered += chunk
        let nl: number
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl)
          buffered = buffered.slice(nl + 1)
          if (line.length > 0) this.onMessage(line)
        }
      })
      res.on('end', () => fail('stream ended'))
      res.on('error', err => fail(err.message))
      res.on('close', () => fail('stream closed'))
    })
    req.end(body)
  }

  private onMessage (line: string): void {
    let msg: { type: string, [k: string]: unknown }
    try { msg = JSON.parse(line) } catch { return }
    switch (msg.type) {
      case 'hello': {
        this.attempt = 0
        this.state.connected = true
        this.state.streamId = msg.streamId as string
        this.emit('connected', msg.streamId)
        this.identity?.attach(this.state.streamId, msg.identity as string, msg.trustBundlePem as string, msg.trustVersion as string, msg.issuer as number | undefined)
        void this.post('/v1/ack', { type: 'trust', version: msg.trustVersion, ok: true })
        if (this.probe) {
          this.probe.start()
          // Tell the new stream where the app stands (the control plane may have restarted).
          if (this.probe.known) void this.post('/v1/health', { healthy: this.probe.healthy })
        }
        break
      }
      case 'snapshot': this.onSnapshot(msg.version as string, msg.snapshot); break
      case 'trust': {
        this.identity?.updateTrust(msg.trustBundlePem as string, msg.version as string, msg.reissue === true)
        this.emit('trust', msg.version)
        void this.post('/v1/ack', { type: 'trust', version: msg.version, ok: true })
        break
      }
    }
  }

  private onSnapshot (version: string, snapshot: unknown): void {
    let result: ReturnType<ConfigTarget['applySnapshot']>
    try {
      result = this.target.applySnapshot(snapshot)
    } catch (err) {
      result = { ok: false, error: { code: (err as { code?: string }).code ?? 'MESH_ERR', message: (err as Error).message } }
    }
    if (result.ok) {
      this.state.version = version
      this.state.lastNack = null
      this.haveSnapshot = true
      const path = (snapshot as { localApp?: { readinessPath?: string } }).localApp?.readinessPath
      if (path && this.probe && this.opts.readinessPath === undefined) this.probe.setPath(path)
      void this.post('/v1/ack', { version, ok: true })
      this.emit('snapshot', version)
      this.checkReady()
    } else {
      const error = { code: result.error.code, message: result.error.message }
      this.state.lastNack = { version, ...error }
      this.opts.log?.(`config: NACK version ${version}: ${error.code}: ${error.message}`)
      void this.post('/v1/ack', { version, ok: false, error })
      this.emit('nack', version, error)
    }
  }

  private checkReady (): void {
    if (this.haveSnapshot && (this.identity === null || this.identity.hasCertificate)) this.resolveReady()
  }

  private onDisconnect (reason: string): void {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null }
    const was = this.state.connected
    this.state.connected = false
    this.state.streamId = null
    this.identity?.detach()
    if (was) this.emit('disconnected', reason)
    if (this.closed) return
    this.state.reconnects++
    const init = this.opts.backoff?.initialMs ?? 100
    const max = this.opts.backoff?.maxMs ?? 5000
    const base = Math.min(max, init * 2 ** Math.min(this.attempt, 16))
    this.attempt++
    const delay = base * (0.5 + Math.random() * 0.5) // jitter: reconnects of many proxies spread out
    this.opts.log?.(`config: stream lost (${reason}); reconnecting in ${Math.round(delay)} ms`)
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect() }, delay)
  }

  private touch (onIdle: () => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(onIdle, this.opts.idleTimeoutMs ?? 15_000)
  }

  /** Fire-and-forget message on the current stream; a lost one is repaired by the next reconnect. */
  private async post (path: string, body: Record<string, unknown>): Promise<void> {
    const streamId = this.state.streamId
    if (streamId === null) return
    try {
      await this.http.post(path, { streamId, ...body })
    } catch { /* control plane gone: the stream's reconnect resyncs */ }
  }
}

/** Connect a proxy to its control plane. @see ConfigClient */
export function startConfigClient (target: ConfigTarget, opts: ConfigClientOptions): ConfigClient {
  return new ConfigClient(target, opts)
}
