// GRPCRoute and gRPC golden signals with real parts: grpc-js client → client sidecar (GRPCRoute) ══mTLS STRICT══▶
// two server sidecars → two grpc-js servers; the management plane's collector scrapes the client sidecar's
// /metrics and the topology shows a gRPC edge whose non-OK statuses count as failures.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { parseResources, type Resource } from '../../src/config/index.ts'
import { MetricsCollector } from '../../src/management/metrics-collector.ts'
import { buildTopology } from '../../src/management/topology.ts'
import { echoClient, type EchoServer, type Mesh, startEchoServer, startMesh, startServerSidecar, unary } from '../dataplane/grpc-harness.ts'
import type { RunningProxy } from '../dataplane/helpers.ts'

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: echo }
spec:
  parentRefs: [{ kind: Service, name: echo, port: 50051 }]
  rules:
    - matches:
        - method: { service: meshwork.test.Echo, method: Unary }
          headers: [{ name: x-canary, value: "1" }]
      backendRefs: [{ name: echo-v2 }]
    - matches: [{ method: { service: meshwork.test.Echo } }]
      backendRefs: [{ name: echo-v1 }]
`
const resources: Resource[] = parseResources(ROUTE, 'route.yaml').map(l => l.resource)

let a: EchoServer
let b: EchoServer
let mesh: Mesh
let v2: RunningProxy
let client: ReturnType<typeof echoClient>

before(async () => {
  a = await startEchoServer('a')
  b = await startEchoServer('b')
  mesh = await startMesh([a.port])
  const second = await startServerSidecar(mesh, 'echo-v2-0', b.port)
  v2 = second.proxy
  const r = mesh.client.proxy.applySnapshot({
    version: 'c2',
    node: { id: 'client-v1-0', service: 'client' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 50051, versions: ['v1', 'v2'], endpoints: [mesh.endpoints[0], { ...second.endpoint, version: 'v2' }] }],
    grpcRoutes: resources
  })
  assert.equal(r.ok, true, r.ok ? '' : r.error.message)
  client = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
})

after(async () => {
  client?.close()
  await v2?.close()
  await mesh?.close()
  await a?.close()
  await b?.close()
})

test('a GRPCRoute routes real grpc-js calls by method and header; gRPC errors are failures of the gRPC edge', async () => {
  const collector = new MetricsCollector({ targets: () => [{ url: `http://127.0.0.1:${mesh.client.admin}/metrics`, proxyId: 'client-v1-0', role: 'sidecar', service: 'client' }], intervalMs: 60_000 })
  // the collector turns counter deltas into signals: one call before its first scrape gives it a baseline
  assert.equal((await unary(client, { message: 'warm-up' })).reply?.servedBy, 'a')
  await collector.scrapeOnce()
  const canary = new grpc.Metadata()
  canary.set('x-canary', '1')
  const served: string[] = []
  for (let i = 0; i < 10; i++) served.push((await unary(client, { message: 'plain' })).reply!.servedBy)
  for (let i = 0; i < 5; i++) served.push((await unary(client, { message: 'canary' }, canary)).reply!.servedBy)
  assert.deepEqual(served, [...Array(10).fill('a'), ...Array(5).fill('b')])
  // the app's own errors travel in HTTP 200 responses: 4 UNAVAILABLE, 2 NOT_FOUND
  const codes: number[] = []
  for (const status of [14, 14, 14, 14, 5, 5]) codes.push((await unary(client, { status, statusMessage: 'no' })).err!.code)
  assert.deepEqual(codes, [14, 14, 14, 14, 5, 5])
  await collector.scrapeOnce()
  const edge = buildTopology(resources, [], collector).edges.find(e => e.source === 'client' && e.destination === 'echo')
  assert.ok(edge !== undefined, JSON.stringify([...collector.edges.values()]))
  assert.equal(edge.protocol, 'grpc')
  assert.ok(Math.abs(edge.successRate! - 15 / 21) < 1e-9, `success ${edge.successRate}`)
  assert.deepEqual([...(collector.versions.get('echo')?.keys() ?? [])].sort(), ['v1', 'v2'])
})
