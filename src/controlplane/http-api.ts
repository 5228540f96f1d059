import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadRequestError, MeshError, NoRouteError, UnknownWorkloadError } from '../errors.ts'
import type { ControlPlane } from './control-plane.ts'
import { syncStatus } from './control-plane.ts'
import { serviceIn } from './mesh-view.ts'
import { AckMessage, CertificateRequest, HealthMessage, ProxyHello } from './protocol.ts'
import { listProxies, listRoutes, listServices, listWorkloads } from './views.ts'

const MAX_BODY = 4 << 20

/**
 * The control plane's HTTP edge (loopback). Proxies: `POST /v1/stream` (long-lived NDJSON), `/v1/ack`,
 * `/v1/health`, `/v1/certificate`. CLI/runtime: `POST /v1/apply`, `GET /v1/{services,routes,proxies,
 * workloads,status,resources,xds-clients}`, `DELETE /v1/resources/<Kind>/<ns>/<name>`, `POST /v1/rotate-root`. Errors → status + `x-meshwork-error` + `{ code, message }`.
 */
export function handleRequest (cp: ControlPlane, req: IncomingMessage, res: ServerResponse): void {
  route(cp, req, res).catch((err: unknown) => {
    const e = err instanceof MeshError ? err : new MeshError((err as Error)?.message ?? String(err))
    if (res.headersSent) { res.destroy(); return }
    sendJson(res, e.status, { code: e.code, message: e.message }, { 'x-meshwork-error': e.code })
  })
}

async function route (cp: ControlPlane, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  const method = req.method ?? 'GET'
  if (method === 'POST') {
    switch (path) {
      case '/v1/stream': {
        const hello = parse(ProxyHello, await readJson(req))
        cp.streams.open(hello, res)
        return
      }
      case '/v1/ack': {
        const m = parse(AckMessage, await readJson(req))
        const rec = proxyOf(cp, m.streamId)
        if (m.type === 'certificate') {
          rec.certIssuer = Number(m.version)
          cp.registry.emit('proxy', rec)
        } else if (m.type === 'trust') {
          if (Number(m.version) > Number(rec.trustAckedVersion ?? 0)) {
            rec.trustAckedVersion = m.version
            cp.registry.emit('proxy', rec)
          }
        } else {
          cp.registry.ack(rec, m.version, m.ok, m.error)
        }
        return sendJson(res, 200, { ok: true })
      }
      case '/v1/health': {
        const m = parse(HealthMessage, await readJson(req))
        cp.registry.setHealth(proxyOf(cp, m.streamId), m.healthy, m.reason)
        return sendJson(res, 200, { ok: true })
      }
      case '/v1/certificate': {
        const m = parse(CertificateRequest, await readJson(req))
        const rec = proxyOf(cp, m.streamId)
        checkRegistered(cp, rec.hello)
        const issued = await cp.ca.sign(m.csrPem, rec.identity, cp.certTtlMs)
        rec.certNotAfter = issued.notAfter
        cp.registry.emit('proxy', rec)
        // certIssuer is recorded when the proxy confirms it installed the certificate (ack type certificate).
        return sendJson(res, 200, issued)
      }
      case '/v1/apply': {
        const raw = await readJson(req)
        const body = (typeof raw === 'object' && raw !== null ? raw : {}) as { text?: unknown, resources?: unknown, source?: unknown, files?: unknown, waitMs?: unknown }
        const source = typeof body.source === 'string' ? body.source : '<api>'
        let files: { source: string, input: string | unknown[] }[]
        if (typeof body.text === 'string') files = [{ source, input: body.text }]
        else if (Array.isArray(body.resources)) files = [{ source, input: body.resources }]
        else if (Array.isArray(body.files) && body.files.every(f => typeof f?.source === 'string' && typeof f?.text === 'string')) {
          files = (body.files as { source: string, text: string }[]).map(f => ({ source: f.source, input: f.text }))
        } else throw new BadRequestError('body needs "text" (YAML or JSON), "resources" (an array) or "files" ([{ source, text }])')
        const result = await cp.applyFiles(files)
        const waitMs = typeof body.waitMs === 'number' ? Math.min(Math.max(body.waitMs, 0), 30_000) : 0
        const proxies = result.ok && waitMs > 0 && (result.changed?.length ?? 0) > 0 ? await cp.waitForSync(waitMs) : undefined
        const status = result.ok ? 200 : result.code === 'MESH_ERR_CONFIG_CONFLICT' ? 409 : 400
        return sendJson(res, status, { ...result, proxies }, result.ok ? {} : { 'x-meshwork-error': result.code ?? 'MESH_ERR' })
      }
      case '/v1/delete': {
        const raw = await readJson(req) as { keys?: unknown } | null
        const keys = raw?.keys
        if (!Array.isArray(keys) || !keys.every(k => typeof k === 'string')) throw new BadRequestError('body needs "keys": ["Kind/namespace/name", …]')
        const result = await cp.delete(keys)
        return sendJson(res, result.ok ? 200 : result.code === 'MESH_ERR_CONFIG_CONFLICT' ? 409 : 400, result, result.ok ? {} : { 'x-meshwork-error': result.code ?? 'MESH_ERR' })
      }
      case '/v1/rotate-root':
        return sendJson(res, 200, await cp.rotateRoot())
    }
  } else if (method === 'DELETE' && path.startsWith('/v1/resources/')) {
    // DELETE /v1/resources/<Kind>/<namespace>/<name>
    const key = decodeURIComponent(path.slice('/v1/resources/'.length))
    const result = await cp.delete([key])
    const status = result.ok ? 200 : result.code === 'MESH_ERR_CONFIG_CONFLICT' ? 409 : result.problems?.[0]?.reason.startsWith('no resource') ? 404 : 400
    return sendJson(res, status, result, result.ok ? {} : { 'x-meshwork-error': result.code ?? 'MESH_ERR' })
  } else if (method === 'GET') {
    switch (path) {
      case '/v1/status':
        return sendJson(res, 200, { version: cp.version, trustVersion: cp.ca.trustVersion, proxies: cp.registry.connected().length, syncing: cp.registry.connected().map(syncStatus), xds: cp.xdsAddress, xdsClients: cp.xds?.streams.size ?? 0 })
      case '/v1/services': return sendJson(res, 200, listServices(cp))
      case '/v1/routes': return sendJson(res, 200, listRoutes(cp))
      case '/v1/proxies': return sendJson(res, 200, listProxies(cp))
      case '/v1/workloads': return sendJson(res, 200, listWorkloads(cp))
      case '/v1/xds-clients': {
        // Loaded on demand: only a control plane started with an xDS port has clients to list.
        if (cp.xds === null) return sendJson(res, 200, [])
        const { listXdsClients } = await import('./xds/list-clients.ts')
        return sendJson(res, 200, listXdsClients(cp.xds))
      }
      case '/v1/resources': return sendJson(res, 200, cp.resources().map(l => ({ ...l.resource, source: `${l.file}${l.line ? `:${l.line}` : ''}` })))
      case '/v1/trust-bundle': return sendJson(res, 200, { trustVersion: cp.ca.trustVersion, trustBundlePem: cp.ca.trustBundlePem })
    }
  }
  throw new NoRouteError(`no ${method} ${path} on the control plane`)
}

