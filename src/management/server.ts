import { existsSync, readFileSync } from 'node:fs'
import { extname, join, normalize, resolve } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { MeshError } from '../errors.ts'
import { registerConfigRoutes } from './api/config.ts'
import { registerLearnRoutes } from './api/learn.ts'
import { registerMetricsRoutes } from './api/metrics.ts'
import { benchmarkRoutes } from './api/benchmarks.ts'
import { registerObservabilityRoutes } from './api/observability.ts'
import { EventHub } from './events.ts'
import { installRequestGuard } from './security/request-guard.ts'
import { SessionStore } from './security/session-store.ts'
import type { MeshBackend } from './mesh-backend.ts'
import { MetricsCollector, type ScrapeTarget } from './metrics-collector.ts'
import { TraceStore } from './trace-store.ts'

export interface ManagementOptions {
  host?: string
  port?: number
  backend: MeshBackend
  /** Proxies to scrape for the topology; `meshwork up` passes every proxy's admin `/metrics`. */
  scrapeTargets: () => ScrapeTarget[]
  scrapeIntervalMs?: number
  /** Folder of the built UI (index.html + assets). */
  uiDir?: string
  dataDir?: string
  /** Serve the benchmark API (stores results in `<dataDir>/bench.db`). Default true. */
  benchmarks?: boolean
  /** A Prometheus that scrapes the proxies (e.g. http://127.0.0.1:9090): the charts query it; without one they use the server's own scrapes. */
  prometheusUrl?: string
  /** Extra route plug-ins (benchmarks, …), registered under the same server. */
  plugins?: Array<(app: FastifyInstance, ctx: ManagementContext) => void | Promise<void>>
  /**
   * The launch token printed in the UI URL (`?token=`), exchanged for a session cookie; scripts send it
   * as `Authorization: Bearer`. Default: random at every start (`meshwork server` reads $MESHWORK_UI_TOKEN).
   */
  token?: string
  /** Host names accepted in the Host header besides 127.0.0.1, localhost and [::1] (DNS-rebinding guard). */
  allowedHosts?: string[]
}

export interface ManagementContext {
  backend: MeshBackend
  events: EventHub
  metrics: MetricsCollector
  traces: TraceStore
  scrapeTargets: () => ScrapeTarget[]
  dataDir: string
}

export interface ManagementServer {
  /** Base URL, e.g. http://127.0.0.1:8088 (every request under it needs a session or the token). */
  url: string
  /** The URL to open in a browser: `url` + `/?token=…` (logs the browser in, then drops the token). */
  openUrl: string
  /** The launch token (for `Authorization: Bearer` from scripts and tests). */
  token: string
  /** Requests refused by the access checks so far, by MESH_ERR code. */
  refusals (): Record<string, number>
  app: FastifyInstance
  ctx: ManagementContext
  close (): Promise<void>
}

/**
 * `meshwork server`: the management API under /api/v1, live events (SSE), the OTLP trace receiver and
 * the web UI on one port.
 *
 * @example
 * const s = await startManagementServer({ backend, scrapeTargets: () => [] }); console.log(s.url)
 */
