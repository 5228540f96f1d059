import type { Endpoint, ProxySnapshotInput, ServiceEntry } from '../config/snapshot.ts'
import type { GRPCRoute } from '../config/grpc-route.ts'
import type { HTTPRoute } from '../config/http-route.ts'
import type { TargetRef } from '../config/common.ts'
import { qualifiedName } from '../config/service-names.ts'
import { gatewayRoutes } from './gateway-attachment.ts'
import { type MeshView, resolveServiceName, type ServiceInfo, serviceIn, spiffeId } from './mesh-view.ts'
import type { ProxyHello } from './protocol.ts'
import { refPermitted } from './reference-grant.ts'

export interface CompileInput {
  view: MeshView
  /** Current endpoints of a service (all versions) of a namespace, from the connected sidecars. */
  endpoints: (namespace: string, service: string) => Endpoint[]
  trustDomain: string
  version: string
  /** OTLP/HTTP endpoint for spans when the MeshConfig names none (`meshwork up` points it at the UI's receiver). */
  tracingEndpoint?: string
}

/** The mesh settings a proxy gets: the MeshConfig, with the runtime's trace receiver when it names none. */
function meshSettings (input: CompileInput): ProxySnapshotInput['mesh'] {
  const mesh = input.view.meshConfig
  if (input.tracingEndpoint === undefined || mesh.tracing.otlpEndpoint !== undefined) return mesh
  return { ...mesh, tracing: { ...mesh.tracing, otlpEndpoint: input.tracingEndpoint } }
}

/**
 * Compile the snapshot one proxy needs (see docs/control-plane.md, "What a proxy receives"). Names are the
 * proxy's view (config/service-names.ts): a service of its own namespace `details`, of another `details.team-a`.
 * - sidecar of S in namespace N: every mesh service, the routes (HTTPRoute and GRPCRoute) whose Service parent
 *   applies to N (GAMMA: a route in the service's namespace applies to every caller, one in another namespace only
 *   to callers of that namespace), the DestinationPolicies of those services, its localApp, and the inbound-side
 *   policies (authorization, fault injection, rate limit) that target N/S or N/`S-<version>`;
 * - gateway: its Gateway resource(s) of its namespace, the routes attached to it, their backend services and the
 *   DestinationPolicies of those.
 * A backendRef to another namespace that no ReferenceGrant permits keeps its place with weight 0 (no traffic).
 *
 * @example compileSnapshot({ view, endpoints, trustDomain: 'cluster.local', version: '7' }, hello)
 */
export function compileSnapshot (input: CompileInput, hello: ProxyHello): ProxySnapshotInput {
  const { view } = input
  return hello.role === 'sidecar' ? compileSidecar(input, hello) : compileGateway(input, hello, view)
}

export function proxyIdentity (view: MeshView, trustDomain: string, hello: ProxyHello): string {
  if (hello.role === 'sidecar') {
    const svc = serviceIn(view, hello.namespace, hello.service ?? '')
    // The Workload of that version decides; an undeclared version gets its service's account.
    const info = svc ? (hello.version ? svc.versions.get(hello.version) : undefined) ?? svc.versions.values().next().value : undefined
    return spiffeId(trustDomain, hello.namespace, info?.serviceAccount ?? hello.service ?? hello.id)
  }
  return spiffeId(trustDomain, hello.namespace, hello.gateway?.name ?? `meshwork-${hello.role}`)
}

function compileSidecar (input: CompileInput, hello: ProxyHello): ProxySnapshotInput {
  const { view } = input
  const service = hello.service ?? ''
  const ns = hello.namespace
  const services = [...view.services.values()]
  const own = new Set([service, `${service}-${hello.version ?? ''}`])
  const svcInfo = serviceIn(view, ns, service)
  const verInfo = hello.version ? svcInfo?.versions.get(hello.version) : undefined
  const ownTarget = (p: { metadata: { namespace: string }, spec: { targetRef: TargetRef } }): boolean =>
    (p.spec.targetRef.namespace ?? p.metadata.namespace) === ns && own.has(p.spec.targetRef.name)
  const snap: ProxySnapshotInput = {
    version: input.version,
    node: { id: hello.id, role: 'sidecar', service, version: hello.version, namespace: ns, identity: proxyIdentity(view, input.trustDomain, hello) },
    mesh: meshSettings(input),
    services: services.map(s => serviceEntry(input, s, ns)),
    routes: localRoutes(view, view.routes, 'HTTPRoute', ns, serviceParentFor(view, ns)),
    grpcRoutes: localRoutes(view, view.grpcRoutes, 'GRPCRoute', ns, serviceParentFor(view, ns)),
    gateways: [],
    destinationPolicies: localPolicies(view, view.destinationPolicies, ns, new Set(services)),
    authorizationPolicies: view.authorizationPolicies.filter(ownTarget),
    faultInjections: view.faultInjections.filter(ownTarget),
    rateLimitPolicies: view.rateLimitPolicies.filter(ownTarget)
  }
  if (hello.app) {
    snap.localApp = { address: hello.app.host, port: hello.app.port, protocol: verInfo?.protocol ?? 'http1', readinessPath: verInfo?.readinessPath ?? '/healthz' }
  }
  return snap
}

