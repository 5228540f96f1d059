/**
 * The xDS resources of one client profile, compiled from the same model as the sidecars' snapshots:
 * `compileSnapshot()` for a sidecar of the client's workload (services, versions, routes,
 * DestinationPolicies it would get), the mesh view for identities, protocols and FaultInjections, and the
 * registry's endpoints. Nothing here is a second source of truth.
 *
 *   MeshView ──compileSnapshot(profile)──► LDS / RDS / CDS   (rebuilt only when the view changes)
 *   Registry endpoints (per generation) ──► EDS               (endpoint churn recompiles EDS only)
 *
 * Each resource carries a version: a hash of its encoding, the same for every client that gets the same
 * bytes (what delta xDS compares, and what later per-proxy scoping can share).
 */
import { createHash } from 'node:crypto'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import { parseDuration } from '../../config/duration.ts'
import type { GRPCRoute } from '../../config/grpc-route.ts'
import type { HTTPRoute } from '../../config/http-route.ts'
import type { Endpoint } from '../../config/snapshot.ts'
import { AuthorityResolver } from '../../dataplane/router/authority.ts'
import type { Cluster } from '../../dataplane/router/clusters.ts'
import { compileSnapshot } from '../compile.ts'
import { type MeshView, serviceIn, spiffeId } from '../mesh-view.ts'
import { subsetName } from '../../config/service-names.ts'
import type { ProxyHello } from '../protocol.ts'
import type { Registry } from '../registry.ts'
import { encodeCluster } from './encode-cluster.ts'
import { encodeLoadAssignment, type XdsEndpoint } from './encode-endpoint.ts'
import { encodeApiListener, encodeOutboundListener, ENVOY_OUTBOUND } from './encode-listener.ts'
import { encodeRouteConfiguration, encodeVirtualHost, type RouteTarget } from './encode-route.ts'
import { type AnyMessage, packAny, TYPE_URL, type XdsTypeUrl } from './protos.ts'
import type { XdsNode } from './xds-node.ts'

export interface XdsResource { name: string, version: string, any: AnyMessage }

interface ClusterInfo {
  /** `reviews`, `reviews-v2`, `details.team-a`: the snapshot's names (config/service-names.ts). */
  name: string
  /** The whole-service cluster (`reviews`, `details.team-a`). */
  service: string
  /** The service's own name in its namespace (`details`). */
  serviceName: string
  version: string | null
  port: number
  namespace: string
}

/** LDS, RDS, CDS of one profile at one mesh view. */
export class ConfigResources {
  readonly view: MeshView
  readonly clusters: ClusterInfo[]
  readonly byType: Map<XdsTypeUrl, Map<string, XdsResource>>
  private readonly resolver: AuthorityResolver | null
  private readonly faults: boolean
  private readonly aliases = new Map<string, XdsResource | null>()

