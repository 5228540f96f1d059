import { parseAllDocuments, stringify } from 'yaml'

/** Editor text ⇄ plain objects, for the forms that write common intents into the editor. */
export function docsOf (text: string): any[] {
  return parseAllDocuments(text).map(d => d.toJS()).filter(d => d !== null && d !== undefined)
}

export function textOf (docs: any[]): string {
  return docs.map(d => stringify(d)).join('---\n')
}

function upsert (docs: any[], doc: any): any[] {
  const i = docs.findIndex(d => d?.kind === doc.kind && d?.metadata?.name === doc.metadata.name)
  if (i === -1) return [...docs, doc]
  const copy = [...docs]
  copy[i] = doc
  return copy
}

function remove (docs: any[], kind: string, name: string): any[] {
  return docs.filter(d => !(d?.kind === kind && d?.metadata?.name === name))
}

export function servicesOf (docs: any[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (const d of docs) {
    if (d?.kind !== 'Workload') continue
    const s = d.spec?.service
    const v = d.spec?.version ?? 'v1'
    if (typeof s !== 'string') continue
    m.set(s, [...new Set([...(m.get(s) ?? []), v])].sort())
  }
  return m
}

/**
 * The route the forms manage for a service: `HTTPRoute/<service>` attached to the service (GAMMA), or its
 * `GRPCRoute/<service>` when it has one (a GRPCRoute on a service makes its HTTPRoutes ignored).
 */
function serviceRoute (docs: any[], service: string): any {
  const existing = docs.find(d => d?.kind === 'GRPCRoute' && d?.metadata?.name === service) ?? docs.find(d => d?.kind === 'HTTPRoute' && d?.metadata?.name === service)
  if (existing !== undefined) return structuredClone(existing)
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: service },
    spec: { parentRefs: [{ kind: 'Service', name: service }], rules: [{ backendRefs: [{ name: service, weight: 1 }] }] }
  }
}

export function setTrafficSplit (docs: any[], service: string, weights: Record<string, number>): any[] {
  const route = serviceRoute(docs, service)
  const rule = route.spec.rules[route.spec.rules.length - 1]
  rule.backendRefs = Object.entries(weights).filter(([, w]) => w > 0).map(([version, weight]) => ({ name: `${service}-${version}`, weight }))
  if (rule.backendRefs.length === 0) rule.backendRefs = [{ name: service, weight: 1 }]
  return upsert(docs, route)
}

export function setTimeoutRetries (docs: any[], service: string, opts: { timeout: string, perTry: string, attempts: number }): any[] {
  const route = serviceRoute(docs, service)
  for (const rule of route.spec.rules) {
    const timeouts: Record<string, string> = {}
    if (opts.timeout !== '') timeouts.request = opts.timeout
    if (opts.perTry !== '') timeouts.backendRequest = opts.perTry
    if (Object.keys(timeouts).length > 0) rule.timeouts = timeouts
    else delete rule.timeouts
    if (opts.attempts > 0) rule.retry = { attempts: opts.attempts, backoff: '25ms', codes: [502, 503, 504], ...(route.kind === 'GRPCRoute' ? { grpcCodes: ['unavailable'] } : {}) }
    else delete rule.retry
  }
  return upsert(docs, route)
}

export function setFault (docs: any[], service: string, opts: { abortPercent: number, status: number, delayPercent: number, delay: string }): any[] {
  const name = `${service}-fault`
  if (opts.abortPercent <= 0 && opts.delayPercent <= 0) return remove(docs, 'FaultInjection', name)
  const spec: any = { targetRef: { name: service } }
  if (opts.abortPercent > 0) spec.abort = { httpStatus: opts.status, percentage: opts.abortPercent }
  if (opts.delayPercent > 0) spec.delay = { fixedDelay: opts.delay, percentage: opts.delayPercent }
  return upsert(docs, { apiVersion: 'meshwork.dev/v1alpha1', kind: 'FaultInjection', metadata: { name }, spec })
}

export function setMtls (docs: any[], mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'): any[] {
  const existing = docs.find(d => d?.kind === 'MeshConfig')
  const mesh = existing !== undefined ? structuredClone(existing) : { apiVersion: 'meshwork.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'mesh' }, spec: {} }
  mesh.spec = { ...(mesh.spec ?? {}), mtls: { mode } }
  return existing !== undefined ? upsert(docs, mesh) : [...docs, mesh]
}

export function mtlsOf (docs: any[]): string {
  return docs.find(d => d?.kind === 'MeshConfig')?.spec?.mtls?.mode ?? 'STRICT'
}