function compileGateway (input: CompileInput, hello: ProxyHello, view: MeshView): ProxySnapshotInput {
  const cls = hello.role === 'egress' ? 'meshwork-egress' : 'meshwork'
  const ns = hello.namespace
  // A gateway proxy serves the Gateway it names, or (no name) every Gateway of its class, of its namespace.
  const gateways = view.gateways.filter(g => g.metadata.namespace === ns && (hello.gateway ? g.metadata.name === hello.gateway.name : g.spec.gatewayClassName === cls))
  // Only accepted attachments (sectionName, port, allowedRoutes, hostnames), hostnames narrowed to the listeners'.
  const attachedHttp = gatewayRoutes(view.routes, 'HTTPRoute', gateways)
  const attachedGrpc = gatewayRoutes(view.grpcRoutes, 'GRPCRoute', gateways)
  const routes = localRoutes(view, attachedHttp, 'HTTPRoute', ns, NO_SERVICE_PARENT)
  const grpcRoutes = localRoutes(view, attachedGrpc, 'GRPCRoute', ns, NO_SERVICE_PARENT)
  const backends = new Set<ServiceInfo>()
  for (const r of [...attachedHttp, ...attachedGrpc]) {
    for (const b of routeBackendRefs(r)) {
      const resolved = resolveServiceName(view, b.name, b.namespace ?? r.metadata.namespace)
      if (resolved !== undefined) backends.add(resolved.info)
    }
  }
  return {
    version: input.version,
    node: { id: hello.id, role: hello.role, namespace: ns, identity: proxyIdentity(view, input.trustDomain, hello) },
    mesh: meshSettings(input),
    services: [...backends].map(s => serviceEntry(input, s, ns)),
    routes,
    grpcRoutes,
    gateways,
    destinationPolicies: localPolicies(view, view.destinationPolicies, ns, backends),
    authorizationPolicies: [],
    faultInjections: [],
    rateLimitPolicies: []
  }
}

function serviceEntry (input: CompileInput, svc: ServiceInfo, viewerNs: string): ServiceEntry {
  const entry: ServiceEntry = { name: qualifiedName(svc.name, svc.namespace, viewerNs), port: svc.port, endpoints: input.endpoints(svc.namespace, svc.name), versions: [...svc.versions.keys()] }
  if (svc.namespace !== viewerNs) entry.namespace = svc.namespace
  return entry
}

type ParentRefLike = HTTPRoute['spec']['parentRefs'][number]
const NO_SERVICE_PARENT = (): boolean => false
type BackendRefLike = { name: string, namespace?: string }

/** A Service parentRef of a route in `routeNs` that applies to sidecars of `viewerNs` (GAMMA producer or consumer route). */
function serviceParentFor (view: MeshView, viewerNs: string): (p: ParentRefLike, routeNs: string) => boolean {
  return (p, routeNs) => {
    if (p.kind !== 'Service') return false
    const pns = p.namespace ?? routeNs
    return (pns === routeNs || routeNs === viewerNs) && resolveServiceName(view, p.name, pns) !== undefined
  }
}

/**
 * Routes as a proxy of `viewerNs` sees them: Service parentRefs that do not apply dropped (a route left with no
 * Service parent nor Gateway parent is left out), references renamed to the viewer's names (`details.team-a`,
 * no `namespace`), cross-namespace backendRefs without a ReferenceGrant at weight 0. A route that needs no change
 * is passed as is (the same object: snapshots of a single-namespace mesh are what they always were).
 */
