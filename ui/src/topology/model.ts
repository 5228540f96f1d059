// What the topology page draws, derived from the management API's /topology (or a fixture): app nodes with
// their versions, grouped by namespace; edges with protocol, mTLS and golden signals; health from success rate.

export type Protocol = 'http' | 'grpc' | 'mixed' | 'tcp'

export interface TopologyNode {
  id: string
  kind: 'service' | 'gateway'
  /** Absent before namespaces land in the API: "default". */
  namespace?: string
  versions: string[]
  instances: number
  healthy: number
  versionRps?: Record<string, number>
  rps?: number
  successRate?: number | null
  p50Ms?: number | null
  p99Ms?: number | null
}

export interface TopologyEdge {
  source: string
  destination: string
  protocol?: Protocol
  /** true: mutual TLS between the two proxies; false: plain; absent: unknown. */
  mtls?: boolean
  rps: number
  successRate: number | null
  p99Ms: number | null
}

export interface Topology { nodes: TopologyNode[], edges: TopologyEdge[], updatedAt: number, mtlsMode?: string }

export type Health = 'healthy' | 'degraded' | 'failing' | 'idle'

/**
 * Health thresholds on the success rate (share of requests not 5xx and, for gRPC, with status OK), as Kiali colours
 * its graph: at least 99.5 % healthy (green), at least 95 % degraded (amber), below failing (red); no traffic idle (grey).
 */
export const HEALTH_THRESHOLDS = { healthy: 0.995, degraded: 0.95 } as const

/** @example health(0.97, 10) === 'degraded' */
export function health (successRate: number | null | undefined, rps: number | undefined): Health {
  if (successRate === null || successRate === undefined || (rps ?? 0) <= 0) return 'idle'
  if (successRate >= HEALTH_THRESHOLDS.healthy) return 'healthy'
  if (successRate >= HEALTH_THRESHOLDS.degraded) return 'degraded'
  return 'failing'
}

export type EdgeLabelMode = 'rps' | 'success' | 'p99' | 'share' | 'none'
export const EDGE_LABEL_MODES: Array<{ id: EdgeLabelMode, title: string }> = [
  { id: 'rps', title: 'Requests per second' },
  { id: 'success', title: 'Success %' },
  { id: 'p99', title: 'p99 latency' },
  { id: 'share', title: 'Traffic share %' },
  { id: 'none', title: 'No metric' }
]

export const PROTOCOL_NAME: Record<Protocol, string> = { http: 'HTTP', grpc: 'gRPC', mixed: 'HTTP+gRPC', tcp: 'TCP' }

export interface GraphNode {
  id: string
  kind: 'service' | 'gateway' | 'namespace'
  namespace: string
  label: string
  versions: Array<{ name: string, rps: number | null }>
  instances: number
  healthy: number
  rps: number | null
  successRate: number | null
  p99Ms: number | null
  health: Health
  /** For a collapsed namespace: how many services it holds. */
  members: number
}

export interface GraphEdge {
  id: string
  source: string
  target: string
  protocol: Protocol
  mtls: boolean | undefined
  rps: number
  successRate: number | null
  p99Ms: number | null
  /** This edge's part of its source's outbound rate, 0..1. */
  share: number | null
  health: Health
}

export interface GraphModel { nodes: GraphNode[], edges: GraphEdge[], namespaces: string[] }

export interface ViewOptions {
  collapsed: ReadonlySet<string>
  /** Show only this node and its direct neighbours. */
  focus: string | null
}

export function namespaceOf (n: { namespace?: string }): string { return n.namespace ?? 'default' }
const nsNodeId = (ns: string): string => `namespace:${ns}`

