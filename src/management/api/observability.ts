import type { FastifyInstance } from 'fastify'
import type { ManagementContext } from '../server.ts'
import { buildTopology } from '../topology.ts'

export async function registerObservabilityRoutes (app: FastifyInstance, ctx: ManagementContext): Promise<void> {
  app.get('/api/v1/topology', async () => {
    const [resources, proxies] = await Promise.all([ctx.backend.resources().catch(() => []), ctx.backend.proxies().catch(() => [])])
    return buildTopology(resources, proxies, ctx.metrics)
  })

  app.get('/api/v1/services/:name', async (req, reply) => {
    const { name } = req.params as { name: string }
    const [resources, proxies] = await Promise.all([ctx.backend.resources().catch(() => []), ctx.backend.proxies().catch(() => [])])
    const targets = (r: { spec: unknown }): boolean => {
      const t = (r.spec as { targetRef?: { name: string } }).targetRef
      return t !== undefined && (t.name === name || t.name.startsWith(`${name}-`))
    }
    const routes = resources.filter(r => (r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute') && r.spec.parentRefs.some(p => p.name === name))
    const policies = resources.filter(r => r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute' && r.kind !== 'Workload' && r.kind !== 'Gateway' && r.kind !== 'MeshConfig' && targets(r))
    const workloads = resources.filter(r => r.kind === 'Workload' && r.spec.service === name)
    const own = proxies.filter(p => p.service === name || p.role === name)
    if (routes.length === 0 && policies.length === 0 && workloads.length === 0 && own.length === 0 && !ctx.metrics.services.has(name)) {
      return reply.status(404).send({ code: 'MESH_ERR_API_NOT_FOUND', message: `no service "${name}"` })
    }
    const callers = [...ctx.metrics.edges.values()].filter(e => e.destination === name)
    const callees = [...ctx.metrics.edges.values()].filter(e => e.source === name)
    return {
      name,
      workloads,
      routes,
      policies,
      proxies: own,
      golden: ctx.metrics.services.get(name) ?? null,
      history: ctx.metrics.serviceHistory(name),
      callers,
      callees
    }
  })

  // OTLP/HTTP JSON trace receiver: proxies export spans here when the mesh's tracing endpoint points at us.
  app.post('/v1/traces', async (req, reply) => {
    const ct = String(req.headers['content-type'] ?? '')
    if (!ct.includes('json')) return reply.status(415).send({ code: 'MESH_ERR_API_BAD_REQUEST', message: 'only OTLP/HTTP JSON is accepted' })
    const n = ctx.traces.ingest(req.body)
    if (n > 0) ctx.events.publish('traces', { received: n })
    return { partialSuccess: {} }
  })
  app.get('/api/v1/traces', async (req) => {
    const q = req.query as { limit?: string, service?: string }
    return { traces: ctx.traces.list(Math.min(500, Number(q.limit ?? 50) || 50), q.service) }
  })
  app.get('/api/v1/traces/:id', async (req, reply) => {
    const spans = ctx.traces.get((req.params as { id: string }).id)
    if (spans === null) return reply.status(404).send({ code: 'MESH_ERR_API_NOT_FOUND', message: 'no such trace (it may have been evicted)' })
    return { spans }
  })

  // Tap: relay the live request stream of every proxy of a service (admin /tap, NDJSON) as SSE.
  app.get('/api/v1/tap', (req, reply) => {
    const q = req.query as { service?: string }
    const service = q.service ?? ''
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' })
    res.write('retry: 2000\n\n')
    const controllers: AbortController[] = []
    for (const t of ctx.scrapeTargets()) {
      const base = t.url.replace(/\/metrics$/, '')
      const ac = new AbortController()
      controllers.push(ac)
      relayTap(`${base}/tap?service=${encodeURIComponent(service)}`, t.proxyId, ac.signal, line => {
        if (!res.writableEnded && res.writableLength < 1 << 20) res.write(`event: tap\ndata: ${line}\n\n`)
      })
    }
    res.on('close', () => { for (const c of controllers) c.abort() })
  })
}

async function relayTap (url: string, proxyId: string, signal: AbortSignal, onLine: (json: string) => void): Promise<void> {
  try {
    const res = await fetch(url, { signal })
    if (!res.ok || res.body === null) return
    const decoder = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (line === '') continue
        try {
          const ev = JSON.parse(line) as Record<string, unknown>
          onLine(JSON.stringify({ proxy: proxyId, ...ev }))
        } catch { /* skip a malformed line */ }
      }
    }
  } catch { /* proxy gone or aborted: the client reconnects */ }
}
