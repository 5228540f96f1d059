import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { parseResources, type Resource } from '../config/index.ts'
import { isFailure, MetricsCollector } from './metrics-collector.ts'
import { buildTopology } from './topology.ts'

// Two scrape targets over real sockets, each exporting its counters in the proxies' Prometheus text format:
// the reviews sidecar (outbound calls to stars over gRPC and to ratings over HTTP) and the stars sidecar (inbound).
let metrics: Record<string, string> = {}
let server: Server
let base = ''

before(async () => {
  server = createServer((req, res) => {
    const body = metrics[req.url ?? ''] ?? ''
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
after(() => { server.close() })

const line = (labels: Record<string, string>, value: number): string =>
  `meshwork_requests_total{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} ${value}`

function reviewsText (n: { ok: number, unavailable: number, notFound: number, http: number, http5xx: number }, grpcLabel = true): string {
  const g = (code: string, grpcStatus: string, v: number) => line({
    direction: 'outbound', source: 'reviews', destination: 'stars', destination_version: 'v1', route: 'stars', code, class: `${code[0]}xx`,
    ...(grpcLabel ? { grpc_status: grpcStatus } : {})
  }, v)
  const h = (code: string, v: number) => line({
    direction: 'outbound', source: 'reviews', destination: 'ratings', destination_version: 'v1', route: 'ratings', code, class: `${code[0]}xx`,
    ...(grpcLabel ? { grpc_status: '' } : {})
  }, v)
  return ['# TYPE meshwork_requests_total counter', g('200', '0', n.ok), g('200', '14', n.unavailable), g('200', '5', n.notFound), h('200', n.http), h('503', n.http5xx), ''].join('\n')
}

const MESH: Resource[] = parseResources(`apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: stars-v1 }
spec: { service: stars, port: 9080, protocol: h2, command: [node, stars.mjs] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: stars }
spec:
  parentRefs: [{ name: stars }]
  rules: [{ backendRefs: [{ name: stars-v1 }] }]
`, 'mesh.yaml').map(l => l.resource)

function collector (): MetricsCollector {
  return new MetricsCollector({ targets: () => [{ url: `${base}/reviews`, proxyId: 'reviews-v3-0', role: 'sidecar', service: 'reviews', version: 'v3' }], intervalMs: 60_000 })
}

test('a gRPC error (grpc_status set and not 0, in an HTTP 200) counts as a failure; a 5xx too; OK and "" do not', () => {
  assert.equal(isFailure('200', '0'), false)
  assert.equal(isFailure('200', ''), false)
  assert.equal(isFailure('200', undefined), false)
  assert.equal(isFailure('200', '14'), true)
  assert.equal(isFailure('503', ''), true)
  assert.equal(isFailure('0', undefined), true)
})

test('topology: the reviews → stars edge is gRPC with its gRPC failures counted; reviews → ratings stays HTTP', async () => {
  const c = collector()
  metrics = { '/reviews': reviewsText({ ok: 100, unavailable: 0, notFound: 0, http: 50, http5xx: 0 }) }
  await c.scrapeOnce()
  await new Promise(resolve => setTimeout(resolve, 50))
  // 40 more calls: 30 OK, 6 UNAVAILABLE, 4 NOT_FOUND → 75 % success; 20 HTTP calls, 2 of them 503 → 90 %
  metrics = { '/reviews': reviewsText({ ok: 130, unavailable: 6, notFound: 4, http: 68, http5xx: 2 }) }
  await c.scrapeOnce()
  const t = buildTopology(MESH, [], c)
  const stars = t.edges.find(e => e.source === 'reviews' && e.destination === 'stars')!
  assert.equal(stars.protocol, 'grpc')
  assert.equal(stars.successRate, 0.75)
  const ratings = t.edges.find(e => e.destination === 'ratings')!
  assert.equal(ratings.protocol, 'http')
  assert.equal(ratings.successRate, 0.9)
})

test('topology: without a grpc_status label the config decides (a GRPCRoute sends to stars); mixed edges say so', async () => {
  const c = collector()
  metrics = { '/reviews': reviewsText({ ok: 10, unavailable: 0, notFound: 0, http: 10, http5xx: 0 }, false) }
  await c.scrapeOnce()
  await new Promise(resolve => setTimeout(resolve, 20))
  metrics = { '/reviews': reviewsText({ ok: 20, unavailable: 0, notFound: 0, http: 20, http5xx: 0 }, false) }
  await c.scrapeOnce()
  const t = buildTopology(MESH, [], c)
  assert.equal(t.edges.find(e => e.destination === 'stars')?.protocol, 'grpc')
  assert.equal(t.edges.find(e => e.destination === 'ratings')?.protocol, 'http')
  const mixed = collector()
  const both = (n: number) => [reviewsText({ ok: n, unavailable: 0, notFound: 0, http: 0, http5xx: 0 }), line({ direction: 'outbound', source: 'reviews', destination: 'stars', destination_version: 'v1', route: 'stars', code: '200', class: '2xx', grpc_status: '' }, n)].join('\n')
  metrics = { '/reviews': both(5) }
  await mixed.scrapeOnce()
  await new Promise(resolve => setTimeout(resolve, 20))
  metrics = { '/reviews': both(9) }
  await mixed.scrapeOnce()
  assert.equal(buildTopology(MESH, [], mixed).edges.find(e => e.destination === 'stars')?.protocol, 'mixed')
})

test('topology: nodes carry their namespace; calls to mesh services are mTLS unless the MeshConfig disables it', async () => {
  const c = collector()
  metrics = { '/reviews': reviewsText({ ok: 10, unavailable: 0, notFound: 0, http: 10, http5xx: 0 }) }
  await c.scrapeOnce()
  await new Promise(resolve => setTimeout(resolve, 20))
  metrics = { '/reviews': reviewsText({ ok: 20, unavailable: 0, notFound: 0, http: 20, http5xx: 0 }) }
  await c.scrapeOnce()
  const t = buildTopology(MESH, [], c)
  assert.equal(t.mtlsMode, 'STRICT')
  assert.equal(t.nodes.find(n => n.id === 'stars')?.namespace, 'default')
  // stars has Workloads (sidecars): mTLS; ratings is not in this config (no sidecar known): plain
  assert.equal(t.edges.find(e => e.destination === 'stars')?.mtls, true)
  assert.equal(t.edges.find(e => e.destination === 'ratings')?.mtls, false)
  const off = [...parseResources('apiVersion: meshwork.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: mesh }\nspec: { mtls: { mode: DISABLE } }\n', 'mesh.yaml').map(l => l.resource), ...MESH]
  const t2 = buildTopology(off, [], c)
  assert.equal(t2.mtlsMode, 'DISABLE')
  assert.equal(t2.edges.find(e => e.destination === 'stars')?.mtls, false)
})
