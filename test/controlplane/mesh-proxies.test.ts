import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { after, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { splitPemCertificates } from '../../src/pki/index.ts'
import { until } from './helpers.ts'
import { type MeshNode, startGateway, startLoad, startSidecar } from './mesh-harness.ts'

const MESH = new URL('./fixtures/two-tier.yaml', import.meta.url).pathname
const BACKEND_ID = 'spiffe://test.local/ns/default/sa/backend'
const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

async function mesh (opts: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<{ cp: ControlPlane, fe: MeshNode, b1: MeshNode, b2: MeshNode }> {
  const cp = await startControlPlane({ files: [MESH], port: 0, ...opts })
  cleanups.push(() => cp.close())
  const [fe, b1, b2] = await Promise.all([
    startSidecar(cp.url, 'frontend-0', 'frontend', 'v1', false),
    startSidecar(cp.url, 'backend-v1-0', 'backend', 'v1', true),
    startSidecar(cp.url, 'backend-v2-0', 'backend', 'v2', true)
  ])
  cleanups.push(() => fe.close(), () => b1.close(), () => b2.close())
  await until(() => (fe.proxy.snapshot?.services.find(s => s.name === 'backend')?.endpoints.filter(e => e.healthy).length ?? 0) === 2, 10_000, 'both backends healthy at the frontend')
  return { cp: cp, fe, b1, b2 }
}

test('real proxies: registered from the stream, mTLS with CA-issued SPIFFE identities, a route change in under 1 s', async () => {
  const { cp, fe } = await mesh()
  assert.equal(fe.proxy.certStore?.spiffeId, 'spiffe://test.local/ns/default/sa/frontend')
  const warm = await startLoad(fe.outbound, 'backend', 2)
  await new Promise(resolve => setTimeout(resolve, 500))
  const before = await warm.stop()
  assert.equal(before.failed, 0, before.errors.join('\n'))
  assert.deepEqual([...before.byBody.keys()].sort(), ['backend-v1-0', 'backend-v2-0'])

  const start = performance.now()
  const r = await cp.apply(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ kind: Service, name: backend }]
  rules: [{ backendRefs: [{ name: backend-v2, weight: 100 }] }]
`, 'v2.yaml')
  assert.ok(r.ok, JSON.stringify(r.problems))
  const sync = await cp.waitForSync(5000)
  const ms = performance.now() - start
  assert.ok(sync.every(s => s.status === 'SYNCED'), JSON.stringify(sync))
  console.log(`# push latency with 3 real proxies (apply → all ACKed): ${ms.toFixed(1)} ms`)
  assert.ok(ms < 1000)
  const after = startLoad(fe.outbound, 'backend', 2)
  await new Promise(resolve => setTimeout(resolve, 300))
  const res = await after.stop()
  assert.equal(res.failed, 0, res.errors.join('\n'))
  assert.deepEqual([...res.byBody.keys()], ['backend-v2-0'])
})

test('root rotation under load: no failed request, no failed new handshake, leaves end on the new root', async () => {
  const { cp, fe, b1 } = await mesh()
  const oldRoot = splitPemCertificates(fe.proxy.certStore!.material.trustBundlePem)[0]
  const load = startLoad(fe.outbound, 'backend', 4)
  // New mTLS handshakes all along, with the frontend's current material against backend-v1's inbound.
  let handshakes = 0
  const handshakeErrors: string[] = []
  let dialing = true
  const dialer = (async () => {
    while (dialing) {
      await new Promise<void>(resolve => {
        const s = tlsConnect({ host: '127.0.0.1', port: b1.inbound, ...fe.proxy.certStore!.clientOptions(BACKEND_ID) }, () => { handshakes++; s.destroy(); resolve() })
        s.on('error', err => { handshakeErrors.push((err as NodeJS.ErrnoException).code ?? err.message); resolve() })
      })
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  })()
  await new Promise(resolve => setTimeout(resolve, 300))
  const rotated = await cp.rotateRoot({ stepTimeoutMs: 15_000 })
  await new Promise(resolve => setTimeout(resolve, 300))
  dialing = false
  await dialer
  const res = await load.stop()
  console.log(`# root rotation under load: ${res.ok} requests ok, ${res.failed} failed; ${handshakes} new handshakes, ${handshakeErrors.length} failed`)
  assert.equal(res.failed, 0, res.errors.join('\n'))
  assert.deepEqual(handshakeErrors, [])
  assert.ok(handshakes > 3 && res.ok > 10, `${handshakes} handshakes, ${res.ok} requests`)
  assert.equal(rotated.issuer, 2)
  const bundle = fe.proxy.certStore!.material.trustBundlePem
  assert.equal(splitPemCertificates(bundle).length, 1)
  assert.ok(!bundle.includes(oldRoot.trim()), 'old root removed')
  assert.ok(cp.registry.connected().every(r => r.certIssuer === 2))
})

test('control plane killed under load: proxies keep serving, reconnect, and resync', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshwork-kill-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const { cp, fe } = await mesh({ dataDir })
  const port = Number(new URL(cp.url).port)
  const load = startLoad(fe.outbound, 'backend', 4)
  await new Promise(resolve => setTimeout(resolve, 300))
  await cp.close()
  await until(() => !fe.client.state.connected, 5000, 'frontend sees the control plane gone')
  await new Promise(resolve => setTimeout(resolve, 1000))
  const cp2 = await startControlPlane({ files: [MESH], port, dataDir })
  cleanups.push(() => cp2.close())
  await until(() => cp2.registry.connected().length === 3, 10_000, 'all three proxies reconnected')
  const sync = await cp2.waitForSync(5000)
  assert.ok(sync.every(s => s.status === 'SYNCED'), JSON.stringify(sync))
  // Resynced: a change made on the new control plane reaches the proxies.
  const r = await cp2.apply(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ kind: Service, name: backend }]
  rules: [{ backendRefs: [{ name: backend-v1, weight: 100 }] }]
`, 'v1.yaml')
  assert.ok(r.ok)
  await cp2.waitForSync(5000)
  assert.equal(fe.proxy.snapshot!.version, r.version)
  await new Promise(resolve => setTimeout(resolve, 300))
  const res = await load.stop()
  console.log(`# control plane killed for ~1 s under load: ${res.ok} requests ok, ${res.failed} failed; frontend reconnects: ${fe.client.state.reconnects}`)
  assert.equal(res.failed, 0, res.errors.join('\n'))
  assert.ok(res.ok > 20)
})

