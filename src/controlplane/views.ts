import type { ResourceOf } from '../config/resource.ts'
import type { ControlPlane } from './control-plane.ts'
import { syncStatus } from './control-plane.ts'

/** Read-only listings for `meshwork get` and the management plane (JSON, stable field names). */

export interface ServiceListing {
  name: string
  namespace: string
  port: number
  versions: string[]
  endpoints: { id: string, address: string, port: number, version?: string, healthy: boolean }[]
}

export function listServices (cp: ControlPlane): ServiceListing[] {
  return [...cp.registry.view.services.values()].map(s => ({
    name: s.name,
    namespace: s.namespace,
    port: s.port,
    versions: [...s.versions.keys()],
    endpoints: cp.registry.endpoints(s.namespace, s.name).map(e => ({ id: e.id, address: e.address, port: e.port, version: e.version, healthy: e.healthy }))
  }))
}

export interface RouteListing {
  kind: 'HTTPRoute' | 'GRPCRoute'
  name: string
  namespace: string
  parents: string[]
  hostnames: string[]
  rules: { matches: string[], backends: string[] }[]
  source: string
}

/** One HTTPRoute match as text: `GET =/productpage end-user:jason` (`=` Exact, `~` regex, else a prefix). */
function httpMatchText (m: ResourceOf<'HTTPRoute'>['spec']['rules'][number]['matches'][number]): string {
  return [m.method, m.path ? `${m.path.type === 'Exact' ? '=' : m.path.type === 'RegularExpression' ? '~' : ''}${m.path.value}` : '/', ...(m.headers ?? []).map(h => `${h.name}:${h.value}`)].filter(Boolean).join(' ')
}

/** One GRPCRoute match as text: `bookinfo.stars.v1.Stars/GetStars`, `*` for any part, `~` before a regex match. */
function grpcMatchText (m: ResourceOf<'GRPCRoute'>['spec']['rules'][number]['matches'][number]): string {
  const method = m.method === undefined ? '*' : `${m.method.type === 'RegularExpression' ? '~' : ''}${m.method.service || '*'}/${m.method.method || '*'}`
  return [method, ...(m.headers ?? []).map(h => `${h.name}:${h.value}`)].join(' ')
}

export function listRoutes (cp: ControlPlane): RouteListing[] {
  const out: RouteListing[] = []
  for (const l of cp.resources()) {
    const r = l.resource
    if (r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute') continue
    const rules = r.kind === 'HTTPRoute'
      ? r.spec.rules.map(rule => ({ matches: rule.matches.map(httpMatchText), backends: rule.backendRefs.map(b => `${b.name}=${b.weight}`) }))
      : r.spec.rules.map(rule => ({ matches: (rule.matches.length > 0 ? rule.matches : [{}]).map(grpcMatchText), backends: rule.backendRefs.map(b => `${b.name}=${b.weight}`) }))
    out.push({
      kind: r.kind,
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      parents: r.spec.parentRefs.map(p => `${p.kind}/${p.name}`),
      hostnames: r.spec.hostnames ?? [],
      rules,
      source: `${l.file}${l.line ? `:${l.line}` : ''}`
    })
  }
  return out
}

export interface ProxyListing {
  id: string
  role: string
  service: string | null
  version: string | null
  namespace: string
  identity: string
  connected: boolean
  healthy: boolean
  sync: 'SYNCED' | 'NACKED' | 'PENDING' | 'DISCONNECTED'
  sentVersion: string | null
  ackedVersion: string | null
  lastNack: { version: string, code: string, message: string, at: string } | null
  inbound: string | null
  certNotAfter: string | null
  trustVersion: string | null
}

export function listProxies (cp: ControlPlane): ProxyListing[] {
  return [...cp.registry.proxies.values()].map(r => ({
    id: r.id,
    role: r.hello.role,
    service: r.hello.service ?? null,
    version: r.hello.version ?? null,
    namespace: r.hello.namespace,
    identity: r.identity,
    connected: r.connected,
    healthy: r.healthy,
    sync: r.connected ? syncStatus(r).status : 'DISCONNECTED',
    sentVersion: r.sentVersion,
    ackedVersion: r.ackedVersion,
    lastNack: r.lastNack,
    inbound: r.hello.inbound ? `${r.hello.inbound.host}:${r.hello.inbound.port}` : null,
    certNotAfter: r.certNotAfter,
    trustVersion: r.trustAckedVersion
  }))
}

export function listWorkloads (cp: ControlPlane): { name: string, service: string, version: string, replicas: number, serviceAccount: string, readinessPath: string }[] {
  return cp.registry.view.workloads.map(w => ({
    name: w.metadata.name,
    service: w.spec.service,
    version: w.spec.version,
    replicas: w.spec.replicas,
    serviceAccount: w.spec.serviceAccount ?? w.spec.service,
    readinessPath: w.spec.readinessPath
  }))
}