/** Turn the API's topology into the drawn graph: collapse namespaces, keep a focus neighbourhood, compute shares. */
export function buildGraph (t: Topology, opts: ViewOptions): GraphModel {
  const namespaces = [...new Set(t.nodes.map(namespaceOf))].sort()
  const byId = new Map(t.nodes.map(n => [n.id, n]))
  const mapped = new Map<string, string>()
  const nodes = new Map<string, GraphNode>()
  for (const n of t.nodes) {
    const ns = namespaceOf(n)
    if (opts.collapsed.has(ns)) {
      const id = nsNodeId(ns)
      mapped.set(n.id, id)
      let g = nodes.get(id)
      if (g === undefined) nodes.set(id, g = { id, kind: 'namespace', namespace: ns, label: ns, versions: [], instances: 0, healthy: 0, rps: null, successRate: null, p99Ms: null, health: 'idle', members: 0 })
      g.members++
      g.instances += n.instances
      g.healthy += n.healthy
      continue
    }
    mapped.set(n.id, n.id)
    const rps = n.rps ?? null
    nodes.set(n.id, {
      id: n.id,
      kind: n.kind,
      namespace: ns,
      label: n.id.includes('/') ? n.id.slice(n.id.lastIndexOf('/') + 1) : n.id,
      versions: n.versions.map(v => ({ name: v, rps: n.versionRps?.[v] ?? null })),
      instances: n.instances,
      healthy: n.healthy,
      rps,
      successRate: n.successRate ?? null,
      p99Ms: n.p99Ms ?? null,
      health: health(n.successRate, n.rps),
      members: 1
    })
  }
  const edges = new Map<string, GraphEdge & { failing: number }>()
  for (const e of t.edges) {
    const s = mapped.get(e.source) ?? e.source
    const d = mapped.get(e.destination) ?? e.destination
    if (s === d && s.startsWith('namespace:')) continue
    for (const id of [s, d]) {
      if (!nodes.has(id) && !byId.has(id)) nodes.set(id, { id, kind: 'service', namespace: 'default', label: id, versions: [], instances: 0, healthy: 0, rps: null, successRate: null, p99Ms: null, health: 'idle', members: 1 })
    }
    const id = `${s}->${d}`
    const prev = edges.get(id)
    const failing = e.successRate === null ? 0 : e.rps * (1 - e.successRate)
    if (prev === undefined) {
      edges.set(id, { id, source: s, target: d, protocol: e.protocol ?? 'http', mtls: e.mtls, rps: e.rps, successRate: e.successRate, p99Ms: e.p99Ms, share: null, health: 'idle', failing })
    } else {
      prev.rps += e.rps
      prev.failing += failing
      prev.successRate = prev.rps > 0 ? 1 - prev.failing / prev.rps : (prev.successRate ?? e.successRate)
      prev.p99Ms = Math.max(prev.p99Ms ?? 0, e.p99Ms ?? 0) || null
      if (prev.protocol !== (e.protocol ?? 'http')) prev.protocol = 'mixed'
      prev.mtls = prev.mtls === false || e.mtls === false ? false : prev.mtls ?? e.mtls
    }
  }
  const out = new Map<string, number>()
  for (const e of edges.values()) out.set(e.source, (out.get(e.source) ?? 0) + e.rps)
  for (const e of edges.values()) {
    const total = out.get(e.source) ?? 0
    e.share = total > 0 ? e.rps / total : null
    e.health = health(e.successRate, e.rps)
  }
  // A collapsed namespace's health: the worst of the traffic into it.
  for (const n of nodes.values()) {
    if (n.kind !== 'namespace') continue
    let rps = 0
    let failing = 0
    for (const e of edges.values()) if (e.target === n.id) { rps += e.rps; failing += e.failing }
    n.rps = rps
    n.successRate = rps > 0 ? 1 - failing / rps : null
    n.health = health(n.successRate, rps)
  }
  let nodeList = [...nodes.values()]
  let edgeList = [...edges.values()].map(({ failing: _f, ...e }) => e)
  if (opts.focus !== null && nodes.has(opts.focus)) {
    const keep = new Set([opts.focus])
    for (const e of edgeList) {
      if (e.source === opts.focus) keep.add(e.target)
      if (e.target === opts.focus) keep.add(e.source)
    }
    nodeList = nodeList.filter(n => keep.has(n.id))
    edgeList = edgeList.filter(e => keep.has(e.source) && keep.has(e.target))
  }
  return { nodes: nodeList, edges: edgeList, namespaces }
}

export function fmtNum (n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return n.toFixed(digits)
}

export function fmtPct (n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : `${(n * 100).toFixed(n >= 0.9995 ? 0 : 1)}%`
}

export function fmtMs (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–'
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(ms < 10 ? 1 : 0)}ms`
}

/** The metric under an edge for the chosen label mode. */
export function edgeMetric (e: GraphEdge, mode: EdgeLabelMode): string {
  switch (mode) {
    case 'rps': return `${fmtNum(e.rps)} rps`
    case 'success': return fmtPct(e.successRate)
    case 'p99': return `p99 ${fmtMs(e.p99Ms)}`
    case 'share': return e.share === null ? '–' : `${(e.share * 100).toFixed(0)}% share`
    case 'none': return ''
  }
}

/**
 * Traffic dots per edge: as many dots travel at once as the edge carries requests per second over ~4 rps each
 * (at least one on a live edge, at most 10), at ~90 px/s; a failing share of them is red.
 */
export function dotsFor (e: GraphEdge, length: number): { n: number, dur: number, red: number } {
  if (e.rps <= 0) return { n: 0, dur: 0, red: 0 }
  const n = Math.min(10, Math.max(1, Math.round(e.rps / 4)))
  const red = e.successRate === null ? 0 : Math.round(n * (1 - e.successRate))
  return { n, dur: Math.max(1.2, length / 90), red }
}
