import type { Topology, TopologyEdge, TopologyNode } from './model.ts'

// A synthetic mesh for the UI's scale tests (`?fixture=synthetic-120` in the page URL): 120 services in 6
// namespaces behind one ingress, with every health colour, protocol and mTLS state. The normal path never uses it.

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMESPACES = ['shop', 'payments', 'catalog', 'identity', 'search', 'ops']

export function syntheticTopology (services = 120, seed = 17): Topology {
  const r = rng(seed)
  const nodes: TopologyNode[] = [{ id: 'ingress', kind: 'gateway', namespace: 'gateways', versions: [], instances: 1, healthy: 1 }]
  const edges: TopologyEdge[] = []
  const perNs = Math.ceil(services / NAMESPACES.length)
  const byNs = new Map<string, string[]>()
  for (let i = 0; i < services; i++) {
    const ns = NAMESPACES[Math.floor(i / perNs)]
    const id = `${ns}-svc-${String(i % perNs).padStart(2, '0')}`
    const versions = r() < 0.25 ? ['v1', 'v2'] : r() < 0.08 ? ['v1', 'v2', 'v3'] : ['v1']
    const roll = r()
    const successRate = roll < 0.06 ? null : roll < 0.12 ? 0.9 : roll < 0.2 ? 0.97 : 1
    const rps = successRate === null ? 0 : Math.round((1 + r() * 60) * 10) / 10
    const versionRps: Record<string, number> = {}
    versions.forEach((v, k) => { versionRps[v] = Math.round((rps / versions.length) * (k === 0 ? 1.2 : 0.8) * 10) / 10 })
    nodes.push({ id, kind: 'service', namespace: ns, versions, instances: versions.length, healthy: versions.length, versionRps, rps, successRate, p50Ms: 2 + r() * 8, p99Ms: 10 + r() * 200 })
    byNs.set(ns, [...(byNs.get(ns) ?? []), id])
  }
  const node = new Map(nodes.map(n => [n.id, n]))
  const edge = (source: string, destination: string): void => {
    if (source === destination || edges.some(e => e.source === source && e.destination === destination)) return
    const d = node.get(destination)!
    const roll = r()
    edges.push({
      source,
      destination,
      protocol: roll < 0.2 ? 'grpc' : roll < 0.27 ? 'tcp' : 'http',
      mtls: r() > 0.1,
      rps: d.rps === 0 ? 0 : Math.round((0.5 + r() * 40) * 10) / 10,
      successRate: d.successRate ?? null,
      p99Ms: d.p99Ms ?? null
    })
  }
  for (const [, ids] of byNs) {
    // Layered call tree within the namespace: 1 front service, then ~3 per layer.
    edge('ingress', ids[0])
    for (let k = 1; k < ids.length; k++) edge(ids[Math.floor((k - 1) / 3)], ids[k])
  }
  const all = nodes.filter(n => n.kind === 'service').map(n => n.id)
  for (let k = 0; k < services / 6; k++) edge(all[Math.floor(r() * all.length)], all[Math.floor(r() * all.length)])
  return { nodes, edges, updatedAt: Date.now(), mtlsMode: 'STRICT' }
}

/** What `/services/:name` answers for a fixture service: its proxies with identity fields, nothing else. */
export function syntheticService (t: Topology, name: string): unknown {
  const n = t.nodes.find(x => x.id === name)
  if (n === undefined) return null
  const ns = n.namespace ?? 'default'
  return {
    name,
    workloads: [],
    routes: [],
    policies: [],
    proxies: n.versions.map((v, i) => ({
      id: `${name}-${v}-0`,
      role: n.kind === 'gateway' ? name : 'sidecar',
      service: name,
      version: v,
      connected: true,
      healthy: true,
      ackedVersion: '7',
      identity: `spiffe://meshwork.local/ns/${ns}/sa/${name}`,
      attestation: i === 0 ? 'join-token' : 'k8s-token-review',
      certNotAfter: new Date(Date.UTC(2030, 0, 1, 12, 0, 0)).toISOString()
    })),
    golden: null,
    history: [],
    callers: t.edges.filter(e => e.destination === name),
    callees: t.edges.filter(e => e.source === name)
  }
}
