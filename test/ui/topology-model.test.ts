// The topology page's model (ui/src/topology): health thresholds, collapsing a namespace, focus, traffic shares,
// and the dagre layout keeping boxes apart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { syntheticTopology } from '../../ui/src/topology/fixture.ts'
import { layoutGraph } from '../../ui/src/topology/layout.ts'
import { buildGraph, dotsFor, edgeMetric, health, type Topology } from '../../ui/src/topology/model.ts'

const none = { collapsed: new Set<string>(), focus: null }

test('health: ≥ 99.5 % healthy, ≥ 95 % degraded, below failing, no traffic idle', () => {
  assert.equal(health(1, 5), 'healthy')
  assert.equal(health(0.995, 5), 'healthy')
  assert.equal(health(0.994, 5), 'degraded')
  assert.equal(health(0.95, 5), 'degraded')
  assert.equal(health(0.949, 5), 'failing')
  assert.equal(health(null, 0), 'idle')
  assert.equal(health(1, 0), 'idle')
})

const T: Topology = {
  updatedAt: 0,
  nodes: [
    { id: 'ingress', kind: 'gateway', versions: [], instances: 1, healthy: 1 },
    { id: 'a', kind: 'service', namespace: 'x', versions: ['v1'], instances: 1, healthy: 1 },
    { id: 'b', kind: 'service', namespace: 'y', versions: ['v1', 'v2'], instances: 2, healthy: 2 },
    { id: 'c', kind: 'service', namespace: 'y', versions: ['v1'], instances: 1, healthy: 1 }
  ],
  edges: [
    { source: 'ingress', destination: 'a', rps: 10, successRate: 1, p99Ms: 5, mtls: true },
    { source: 'a', destination: 'b', rps: 6, successRate: 0.5, p99Ms: 9, protocol: 'grpc', mtls: true },
    { source: 'a', destination: 'c', rps: 2, successRate: 1, p99Ms: 20, mtls: false },
    { source: 'b', destination: 'c', rps: 1, successRate: 1, p99Ms: 3 }
  ]
}

test('edges carry their share of the caller\'s outbound rate and the label mode picks the metric', () => {
  const g = buildGraph(T, none)
  const ab = g.edges.find(e => e.id === 'a->b')!
  assert.equal(ab.share, 0.75)
  assert.equal(ab.health, 'failing')
  assert.equal(edgeMetric(ab, 'rps'), '6.0 rps')
  assert.equal(edgeMetric(ab, 'success'), '50.0%')
  assert.equal(edgeMetric(ab, 'p99'), 'p99 9.0ms')
  assert.equal(edgeMetric(ab, 'share'), '75% share')
  assert.deepEqual(g.namespaces, ['default', 'x', 'y'])
})

test('a collapsed namespace is one node; edges into it merge (rates add, failures weigh, mTLS only if all are)', () => {
  const g = buildGraph(T, { collapsed: new Set(['y']), focus: null })
  assert.deepEqual(g.nodes.map(n => n.id).sort(), ['a', 'ingress', 'namespace:y'])
  const into = g.edges.find(e => e.id === 'a->namespace:y')!
  assert.equal(into.rps, 8)
  assert.equal(into.successRate, 1 - 3 / 8)
  assert.equal(into.protocol, 'mixed')
  assert.equal(into.mtls, false)
  assert.equal(g.edges.some(e => e.id === 'namespace:y->namespace:y'), false)
  assert.equal(g.nodes.find(n => n.id === 'namespace:y')!.members, 2)
})

test('focus keeps a node and its direct callers and callees', () => {
  const g = buildGraph(T, { collapsed: new Set(), focus: 'b' })
  assert.deepEqual(g.nodes.map(n => n.id).sort(), ['a', 'b', 'c'])
  assert.deepEqual(g.edges.map(e => e.id).sort(), ['a->b', 'a->c', 'b->c'])
})

test('traffic dots grow with the rate (1 … 10 per edge) and a failing share of them is red', () => {
  const e = buildGraph(T, none).edges
  const at = (id: string) => dotsFor(e.find(x => x.id === id)!, 300)
  assert.equal(dotsFor({ ...e[0], rps: 0 }, 300).n, 0)
  assert.equal(at('b->c').n, 1)
  assert.ok(at('ingress->a').n > at('a->c').n)
  assert.equal(dotsFor({ ...e[0], rps: 1000 }, 300).n, 10)
  assert.equal(at('a->b').red, Math.round(at('a->b').n * 0.5))
})

test('layout of 120 services: node boxes, edge labels and namespace boxes do not overlap', () => {
  const t = syntheticTopology(120)
  const g = buildGraph(t, none)
  const l = layoutGraph(g)
  assert.equal(l.nodes.size, 121)
  const boxes = [...[...l.nodes].map(([id, b]) => ({ id, ...b })), ...[...l.edges].map(([id, e]) => ({ id: `label ${id}`, ...e.label }))]
  const hits: string[] = []
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]
      const b = boxes[j]
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) hits.push(`${a.id} × ${b.id}`)
    }
  }
  assert.deepEqual(hits, [])
  const ns = l.namespaces
  for (let i = 0; i < ns.length; i++) {
    for (let j = i + 1; j < ns.length; j++) {
      const a = ns[i]
      const b = ns[j]
      assert.ok(!(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h), `${a.name} × ${b.name}`)
    }
  }
  for (const b of boxes) assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.w <= l.width && b.y + b.h <= l.height, `${b.id} inside the drawing`)
})