  constructor (view: MeshView, node: XdsNode, trustDomain: string) {
    this.view = view
    const hello = { id: `xds:${node.id}`, role: 'sidecar', service: node.service ?? '', version: node.version ?? undefined, namespace: node.namespace } as ProxyHello
    const snap = compileSnapshot({ view, endpoints: () => [], trustDomain, version: 'xds' }, hello)
    const clusters: ClusterInfo[] = []
    const names = new Set<string>()
    for (const s of snap.services ?? []) { names.add(s.name) }
    for (const s of snap.services ?? []) {
      const ns = s.namespace ?? node.namespace
      const serviceName = s.namespace === undefined ? s.name : s.name.slice(0, s.name.indexOf('.'))
      clusters.push({ name: s.name, service: s.name, serviceName, version: null, port: s.port, namespace: ns })
      // A real service named like another's subset (`reviews-v2` declared as a service) wins over the subset.
      for (const v of s.versions ?? []) {
        const sub = subsetName(s.name, v)
        if (!names.has(sub)) clusters.push({ name: sub, service: s.name, serviceName, version: v, port: s.port, namespace: ns })
      }
    }
    this.clusters = clusters
    const serviceOf = new Map(clusters.map(c => [c.name, c.service]))
    this.faults = node.endpoints === 'app' && view.faultInjections.length > 0
    const tls = node.endpoints === 'inbound' && view.meshConfig.mtls.mode !== 'DISABLE'
    const ctx = { kind: node.kind, defaultTimeoutMs: parseDuration(view.meshConfig.defaultTimeout), faults: node.endpoints === 'app' ? view.faultInjections : [], serviceOf: (n: string) => serviceOf.get(n) }
    // The snapshot holds the view's own (validated) resources: their parsed types, not the input types.
    const routes = { http: (snap.routes ?? []) as readonly HTTPRoute[], grpc: (snap.grpcRoutes ?? []) as readonly GRPCRoute[] }
    const policies = (snap.destinationPolicies ?? []) as readonly DestinationPolicy[]
    const cds = new Map<string, XdsResource>()
    const rds = new Map<string, XdsResource>()
    const lds = new Map<string, XdsResource>()
    const vhosts: Record<string, unknown>[] = []
    for (const c of clusters) {
      const svc = serviceIn(view, c.namespace, c.serviceName)
      const versions = svc ? [...svc.versions.values()].filter(v => c.version === null || v.version === c.version) : []
      const policy = policies.find(p => p.spec.targetRef.name === c.name) ?? policies.find(p => p.spec.targetRef.name === c.service)
      const identities = [...new Set(versions.map(v => spiffeId(trustDomain, c.namespace, v.serviceAccount)))]
      cds.set(c.name, resource(TYPE_URL.cluster, c.name, encodeCluster({
        name: c.name,
        protocol: versions.some(v => v.protocol === 'h2') ? 'h2' : 'http1',
        identities,
        policy: policy?.spec,
        tls
      }, node.kind)))
      const vh = encodeVirtualHost(routes, c as RouteTarget, ctx)
      if (node.kind === 'grpc') {
        rds.set(c.name, resource(TYPE_URL.route, c.name, encodeRouteConfiguration(c.name, [vh])))
        lds.set(c.name, resource(TYPE_URL.listener, c.name, encodeApiListener(c.name, c.name, this.faults)))
      } else {
        vhosts.push(vh)
      }
    }
    if (node.kind === 'envoy') {
      rds.set(ENVOY_OUTBOUND, resource(TYPE_URL.route, ENVOY_OUTBOUND, encodeRouteConfiguration(ENVOY_OUTBOUND, vhosts)))
      lds.set(ENVOY_OUTBOUND, resource(TYPE_URL.listener, ENVOY_OUTBOUND, encodeOutboundListener(node.outboundPort, this.faults)))
    }
    this.byType = new Map([[TYPE_URL.listener, lds], [TYPE_URL.route, rds], [TYPE_URL.cluster, cds]])
    this.resolver = node.kind === 'grpc'
      ? new AuthorityResolver(new Map(clusters.map(c => [c.name, { name: c.name, service: c.service, version: c.version, port: c.port, endpoints: [] } satisfies Cluster])), node.namespace)
      : null
  }

  /**
   * A listener by the name a gRPC target uses: `reviews`, `reviews:9080`, `reviews.default.svc.cluster.local`…
   * (the forms the sidecar's outbound listener accepts). Aliases are built on first request and kept.
   */
  listener (name: string): XdsResource | undefined {
    const own = this.byType.get(TYPE_URL.listener)!.get(name)
    if (own !== undefined || this.resolver === null) return own
    let hit = this.aliases.get(name)
    if (hit === undefined) {
      const c = this.aliases.size < 4096 ? this.resolver.resolve(name) : null
      hit = c === null ? null : resource(TYPE_URL.listener, name, encodeApiListener(name, c.name, this.faults))
      if (this.aliases.size < 4096) this.aliases.set(name, hit)
    }
    return hit ?? undefined
  }
}

/** EDS of one profile at one generation. */
export function buildEndpointResources (config: ConfigResources, registry: Registry, node: XdsNode, endpointsOf: (namespace: string, service: string) => Endpoint[]): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>()
  for (const c of config.clusters) {
    const eps: XdsEndpoint[] = []
    for (const e of endpointsOf(c.namespace, c.serviceName)) {
      if (c.version !== null && e.version !== c.version) continue
      if (node.endpoints === 'app') {
        const app = registry.proxies.get(e.id)?.hello.app
        if (app !== undefined) eps.push({ address: app.host, port: app.port, healthy: e.healthy })
      } else {
        eps.push({ address: e.address, port: e.port, healthy: e.healthy })
      }
    }
    out.set(c.name, resource(TYPE_URL.endpoint, c.name, encodeLoadAssignment(c.name, eps)))
  }
  return out
}

function resource (typeUrl: XdsTypeUrl, name: string, body: Record<string, unknown>): XdsResource {
  const any = packAny(typeUrl.slice(typeUrl.lastIndexOf('/') + 1), body)
  const version = createHash('sha256').update(any.value).digest('hex').slice(0, 16)
  return { name, version, any }
}
