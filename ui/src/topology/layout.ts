import dagre from '@dagrejs/dagre'
import type { GraphModel, GraphNode } from './model.ts'

// Layered layout (dagre, Sugiyama-style) of the app graph left to right, each namespace a compound cluster.

export const NODE_W = 200
export const GATEWAY_W = 150
export const HEADER_H = 52
export const VERSION_H = 22
export const LABEL_W = 100
export const LABEL_H = 34
/** Room at the top of a namespace box for its title. */
export const NS_TITLE_H = 24
const NS_PAD = 14

export interface Box { x: number, y: number, w: number, h: number }
export interface Layout {
  nodes: Map<string, Box>
  edges: Map<string, { points: Array<{ x: number, y: number }>, label: Box }>
  namespaces: Array<{ name: string } & Box>
  width: number
  height: number
}

export function nodeSize (n: GraphNode): { w: number, h: number } {
  if (n.kind === 'gateway') return { w: GATEWAY_W, h: HEADER_H }
  if (n.kind === 'namespace') return { w: NODE_W, h: HEADER_H + 6 }
  return { w: NODE_W, h: HEADER_H + n.versions.length * VERSION_H + (n.versions.length > 0 ? 6 : 0) }
}

/**
 * Positions of nodes (top-left boxes), edge routes with their label boxes, and namespace boxes. Only the graph's
 * shape matters (ids, versions, edges), so live numbers changing never move anything.
 */
export function layoutGraph (g: GraphModel): Layout {
  const d = new dagre.graphlib.Graph({ compound: true, multigraph: false })
  d.setGraph({ rankdir: 'LR', nodesep: 46, ranksep: 70, edgesep: 16, marginx: 16, marginy: 16 })
  d.setDefaultEdgeLabel(() => ({}))
  const clustered = new Set<string>()
  for (const n of g.nodes) {
    const s = nodeSize(n)
    d.setNode(n.id, { width: s.w, height: s.h })
    if (n.kind !== 'namespace') {
      const c = `cluster:${n.namespace}`
      if (!clustered.has(c)) { d.setNode(c, {}); clustered.add(c) }
      d.setParent(n.id, c)
    }
  }
  for (const e of g.edges) {
    if (e.source === e.target) continue
    d.setEdge(e.source, e.target, { width: LABEL_W, height: LABEL_H, labelpos: 'c' })
  }
  dagre.layout(d)
  const nodes = new Map<string, Box>()
  for (const n of g.nodes) {
    const l = d.node(n.id)
    nodes.set(n.id, { x: (l.x ?? 0) - l.width / 2, y: (l.y ?? 0) - l.height / 2, w: l.width, h: l.height })
  }
  const edges: Layout['edges'] = new Map()
  for (const e of g.edges) {
    if (e.source === e.target) continue
    const l = d.edge(e.source, e.target)
    if (l === undefined) continue
    edges.set(e.id, { points: l.points ?? [], label: { x: (l.x ?? 0) - LABEL_W / 2, y: (l.y ?? 0) - LABEL_H / 2, w: LABEL_W, h: LABEL_H } })
  }
  // A namespace box hugs its members (plus a title band), computed from them rather than dagre's cluster border,
  // which leaves no room for a title.
  const namespaces: Layout['namespaces'] = []
  for (const c of clustered) {
    const name = c.slice('cluster:'.length)
    const members = g.nodes.filter(n => n.kind !== 'namespace' && n.namespace === name).map(n => nodes.get(n.id)!)
    const x0 = Math.min(...members.map(b => b.x)) - NS_PAD
    const y0 = Math.min(...members.map(b => b.y)) - NS_PAD - NS_TITLE_H
    const x1 = Math.max(...members.map(b => b.x + b.w)) + NS_PAD
    const y1 = Math.max(...members.map(b => b.y + b.h)) + NS_PAD
    namespaces.push({ name, x: x0, y: y0, w: x1 - x0, h: y1 - y0 })
  }
  // Shift everything so the namespace boxes' titles are inside the drawing.
  const all = [...nodes.values(), ...namespaces, ...[...edges.values()].map(e => e.label)]
  const minX = Math.min(0, ...all.map(b => b.x)) - 8
  const minY = Math.min(0, ...all.map(b => b.y)) - 8
  const shift = (b: Box): void => { b.x -= minX; b.y -= minY }
  for (const b of nodes.values()) shift(b)
  for (const b of namespaces) shift(b)
  for (const e of edges.values()) {
    shift(e.label)
    for (const p of e.points) { p.x -= minX; p.y -= minY }
  }
  const width = Math.max(...all.map(b => b.x + b.w), 100) + 16
  const height = Math.max(...all.map(b => b.y + b.h), 100) + 16
  return { nodes, edges, namespaces, width, height }
}