function localRoutes<R extends HTTPRoute | GRPCRoute> (view: MeshView, routes: readonly R[], kind: 'HTTPRoute' | 'GRPCRoute', viewerNs: string, applies: (p: ParentRefLike, routeNs: string) => boolean): R[] {
  const out: R[] = []
  for (const r of routes) {
    const rns = r.metadata.namespace
    const parents = r.spec.parentRefs.filter(p => p.kind === 'Gateway' || applies(p, rns))
    // A sidecar gets the routes with a Service parent that applies to it; a gateway those it was given (attached to it).
    if (applies !== NO_SERVICE_PARENT && !parents.some(p => p.kind === 'Service')) continue
    const simple = rns === viewerNs && parents.length === r.spec.parentRefs.length &&
      r.spec.parentRefs.every(p => p.namespace === undefined || p.namespace === viewerNs) &&
      routeBackendRefs(r).every(b => b.namespace === undefined || b.namespace === viewerNs)
    if (simple) { out.push(r); continue }
    const ref = <B extends BackendRefLike>(b: B): B => {
      const bns = b.namespace ?? rns
      const { namespace: _ns, ...rest } = b
      const renamed = { ...rest, name: qualifiedName(b.name, bns, viewerNs) } as B
      const resolved = resolveServiceName(view, b.name, bns)
      if (!refPermitted(view, { kind, namespace: rns }, { namespace: bns, name: resolved?.service ?? b.name }) && 'weight' in renamed) (renamed as { weight: number }).weight = 0
      return renamed
    }
    const rules = r.spec.rules.map(rule => ({
      ...rule,
      backendRefs: rule.backendRefs.map(ref),
      ...(rule.filters === undefined ? {} : { filters: rule.filters.map(f => mirrorTo(f, ref)) })
    }))
    const parentRefs = parents.map(p => {
      if (p.kind !== 'Service') return p
      const { namespace: _ns, ...rest } = p
      return { ...rest, name: qualifiedName(p.name, p.namespace ?? rns, viewerNs) }
    })
    out.push({ ...r, spec: { ...r.spec, parentRefs, rules } } as R)
  }
  return out
}

type AnyFilter = NonNullable<(HTTPRoute | GRPCRoute)['spec']['rules'][number]['filters']>[number]
function mirrorTo (f: AnyFilter, ref: <B extends BackendRefLike>(b: B) => B): AnyFilter {
  return f.type === 'RequestMirror' ? { ...f, requestMirror: { ...f.requestMirror, backendRef: ref(f.requestMirror.backendRef) } } : f
}

/** DestinationPolicies of the given services, their targetRef renamed to the viewer's names. */
function localPolicies<P extends { metadata: { namespace: string }, spec: { targetRef: TargetRef } }> (view: MeshView, policies: readonly P[], viewerNs: string, services: ReadonlySet<ServiceInfo>): P[] {
  const out: P[] = []
  for (const p of policies) {
    const tns = p.spec.targetRef.namespace ?? p.metadata.namespace
    const resolved = resolveServiceName(view, p.spec.targetRef.name, tns)
    if (resolved === undefined || !services.has(resolved.info)) continue
    if (tns === viewerNs && p.spec.targetRef.namespace === undefined) { out.push(p); continue }
    const { namespace: _ns, ...rest } = p.spec.targetRef
    out.push({ ...p, spec: { ...p.spec, targetRef: { ...rest, name: qualifiedName(p.spec.targetRef.name, tns, viewerNs) } } })
  }
  return out
}

/** References a route (HTTPRoute or GRPCRoute) sends traffic to: backendRefs and mirror targets. */
export function routeBackendRefs (r: HTTPRoute | GRPCRoute): BackendRefLike[] {
  const out: BackendRefLike[] = []
  for (const rule of r.spec.rules) {
    for (const b of rule.backendRefs) out.push(b)
    for (const f of rule.filters ?? []) if (f.type === 'RequestMirror') out.push(f.requestMirror.backendRef)
  }
  return out
}

/** Names a route (HTTPRoute or GRPCRoute) sends traffic to: backendRefs and mirror targets. */
export function routeBackends (r: HTTPRoute | GRPCRoute): string[] {
  return routeBackendRefs(r).map(b => b.name)
}
