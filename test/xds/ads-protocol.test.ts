/**
 * The ADS protocol as Envoy and gRPC clients speak it (xDS REST and gRPC protocol doc): versions, nonces,
 * ACK/NACK per type, stale nonces, wildcard and named subscriptions, state of the world and delta. The client
 * is @grpc/grpc-js carrying Envoy's own messages (protobufjs, published protos); grpc-js-xds speaks only
 * state of the world, so delta is driven message by message here.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { listXdsClients } from '../../src/controlplane/xds/list-clients.ts'
import { TYPE_URL, unpackAny } from '../../src/controlplane/xds/protos.ts'
import { jsonToStruct } from '../../src/controlplane/xds/xds-node.ts'
import { adsServiceDefinition } from '../../src/controlplane/xds/xds-server.ts'
import { AdsClient, registerInstance, XDS_MESH } from './helpers.ts'

let cp: ControlPlane
const clients: AdsClient[] = []
const regs: { close (): void }[] = []
const node = (id: string, meta: Record<string, string> = {}) => ({ id, user_agent_name: 'test-ads', metadata: jsonToStruct({ MESHWORK_CLIENT: 'grpc', MESHWORK_ENDPOINTS: 'app', ...meta }) })
const names = (res: any): string[] => res.resources.map((a: any) => (unpackAny(a) as any).name ?? (unpackAny(a) as any).cluster_name).sort()
const deltaNames = (res: any): string[] => res.resources.map((r: any) => r.name).sort()
const open = (mode: 'sotw' | 'delta'): AdsClient => { const c = new AdsClient(cp.xdsAddress!, mode, adsServiceDefinition()); clients.push(c); return c }
const policy = (maxRequests: number): string => `
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: reviews }
spec: { targetRef: { name: reviews }, connectionPool: { maxRequests: ${maxRequests} } }
`
const listing = (id: string) => listXdsClients(cp.xds!).find(c => c.id === id)

before(async () => {
  cp = await startControlPlane({ files: [XDS_MESH], port: 0, xdsPort: 0, disconnectGraceMs: 100 })
})

after(async () => {
  for (const c of clients) c.close()
  for (const r of regs) r.close()
  await cp?.close()
})

test('SotW: a named CDS subscription gets version and nonce; ACK → SYNCED; NACK is recorded, listed and not resent; a newer version clears it', async () => {
  const c = open('sotw')
  c.send({ node: node('sotw-cds'), type_url: TYPE_URL.cluster, resource_names: ['reviews'] })
  const r1 = await c.next()
  assert.equal(r1.type_url, TYPE_URL.cluster)
  assert.deepEqual(names(r1), ['reviews'])
  assert.ok(r1.version_info !== '' && r1.nonce !== '', 'version and nonce set')
  c.send({ type_url: TYPE_URL.cluster, resource_names: ['reviews'], version_info: r1.version_info, response_nonce: r1.nonce })
  assert.equal(await c.next(300), null, 'an ACK with the same subscription gets no response')
  assert.equal(listing('sotw-cds')?.types.CDS?.sync, 'SYNCED')

  assert.equal((await cp.apply(policy(10), 'p.yaml')).ok, true)
  const r2 = await c.next()
  assert.notEqual(r2.version_info, r1.version_info)
  assert.equal((unpackAny(r2.resources[0]) as any).circuit_breakers.thresholds[0].max_requests.value, 10)
  c.send({ type_url: TYPE_URL.cluster, resource_names: ['reviews'], version_info: r1.version_info, response_nonce: r2.nonce, error_detail: { code: 3, message: 'max_requests too low for this client' } })
  assert.equal(await c.next(300), null, 'the rejected version is not sent again')
  const l = listing('sotw-cds')!
  assert.equal(l.sync, 'NACKED')
  assert.equal(l.types.CDS?.lastNack?.message, 'max_requests too low for this client')
  assert.equal(l.types.CDS?.lastNack?.version, r2.version_info)
  assert.ok(cp.xds!.counters.nacks >= 1, 'NACK counted')
  // What `meshwork get xds-clients` reads.
  const api = await (await fetch(new URL('/v1/xds-clients', cp.url))).json() as any[]
  assert.equal(api.find(x => x.id === 'sotw-cds')?.sync, 'NACKED')

  assert.equal((await cp.apply(policy(20), 'p.yaml')).ok, true)
  const r3 = await c.next()
  c.send({ type_url: TYPE_URL.cluster, resource_names: ['reviews'], version_info: r3.version_info, response_nonce: r3.nonce })
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.equal(listing('sotw-cds')?.sync, 'SYNCED')
  assert.equal(listing('sotw-cds')?.types.CDS?.lastNack, null)
})

test('SotW: an empty first CDS request is a wildcard (every cluster); a stale nonce is ignored', async () => {
  const c = open('sotw')
  c.send({ node: node('sotw-wild'), type_url: TYPE_URL.cluster, resource_names: [] })
  const r1 = await c.next()
  assert.deepEqual(names(r1), ['productpage', 'productpage-v1', 'reviews', 'reviews-v1', 'reviews-v2'])
  c.send({ type_url: TYPE_URL.cluster, resource_names: ['reviews'], version_info: r1.version_info, response_nonce: 'not-the-last-nonce' })
  assert.equal(await c.next(300), null)
  assert.deepEqual(listing('sotw-wild')?.types.CDS?.subscribed, ['*'])
})

test('SotW: LDS answers gRPC target aliases (reviews:9080, FQDN) and leaves unknown names out (does not exist)', async () => {
  const c = open('sotw')
  c.send({ node: node('sotw-lds'), type_url: TYPE_URL.listener, resource_names: ['reviews:9080', 'reviews.default.svc.cluster.local:9080', 'nope'] })
  const r = await c.next()
  assert.deepEqual(names(r), ['reviews.default.svc.cluster.local:9080', 'reviews:9080'])
})

test('SotW: endpoint churn pushes only the changed ClusterLoadAssignment; a route change pushes no EDS', async () => {
  const c = open('sotw')
  c.send({ node: node('sotw-eds'), type_url: TYPE_URL.endpoint, resource_names: ['reviews-v1', 'reviews-v2'] })
  const r1 = await c.next()
  assert.deepEqual(names(r1), ['reviews-v1', 'reviews-v2'])
  c.send({ type_url: TYPE_URL.endpoint, resource_names: ['reviews-v1', 'reviews-v2'], version_info: r1.version_info, response_nonce: r1.nonce })
  const reg = await registerInstance(cp.url, { id: 'eds-v1', service: 'reviews', version: 'v1', app: 45678 })
  regs.push(reg)
  let r2 = await c.next()
  // Registration (unhealthy) and health report may come as two pushes; the last says HEALTHY.
  for (;;) {
    assert.deepEqual(names(r2), ['reviews-v1'])
    c.send({ type_url: TYPE_URL.endpoint, resource_names: ['reviews-v1', 'reviews-v2'], version_info: r2.version_info, response_nonce: r2.nonce })
    const ep = (unpackAny(r2.resources[0]) as any).endpoints[0].lb_endpoints[0]
    if (ep.health_status === 'HEALTHY') { assert.equal(ep.endpoint.address.socket_address.port_value, 45678); break }
    r2 = await c.next()
  }
  const res = await cp.apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: only-v2 }
spec:
  parentRefs: [{ kind: Service, name: reviews }]
  rules: [{ backendRefs: [{ name: reviews-v2 }] }]
`, 'route.yaml')
  assert.equal(res.ok, true)
  assert.equal(await c.next(300), null)
})

test('delta: wildcard CDS sends each cluster once; a new Workload sends only its clusters; deleting it sends removed_resources', async () => {
  const c = open('delta')
  c.send({ node: node('delta-cds'), type_url: TYPE_URL.cluster, resource_names_subscribe: [] })
  const r1 = await c.next()
  assert.deepEqual(deltaNames(r1), ['productpage', 'productpage-v1', 'reviews', 'reviews-v1', 'reviews-v2'])
  for (const r of r1.resources) assert.match(r.version, /^[0-9a-f]{16}$/)
  c.send({ type_url: TYPE_URL.cluster, response_nonce: r1.nonce })
  const add = await cp.apply(`
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: ratings-v1 }
spec: { service: ratings, version: v1, port: 9080, protocol: h2, command: [node, ratings.mjs] }
`, 'ratings.yaml')
  assert.equal(add.ok, true)
  const r2 = await c.next()
  assert.deepEqual(deltaNames(r2), ['ratings', 'ratings-v1'])
  assert.deepEqual(r2.removed_resources, [])
  c.send({ type_url: TYPE_URL.cluster, response_nonce: r2.nonce })
  assert.equal((await cp.delete(['Workload/default/ratings-v1'])).ok, true)
  const r3 = await c.next()
  assert.deepEqual(r3.resources, [])
  assert.deepEqual([...r3.removed_resources].sort(), ['ratings', 'ratings-v1'])
  c.send({ type_url: TYPE_URL.cluster, response_nonce: r3.nonce, error_detail: { code: 13, message: 'refused on purpose' } })
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.equal(listing('delta-cds')?.types.CDS?.sync, 'NACKED')
  assert.equal(listing('delta-cds')?.protocol, 'delta')
})

test('delta: initial_resource_versions that are current get nothing; an unknown subscribed name comes back in removed_resources', async () => {
  const first = open('delta')
  first.send({ node: node('delta-resume'), type_url: TYPE_URL.cluster, resource_names_subscribe: ['reviews', 'reviews-v1'] })
  const r1 = await first.next()
  const held = Object.fromEntries(r1.resources.map((r: any) => [r.name, r.version]))
  first.close()
  const again = open('delta')
  again.send({ node: node('delta-resume'), type_url: TYPE_URL.cluster, resource_names_subscribe: ['reviews', 'reviews-v1'], initial_resource_versions: held })
  assert.equal(await again.next(300), null, 'nothing changed while away: nothing is sent')
  again.send({ type_url: TYPE_URL.cluster, resource_names_subscribe: ['no-such-cluster'] })
  const r2 = await again.next()
  assert.deepEqual(r2.resources, [])
  assert.deepEqual(r2.removed_resources, ['no-such-cluster'])
})

test('delta EDS: churn sends only the changed assignment; unsubscribe then subscribe sends it again', async () => {
  const c = open('delta')
  c.send({ node: node('delta-eds'), type_url: TYPE_URL.endpoint, resource_names_subscribe: ['reviews-v1', 'reviews-v2'] })
  const r1 = await c.next()
  assert.deepEqual(deltaNames(r1), ['reviews-v1', 'reviews-v2'])
  c.send({ type_url: TYPE_URL.endpoint, response_nonce: r1.nonce })
  const reg = await registerInstance(cp.url, { id: 'delta-eds-v2', service: 'reviews', version: 'v2', app: 45679 })
  regs.push(reg)
  const r2 = await c.next()
  assert.deepEqual(deltaNames(r2), ['reviews-v2'])
  c.send({ type_url: TYPE_URL.endpoint, response_nonce: r2.nonce })
  while (await c.next(300) !== null) { /* the health report's push, if separate */ }
  c.send({ type_url: TYPE_URL.endpoint, resource_names_unsubscribe: ['reviews-v2'] })
  assert.equal(await c.next(300), null)
  c.send({ type_url: TYPE_URL.endpoint, resource_names_subscribe: ['reviews-v2'] })
  const r3 = await c.next()
  assert.deepEqual(deltaNames(r3), ['reviews-v2'])
})