test('an app that goes down leaves the callers\' balancer; traffic keeps flowing to the healthy instance', async () => {
  const { fe, b1 } = await mesh()
  const load = startLoad(fe.outbound, 'backend', 4)
  await new Promise(resolve => setTimeout(resolve, 200))
  b1.app!.setHealthy(false)
  const start = performance.now()
  await until(() => fe.proxy.snapshot?.services.find(s => s.name === 'backend')?.endpoints.find(e => e.id === 'backend-v1-0')?.healthy === false, 5000, 'endpoint down at the caller')
  const ms = performance.now() - start
  await new Promise(resolve => setTimeout(resolve, 100))
  const mid = await load.stop()
  const after = startLoad(fe.outbound, 'backend', 4)
  await new Promise(resolve => setTimeout(resolve, 300))
  const res = await after.stop()
  console.log(`# app unhealthy → out of the callers' endpoints in ${ms.toFixed(0)} ms`)
  assert.equal(mid.failed, 0, mid.errors.join('\n'))
  assert.equal(res.failed, 0, res.errors.join('\n'))
  assert.deepEqual([...res.byBody.keys()], ['backend-v2-0'])
})

test('an ingress gateway gets its routes and reaches the backend over mTLS with its own identity', async () => {
  const { cp } = await mesh()
  const gw = await startGateway(cp.url, 'ingress-0', 'ingress')
  cleanups.push(() => gw.close())
  assert.equal(gw.proxy.certStore?.spiffeId, 'spiffe://test.local/ns/default/sa/ingress')
  assert.deepEqual(gw.proxy.snapshot!.routes.map(r => r.metadata.name), ['ingress-backend'])
  assert.deepEqual(gw.proxy.snapshot!.services.map(s => s.name), ['backend'])
  const res = await fetch(`http://127.0.0.1:${gw.port}/api/x`, { headers: { host: 'bookinfo.local' } })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'backend-v1-0')
  const miss = await fetch(`http://127.0.0.1:${gw.port}/other`)
  assert.equal(miss.headers.get('x-meshwork-error'), 'MESH_ERR_NO_ROUTE')
  await miss.arrayBuffer()
})
