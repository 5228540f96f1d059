import type { Resource } from '../config/index.ts'
import type { ProxyInfo } from './mesh-backend.ts'
import type { EdgeProtocol, EdgeStats, Golden, MetricsCollector } from './metrics-collector.ts'

export interface TopologyNode extends Partial<Golden> {
  id: string
  kind: 'service' | 'gateway'
  /** From the Workload (or Gateway) resources; "default" when the config names none. */
  namespace: string
  versions: string[]
  instances: number
  healthy: number
  /** Requests per second to each version, as the callers route them. */
  versionRps?: Record<string, number>
}

/**
 * An edge with what it carries (`grpc` shows as "gRPC" in the UI) and whether the two proxies speak mutual TLS: a
 * call to a mesh service's sidecars is mTLS unless the MeshConfig's `mtls.mode` is DISABLE (as the control plane
 * compiles the peer clusters, src/controlplane/registry.ts); a call to anything else (egress, external) is not.
 */
export interface TopologyEdge extends EdgeStats { protocol: EdgeProtocol, mtls: boolean }

export interface Topology {
  nodes: TopologyNode[]
  edges: TopologyEdge[]
  updatedAt: number
  /** The MeshConfig's mTLS mode (STRICT when the config has no MeshConfig). */
  mtlsMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'
}

/**
 * Services the config says speak gRPC: a GRPCRoute attaches to them (GAMMA) or sends to them. Used for an edge
 * whose caller's metrics cannot tell (no `grpc_status` label).
 */
function grpcServices (resources: readonly Resource[]): Set<string> {
  const versioned = new Map<string, string>()
  for (const r of resources) if (r.kind === 'Workload') versioned.set(`${r.spec.service}-${r.spec.version}`, r.spec.service)
  const out = new Set<string>()
  const add = (name: string): void => { out.add(versioned.get(name) ?? name) }
  for (const r of resources) {
    if (r.kind !== 'GRPCRoute') continue
    for (const p of r.spec.parentRefs) if (p.kind === 'Service') add(p.name)
    for (const rule of r.spec.rules) for (const b of rule.backendRefs) add(b.name)
  }
  return out
}

/**
 * The live graph: services (with their versions) and gateways from the config and the registered
 * proxies; edges, their protocol (HTTP / gRPC) and golden signals from the proxies' metrics (a gRPC call with a
 * status other than OK counts as a failure).
 */
export function buildTopology (resources: readonly Resource[], proxies: readonly ProxyInfo[], metrics: MetricsCollector): Topology {
  const nodes = new Map<string, TopologyNode>()
  const node = (id: string, kind: TopologyNode['kind']): TopologyNode => {
    let n = nodes.get(id)
    if (n === undefined) nodes.set(id, n = { id, kind, namespace: 'default', versions: [], instances: 0, healthy: 0 })
    return n
  }
  let mtlsMode: Topology['mtlsMode'] = 'STRICT'
  const meshServices = new Set<string>()
  for (const r of resources) {
    if (r.kind === 'Workload') {
      const n = node(r.spec.service, 'service')
      n.namespace = r.metadata.namespace ?? 'default'
      meshServices.add(r.spec.service)
      if (!n.versions.includes(r.spec.version)) n.versions.push(r.spec.version)
    } else if (r.kind === 'Gateway') {
      node(r.spec.gatewayClassName === 'meshwork-egress' ? 'egress' : 'ingress', 'gateway').namespace = r.metadata.namespace ?? 'default'
    } else if (r.kind === 'MeshConfig') {
      mtlsMode = r.spec.mtls.mode
    }
  }
  for (const p of proxies) {
    const id = p.role === 'sidecar' ? p.service : p.role
    if (id === undefined) continue
    const n = node(id, p.role === 'sidecar' ? 'service' : 'gateway')
    if (p.version !== undefined && p.role === 'sidecar' && !n.versions.includes(p.version)) n.versions.push(p.version)
    n.instances++
    if (p.connected && p.healthy !== false) n.healthy++
  }
  const grpc = grpcServices(resources)
  const edges: TopologyEdge[] = []
  for (const e of metrics.edges.values()) {
    if (e.rps === 0 && e.successRate === null) continue
    edges.push({ ...e, protocol: e.protocol ?? (grpc.has(e.destination) ? 'grpc' : 'http'), mtls: mtlsMode !== 'DISABLE' && meshServices.has(e.destination) })
  }
  for (const e of edges) {
    node(e.source, e.source === 'ingress' || e.source === 'egress' ? 'gateway' : 'service')
    node(e.destination, 'service')
  }
  for (const [svc, g] of metrics.services) Object.assign(node(svc, 'service'), g)
  for (const [svc, m] of metrics.versions) node(svc, 'service').versionRps = Object.fromEntries([...m].sort())
  for (const n of nodes.values()) n.versions.sort()
  return { nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)), edges, updatedAt: metrics.lastScrapeAt, mtlsMode }
}
