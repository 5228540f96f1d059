import type { Resource } from '../config/index.ts'
import type { ProxyInfo } from './mesh-backend.ts'
import type { EdgeStats, Golden, MetricsCollector } from './metrics-collector.ts'

export interface TopologyNode extends Partial<Golden> {
  id: string
  kind: 'service' | 'gateway'
  versions: string[]
  instances: number
  healthy: number
  /** Requests per second to each version, as the callers route them. */
  versionRps?: Record<string, number>
}

export interface Topology {
  nodes: TopologyNode[]
  edges: EdgeStats[]
  updatedAt: number
}

/**
 * The live graph: services (with their versions) and gateways from the config and the registered
 * proxies; edges and golden signals from the proxies' metrics.
 */
export function buildTopology (resources: readonly Resource[], proxies: readonly ProxyInfo[], metrics: MetricsCollector): Topology {
  const nodes = new Map<string, TopologyNode>()
  const node = (id: string, kind: TopologyNode['kind']): TopologyNode => {
    let n = nodes.get(id)
    if (n === undefined) nodes.set(id, n = { id, kind, versions: [], instances: 0, healthy: 0 })
    return n
  }
  for (const r of resources) {
    if (r.kind === 'Workload') {
      const n = node(r.spec.service, 'service')
      if (!n.versions.includes(r.spec.version)) n.versions.push(r.spec.version)
    } else if (r.kind === 'Gateway') {
      node(r.spec.gatewayClassName === 'meshwork-egress' ? 'egress' : 'ingress', 'gateway')
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
  const edges = [...metrics.edges.values()].filter(e => e.rps > 0 || e.successRate !== null)
  for (const e of edges) {
    node(e.source, e.source === 'ingress' || e.source === 'egress' ? 'gateway' : 'service')
    node(e.destination, 'service')
  }
  for (const [svc, g] of metrics.services) Object.assign(node(svc, 'service'), g)
  for (const [svc, m] of metrics.versions) node(svc, 'service').versionRps = Object.fromEntries([...m].sort())
  for (const n of nodes.values()) n.versions.sort()
  return { nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)), edges, updatedAt: metrics.lastScrapeAt }
}