/** The CA signs only for workloads the mesh declares: a sidecar's service, a gateway's Gateway. */
function checkRegistered (cp: ControlPlane, hello: ProxyHello): void {
  const view = cp.registry.view
  if (hello.role === 'sidecar' && serviceIn(view, hello.namespace, hello.service ?? '') === undefined) {
    throw new UnknownWorkloadError(`no Workload declares service "${hello.service}" in namespace "${hello.namespace}"; the CA issues identities only to registered workloads`)
  }
  if (hello.role !== 'sidecar' && hello.gateway && !view.gateways.some(g => g.metadata.name === hello.gateway!.name && g.metadata.namespace === hello.namespace)) {
    throw new UnknownWorkloadError(`no Gateway named "${hello.gateway.name}" in namespace "${hello.namespace}"`)
  }
}

function proxyOf (cp: ControlPlane, streamId: string) {
  const rec = cp.registry.byStream(streamId)
  // 404 tells the proxy its stream is gone (e.g. the control plane restarted): reconnect.
  if (rec === undefined) throw new NoRouteError(`unknown stream ${streamId}`)
  return rec
}

function parse<T> (schema: { safeParse (v: unknown): { success: true, data: T } | { success: false, error: { issues: { path: PropertyKey[], message: string }[] } } }, value: unknown): T {
  const r = schema.safeParse(value)
  if (r.success) return r.data
  throw new BadRequestError(r.error.issues.slice(0, 3).map(i => `${i.path.map(String).join('.') || '<body>'}: ${i.message}`).join('; '))
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) throw new BadRequestError(`body over ${MAX_BODY} bytes`)
    chunks.push(c as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new BadRequestError('body is not JSON')
  }
}

function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
  res.end(text)
}