export async function startManagementServer (opts: ManagementOptions): Promise<ManagementServer> {
  // Strict body validation: no type coercion, unknown fields rejected (not silently removed).
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024, ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } } })
  const events = new EventHub()
  const metrics = new MetricsCollector({ targets: opts.scrapeTargets, intervalMs: opts.scrapeIntervalMs ?? 2000 })
  const traces = new TraceStore()
  const ctx: ManagementContext = { backend: opts.backend, events, metrics, traces, scrapeTargets: opts.scrapeTargets, dataDir: opts.dataDir ?? '.meshwork' }
  const sessions = new SessionStore({ token: opts.token })
  let listenPort = 0
  const host = opts.host ?? '127.0.0.1'
  const extraHosts = [...(opts.allowedHosts ?? []), ...(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host) ? [] : [host.includes(':') ? `[${host}]` : host])]
  const refusals = installRequestGuard(app, { store: sessions, port: () => listenPort, allowedHosts: extraHosts })

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof MeshError) {
      const problems = (err as { problems?: unknown }).problems
      return reply.status(err.status).send({ code: err.code, message: err.message, problems })
    }
    const e = err as { validation?: unknown, statusCode?: number, message: string, code?: string }
    if (e.validation !== undefined) return reply.status(400).send({ code: 'MESH_ERR_API_BAD_REQUEST', message: e.message })
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 ? e.statusCode : 500
    return reply.status(status).send({ code: status < 500 ? 'MESH_ERR_API_BAD_REQUEST' : 'MESH_ERR', message: e.message })
  })
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/')) return reply.status(404).send({ code: 'MESH_ERR_API_NOT_FOUND', message: `no API route ${req.method} ${req.url.split('?')[0]}` })
    return serveUi(opts.uiDir, '/index.html', reply)
  })

  app.get('/api/v1/status', async () => {
    const cp = await opts.backend.status()
    return {
      controlPlane: { url: opts.backend.url, ...cp },
      scrape: { targets: opts.scrapeTargets().length, lastScrapeAt: metrics.lastScrapeAt, intervalMs: opts.scrapeIntervalMs ?? 2000, errors: metrics.lastErrors },
      traces: { received: traces.received },
      // requests the access checks refused (no session, foreign Host/Origin, CSRF…), by MESH_ERR code
      access: { refused: Object.fromEntries(refusals), sessions: sessions.size },
      // where bench.db lives: the UI prints `meshwork bench show <id> --data-dir <this>`
      dataDir: resolve(ctx.dataDir),
      time: Date.now()
    }
  })
  app.get('/api/v1/events', (req, reply) => {
    reply.hijack()
    events.attach(reply.raw)
    void req
  })

  await registerConfigRoutes(app, ctx)
  await registerObservabilityRoutes(app, ctx)
  await registerLearnRoutes(app, ctx)
  await registerMetricsRoutes(app, ctx, opts.prometheusUrl)
  if (opts.benchmarks !== false) benchmarkRoutes(app, ctx)
  for (const plugin of opts.plugins ?? []) await plugin(app, ctx)

  app.get('/*', (req, reply) => {
    if (req.url.startsWith('/api/')) return reply.status(404).send({ code: 'MESH_ERR_API_NOT_FOUND', message: `no API route GET ${req.url.split('?')[0]}` })
    return serveUi(opts.uiDir, req.url.split('?')[0], reply)
  })

  // Live connection state of the control plane, so the UI can show it and recover when it returns.
  let lastConnected: boolean | null = null
  const poll = setInterval(() => {
    opts.backend.status().then(s => {
      if (s.connected !== lastConnected) {
        lastConnected = s.connected
        events.publish('control-plane', { connected: s.connected, error: s.error })
      }
    }, () => {})
  }, 1000)
  poll.unref()
  metrics.onUpdate(() => events.publish('metrics', { t: metrics.lastScrapeAt }))
  metrics.start()

  const address = await app.listen({ host, port: opts.port ?? 0 })
  listenPort = (app.server.address() as import('node:net').AddressInfo).port
  const url = address.replace('[::1]', '127.0.0.1')
  return {
    url,
    openUrl: `${url}/?token=${sessions.token}`,
    token: sessions.token,
    refusals: () => Object.fromEntries(refusals),
    app,
    ctx,
    async close () {
      clearInterval(poll)
      metrics.stop()
      events.closeAll()
      await app.close()
    }
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png'
}

function serveUi (uiDir: string | undefined, urlPath: string, reply: import('fastify').FastifyReply): unknown {
  const dir = resolve(uiDir ?? join(process.cwd(), 'ui', 'dist'))
  let file = normalize(join(dir, decodeURIComponent(urlPath)))
  if (!file.startsWith(dir)) return reply.status(404).send('not found')
  if (!existsSync(file) || urlPath === '/' || extname(file) === '') file = join(dir, 'index.html')
  if (!existsSync(file)) return reply.status(503).type('text/plain').send('The UI is not built: run `npm run build:ui`.\n')
  return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').send(readFileSync(file))
}
