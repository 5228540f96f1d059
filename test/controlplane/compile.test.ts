import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadResourceFiles } from '../../src/config/load.ts'
import { checkSnapshot } from '../../src/config/snapshot.ts'
import { buildMeshView } from '../../src/controlplane/mesh-view.ts'
import { compileSnapshot } from '../../src/controlplane/compile.ts'
import { ProxyHello } from '../../src/controlplane/protocol.ts'
import { Registry } from '../../src/controlplane/registry.ts'

const MESH = new URL('./fixtures/mesh.yaml', import.meta.url).pathname

async function setup () {
  const view = buildMeshView(await loadResourceFiles([MESH]))
  const registry = new Registry({ trustDomain: 'test.local' })
  registry.view = view
  const hello = (h: unknown) => ProxyHello.parse(h)
  registry.connect(hello({ id: 'backend-v1-0', service: 'backend', version: 'v1', inbound: { port: 15001 }, app: { port: 9001 } }), 's1')
  registry.connect(hello({ id: 'backend-v2-0', service: 'backend', version: 'v2', inbound: { port: 15002 }, app: { port: 9002 } }), 's2')
  const compile = (h: unknown) => compileSnapshot({ view, endpoints: (ns, s) => registry.endpoints(ns, s), trustDomain: 'test.local', version: '1' }, hello(h))
  return { view, registry, compile }
}

test('a sidecar gets every service, the Service routes, its localApp and only its own inbound policies', async () => {
  const { compile } = await setup()
  const snap = checkSnapshot(compile({ id: 'backend-v1-0', service: 'backend', version: 'v1', inbound: { port: 15001 }, app: { port: 9001 } }))
  assert.deepEqual(snap.services.map(s => s.name).sort(), ['backend', 'frontend'])
  assert.deepEqual(snap.routes.map(r => r.metadata.name), ['backend'])
  assert.deepEqual(snap.gateways, [])
  assert.deepEqual(snap.faultInjections.map(f => f.metadata.name), ['backend-delay'])
  assert.deepEqual(snap.authorizationPolicies, [], 'frontend\'s authz is not backend\'s business')
  assert.deepEqual(snap.destinationPolicies.map(p => p.metadata.name), ['backend'])
  assert.deepEqual(snap.localApp, { address: '127.0.0.1', port: 9001, protocol: 'http1', readinessPath: '/healthz' })
  assert.equal(snap.node.identity, 'spiffe://test.local/ns/default/sa/backend-sa')
  assert.equal(snap.mesh.trustDomain, 'test.local')
  const backend = snap.services.find(s => s.name === 'backend')!
  assert.deepEqual(backend.endpoints.map(e => `${e.id}@${e.port}/${e.version}`), ['backend-v1-0@15001/v1', 'backend-v2-0@15002/v2'])
  assert.ok(backend.endpoints.every(e => e.tls && e.identity === 'spiffe://test.local/ns/default/sa/backend-sa'))
  assert.deepEqual(backend.versions, ['v1', 'v2'])
  const frontend = compile({ id: 'fe', service: 'frontend', version: 'v1', inbound: { port: 15003 }, app: { port: 9003 } })
  assert.deepEqual((frontend.authorizationPolicies ?? []).map(p => p.metadata.name), ['frontend-allow'])
  assert.deepEqual(frontend.faultInjections, [])
  assert.equal(frontend.localApp?.readinessPath, '/ready')
})

test('a gateway gets its Gateway, the routes attached to it and only their backends', async () => {
  const { compile } = await setup()
  const snap = checkSnapshot(compile({ id: 'ingress-0', role: 'ingress', gateway: { name: 'ingress' } }))
  assert.deepEqual(snap.gateways.map(g => g.metadata.name), ['ingress'])
  assert.deepEqual(snap.routes.map(r => r.metadata.name), ['frontend-ingress'])
  assert.deepEqual(snap.services.map(s => s.name), ['frontend'])
  assert.equal(snap.localApp, undefined)
  assert.equal(snap.node.identity, 'spiffe://test.local/ns/default/sa/ingress')
  // Without a name, an ingress serves every Gateway of class meshwork.
  const unnamed = compile({ id: 'ingress-1', role: 'ingress' })
  assert.deepEqual(unnamed.gateways?.map(g => g.metadata.name), ['ingress'])
  const egress = compile({ id: 'egress-0', role: 'egress' })
  assert.deepEqual(egress.gateways, [])
})

test('a version with no instance up is still a known backend name (503 at runtime, not a NACK)', async () => {
  const { view } = await setup()
  const registry = new Registry({ trustDomain: 'test.local' })
  registry.view = view
  const snap = compileSnapshot({ view, endpoints: (ns, s) => registry.endpoints(ns, s), trustDomain: 'test.local', version: '1' }, ProxyHello.parse({ id: 'x', service: 'frontend' }))
  assert.doesNotThrow(() => checkSnapshot(snap))
})

test('endpoints follow proxy health and leave after the disconnect grace', async () => {
  const view = buildMeshView(await loadResourceFiles([MESH]))
  const registry = new Registry({ trustDomain: 'test.local', disconnectGraceMs: 50 })
  registry.view = view
  const rec = registry.connect(ProxyHello.parse({ id: 'b', service: 'backend', version: 'v1', inbound: { port: 15001 }, app: { port: 9001 } }), 's1')
  assert.equal(registry.endpoints('default', 'backend')[0].healthy, false, 'unhealthy until the sidecar reports its app')
  const gen = registry.generation
  registry.setHealth(rec, true)
  assert.equal(registry.endpoints('default', 'backend')[0].healthy, true)
  assert.equal(registry.generation, gen + 1)
  registry.disconnect('s1')
  assert.equal(registry.endpoints('default', 'backend').length, 1, 'kept during the grace period')
  await new Promise(resolve => setTimeout(resolve, 200))
  assert.equal(registry.endpoints('default', 'backend').length, 0)
  registry.close()
})
