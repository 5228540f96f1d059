/**
 * The proxy's admin listener (node:http: not on the hot path).
 *
 *   GET /ready    200 `ready` once every listener is up, a snapshot is applied and (identity from a control
 *                 plane, mTLS needing one) a certificate is installed; else 503 MESH_ERR_NOT_READY
 *   GET /config   the applied snapshot as JSON: `{ version, snapshot }` (503 before the first one)
 *   GET /metrics  Prometheus text exposition
 *   GET /tap      live requests as NDJSON, one object per finished request; `?service=reviews`, `?direction=`,
 *                 `?limit=` (default 100 events, then the stream ends)
 *   GET /app-health  sidecars: 200 `healthy` when the app's readiness path answered 2xx/3xx at the last probe,
 *                 else 503 MESH_ERR_NOT_READY (how the runtime and kubelet see an app whose port is captured)
 *   GET /app-health/<port><path>  one GET of <path> on the app's <port> now, for a probe registered with
 *                 `--app-probe <port><path>` (kubelet probes that `meshwork inject` rewrote); others 404
 *
 * @example
 * const admin = new AdminServer({ host: '127.0.0.1', port: 15000 }, view); await admin.start()
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type MeshError, NotReadyError } from '../errors.ts'

export interface AdminView {
  ready (): boolean
  /** Why `ready()` is false (the 503 body), optional. */
  notReadyReason? (): string
  config (): { version: string, snapshot: unknown } | null
  metrics (): string
  /** Serves `/tap` (NDJSON stream of finished requests; `?service=`, `?direction=`, `?limit=`). */
  tap (req: IncomingMessage, res: ServerResponse): void
  /** The local app's last probe: true/false, null = not probed yet, undefined = this proxy has no app. */
  appHealth? (): boolean | null | undefined
  /** Probe `<port><path>` of the app now, when it is a registered probe; undefined = not registered. */
  appProbe? (target: string): Promise<boolean> | undefined
}

export class AdminServer {
  private server: Server | null = null
  constructor (private readonly addr: { host: string, port: number }, private readonly view: AdminView) {}

  start (): Promise<AddressInfo> {
    const server = createServer({ connectionsCheckingInterval: 2000 }, (req, res) => this.handle(req, res))
    server.keepAliveTimeout = 5000
    // Same bound as the data listeners' head timeout: a request (head and body) that trickles in for
    // longer is cut off (slowloris). Streaming responses such as /tap are not affected.
    server.headersTimeout = 10_000
    server.requestTimeout = 10_000
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.addr.port, this.addr.host, () => {
        server.removeListener('error', reject)
        resolve(server.address() as AddressInfo)
      })
    })
  }

  async stop (): Promise<void> {
    const s = this.server
    if (s === null) return
    this.server = null
    await new Promise<void>(resolve => { s.close(() => resolve()); s.closeAllConnections() })
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin')
    if (req.method !== 'GET' && req.method !== 'HEAD') { this.send(res, 405, 'text/plain', 'method not allowed\n'); return }
    switch (url.pathname) {
      case '/ready':
        if (this.view.ready()) { this.send(res, 200, 'text/plain', 'ready\n'); return }
        this.error(res, new NotReadyError(this.view.notReadyReason?.() || 'no snapshot applied yet or listeners not up'))
        return
      case '/config': {
        const c = this.view.config()
        if (c === null) { this.error(res, new NotReadyError('no snapshot applied yet')); return }
        this.send(res, 200, 'application/json', JSON.stringify(c, null, 2) + '\n')
        return
      }
      case '/metrics':
        this.send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', this.view.metrics())
        return
      case '/tap':
        this.view.tap(req, res)
        return
      case '/app-health': {
        const h = this.view.appHealth?.()
        if (h === undefined) { this.send(res, 404, 'text/plain', 'no app: this proxy is not a sidecar with --app\n'); return }
        if (h === true) { this.send(res, 200, 'text/plain', 'healthy\n'); return }
        this.error(res, new NotReadyError(h === null ? 'the app has not been probed yet' : 'the app\'s readiness path does not answer 2xx/3xx'))
        return
      }
      case '/':
        this.send(res, 200, 'text/plain', 'meshwork proxy admin: /ready /config /metrics /tap[?service=] /app-health\n')
        return
      default: {
        const probed = url.pathname.startsWith('/app-health/') ? this.view.appProbe?.(url.pathname.slice('/app-health/'.length) + url.search) : undefined
        if (probed !== undefined) {
          probed.then(ok => {
            if (ok) this.send(res, 200, 'text/plain', 'healthy\n')
            else this.error(res, new NotReadyError(`the app's ${url.pathname.slice('/app-health/'.length)}${url.search} does not answer 2xx/3xx`))
          }, () => this.error(res, new NotReadyError('the app probe failed')))
          return
        }
        this.send(res, 404, 'text/plain', 'not found\n')
        return
      }
    }
  }

  private send (res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  private error (res: ServerResponse, err: MeshError): void {
    const body = `${err.code}: ${err.message}\n`
    res.writeHead(err.status, { 'content-type': 'text/plain', 'x-meshwork-error': err.code, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}
