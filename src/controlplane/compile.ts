import type { Endpoint, ProxySnapshotInput, ServiceEntry } from '../config/snapshot.ts'
import type { GRPCRoute } from '../config/grpc-route.ts'
import type { HTTPRoute } from '../config/http-route.ts'
import { gatewayRoutes } from './gateway-attachment.ts'
import { type MeshView, resolveServiceName, spiffeId } from './mesh-view.ts'
import type { ProxyHello } from './protocol.ts'

export interface CompileInput {
  view: MeshView
  /** Current endpoints of a service (all versions), from the connected sidecars. */
  endpoints: (service: string) => Endpoint[]
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
 * Compile the snapshot one proxy needs (see docs/control-plane.md, "What a proxy receives"):
 * - sidecar of S: every mesh service (no narrowing: a sidecar may call any service), the routes (HTTPRoute
 *   and GRPCRoute) whose parent is a Service, the DestinationPolicies of those services, its localApp, and the inbound-side
 *   policies (authorization, fault injection, rate limit) that target S or `S-<version>`;
 * - gateway: its Gateway resource(s), the routes attached to it, their backend services and the
 *   DestinationPolicies of those.
 *
 * @example compileSnapshot({ view, endpoints, trustDomain: 'cluster.local', version: '7' }, hello)
 */
export function compileSnapshot (input: CompileInput, hello: ProxyHello): ProxySnapshotInput {
  const { view } = input
  return hello.role === 'sidecar' ? compileSidecar(input, hello) : compileGateway(input, hello, view)
}

export function proxyIdentity (view: MeshView, trustDomain: string, hello: ProxyHello): string {
  if (hello.role === 'sidecar') {
    const svc = view.services.get(hello.service ?? '')
    // The Workload of that version decides; an undeclared version gets its service's account.
    const info = svc ? (hello.version ? svc.versions.get(hello.version) : undefined) ?? svc.versions.values().next().value : undefined
    return spiffeId(trustDomain, hello.namespace, info?.serviceAccount ?? hello.service ?? hello.id)
  }
  return spiffeId(trustDomain, hello.namespace, hello.gateway?.name ?? `meshwork-${hello.role}`)
}

function compileSidecar (input: CompileInput, hello: ProxyHello): ProxySnapshotInput {
  const { view } = input
  const service = hello.service ?? ''
  const names = [...view.services.keys()]
  const own = new Set([service, `${service}-${hello.version ?? ''}`])
  const svcInfo = view.services.get(service)
  const verInfo = hello.version ? svcInfo?.versions.get(hello.version) : undefined
  const snap: ProxySnapshotInput = {
    version: input.version,
    node: { id: hello.id, role: 'sidecar', service, version: hello.version, namespace: hello.namespace, identity: proxyIdentity(view, input.trustDomain, hello) },
    mesh: meshSettings(input),
    services: names.map(n => serviceEntry(input, n)),
    routes: view.routes.filter(r => r.spec.parentRefs.some(p => p.kind === 'Service')),
    grpcRoutes: view.grpcRoutes.filter(r => r.spec.parentRefs.some(p => p.kind === 'Service')),
    gateways: [],
    destinationPolicies: view.destinationPolicies.filter(p => targetsService(view, p.spec.targetRef.name, names)),
    authorizationPolicies: view.authorizationPolicies.filter(p => own.has(p.spec.targetRef.name)),
    faultInjections: view.faultInjections.filter(p => own.has(p.spec.targetRef.name)),
    rateLimitPolicies: view.rateLimitPolicies.filter(p => own.has(p.spec.targetRef.name))
  }
  if (hello.app) {
    snap.localApp = { address: hello.app.host, port: hello.app.port, protocol: verInfo?.protocol ?? 'http1', readinessPath: verInfo?.readinessPath ?? '/healthz' }
  }
  return snap
}

function compileGateway (input: CompileInput, hello: ProxyHello, view: MeshView): ProxySnapshotInput {
  const cls = hello.role === 'egress' ? 'meshwork-egress' : 'meshwork'
  // A gateway proxy serves the Gateway it names, or (no name) every Gateway of its class.
  const gateways = view.gateways.filter(g => hello.gateway ? g.metadata.name === hello.gateway.name : g.spec.gatewayClassName === cls)
  // Only accepted attachments (sectionName, port, allowedRoutes, hostnames), hostnames narrowed to the listeners'.
  const routes = gatewayRoutes(view.routes, 'HTTPRoute', gateways)
  const grpcRoutes = gatewayRoutes(view.grpcRoutes, 'GRPCRoute', gateways)
  const backends = new Set<string>()
  for (const r of [...routes, ...grpcRoutes]) for (const n of routeBackends(r)) {
    const resolved = resolveServiceName(view, n)
    backends.add(resolved?.service ?? n)
  }
  const names = [...backends].filter(n => view.services.has(n))
  return {
    version: input.version,
    node: { id: hello.id, role: hello.role, namespace: hello.namespace, identity: proxyIdentity(view, input.trustDomain, hello) },
    mesh: meshSettings(input),
    services: names.map(n => serviceEntry(input, n)),
    routes,
    grpcRoutes,
    gateways,
    destinationPolicies: view.destinationPolicies.filter(p => targetsService(view, p.spec.targetRef.name, names)),
    authorizationPolicies: [],
    faultInjections: [],
    rateLimitPolicies: []
  }
}

function serviceEntry (input: CompileInput, name: string): ServiceEntry {
  const svc = input.view.services.get(name)!
  return { name, port: svc.port, endpoints: input.endpoints(name), versions: [...svc.versions.keys()] }
}

/** Names a route (HTTPRoute or GRPCRoute) sends traffic to: backendRefs and mirror targets. */
export function routeBackends (r: HTTPRoute | GRPCRoute): string[] {
  const out: string[] = []
  for (const rule of r.spec.rules) {
    for (const b of rule.backendRefs) out.push(b.name)
    for (const f of rule.filters ?? []) if (f.type === 'RequestMirror') out.push(f.requestMirror.backendRef.name)
  }
  return out
}

function targetsService (view: MeshView, target: string, names: string[]): boolean {
  const resolved = resolveServiceName(view, target)
  return resolved !== undefined && names.includes(resolved.service)
}
