import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { startConfigClient, type ConfigClient } from '../../src/dataplane/config-client.ts'
import { createCsr, generateKeyPair, parseCertificate, splitPemCertificates } from '../../src/pki/index.ts'
import { FakeProxy, MESH, until } from './helpers.ts'

const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

async function mesh (opts: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ files: [MESH], port: 0, ...opts })
  cleanups.push(() => cp.close())
  return cp
}

function connect (cp: ControlPlane, id: string, extra: Record<string, unknown> = {}): { proxy: FakeProxy, client: ConfigClient } {
  const proxy = new FakeProxy()
  const client = startConfigClient(proxy, { url: cp.url, id, service: 'backend', version: 'v2', inbound: { host: '127.0.0.1', port: 21000 + cleanups.length }, backoff: { initialMs: 50, maxMs: 500 }, ...extra })
  cleanups.push(() => client.close())
  return { proxy, client }
}

/** The leaf chains to one of the bundle's roots (leaf ← intermediate ← root). */
function chainsTo (certPem: string, bundlePem: string): boolean {
  const [leaf, inter] = splitPemCertificates(certPem).map(p => new X509Certificate(p))
  if (!leaf.verify(inter.publicKey)) return false
  return splitPemCertificates(bundlePem).some(r => inter.verify(new X509Certificate(r).publicKey))
}

test('the proxy makes its key, the CA signs a short-lived SPIFFE certificate for the registered workload', async () => {
  const cp = await mesh({ certTtlMs: 60 * 60_000 })
  const { proxy, client } = connect(cp, 'backend-v2-0')
  await client.ready
  const tls = proxy.tls!
  const info = parseCertificate(tls.certPem)
  assert.deepEqual(info.uris, ['spiffe://test.local/ns/default/sa/backend-sa'], 'identity from the Workload\'s serviceAccount')
  assert.ok(info.notAfter.getTime() - Date.now() <= 61 * 60_000 + 60_000)
  assert.ok(chainsTo(tls.certPem, tls.trustBundlePem))
  assert.match(tls.keyPem, /BEGIN PRIVATE KEY/)
  const rec = cp.registry.proxies.get('backend-v2-0')!
  assert.equal(rec.certNotAfter, info.notAfter.toISOString())
})

test('a CSR asking for another identity is refused; an unknown stream gets 404', async () => {
  const cp = await mesh()
  const { client } = connect(cp, 'backend-v2-1')
  await client.ready
  const streamId = client.state.streamId!
  const keys = await generateKeyPair()
  const csrPem = await createCsr({ ...keys, spiffeId: 'spiffe://test.local/ns/default/sa/frontend' })
  const post = async (body: unknown) => {
    const res = await fetch(new URL('/v1/certificate', cp.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, code: res.headers.get('x-meshwork-error'), body: await res.json() as { code: string } }
  }
  const mismatch = await post({ streamId, csrPem })
  assert.equal(mismatch.status, 403)
  assert.equal(mismatch.code, 'MESH_ERR_CSR_IDENTITY_MISMATCH')
  assert.equal(mismatch.body.code, 'MESH_ERR_CSR_IDENTITY_MISMATCH')
  const garbage = await post({ streamId, csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' })
  assert.equal(garbage.code, 'MESH_ERR_CSR_INVALID')
  const unknown = await post({ streamId: 'nope', csrPem })
  assert.equal(unknown.status, 404)
  // A sidecar of a service no Workload declares gets no identity at all.
  const ghost = connect(cp, 'ghost-0', { service: 'ghost', identity: false })
  await ghost.client.ready
  const ghostCsr = await createCsr({ ...keys, spiffeId: 'spiffe://test.local/ns/default/sa/ghost' })
  const refused = await post({ streamId: ghost.client.state.streamId, csrPem: ghostCsr })
  assert.equal(refused.status, 403)
  assert.equal(refused.code, 'MESH_ERR_UNKNOWN_WORKLOAD')
})

test('certificates are renewed automatically at about half their life, with a fresh key', async () => {
  const cp = await mesh({ certTtlMs: 3000 })
  const { proxy, client } = connect(cp, 'backend-v2-2')
  await client.ready
  const first = proxy.tls!
  await until(() => proxy.tlsHistory.length >= 3, 15_000, 'two renewals')
  const second = proxy.tlsHistory[1]
  assert.notEqual(second.certPem, first.certPem)
  assert.notEqual(second.keyPem, first.keyPem, 'a new key pair per renewal')
  assert.ok(parseCertificate(second.certPem).notAfter > parseCertificate(first.certPem).notAfter)
  await client.close()
})

test('root rotation: old+new roots trusted, leaves re-issued from the new root, then the old root removed', async () => {
  const cp = await mesh()
  const a = connect(cp, 'backend-v2-a')
  const b = connect(cp, 'frontend-a', { service: 'frontend', version: 'v1' })
  await Promise.all([a.client.ready, b.client.ready])
  const oldBundle = a.proxy.tls!.trustBundlePem
  const oldCert = a.proxy.tls!.certPem
  const result = await cp.rotateRoot({ stepTimeoutMs: 10_000 })
  assert.equal(result.issuer, 2)
  for (const p of [a.proxy, b.proxy]) {
    const bundles = p.tlsHistory.map(m => splitPemCertificates(m.trustBundlePem).length)
    assert.ok(bundles.includes(2), `saw the overlap bundle: ${bundles}`)
    // At every step, the material in use verifies against its own bundle: no window where peers disagree.
    for (const m of p.tlsHistory) assert.ok(chainsTo(m.certPem, m.trustBundlePem))
    const last = p.tls!
    assert.equal(splitPemCertificates(last.trustBundlePem).length, 1)
    assert.ok(!chainsTo(last.certPem, oldBundle), 'final leaf is from the new root')
    assert.ok(!chainsTo(oldCert, last.trustBundlePem), 'old root no longer trusted')
    // Before the old root was dropped, every proxy already had a new leaf.
    const dropAt = p.tlsHistory.findIndex(m => splitPemCertificates(m.trustBundlePem).length === 1 && !m.trustBundlePem.includes(splitPemCertificates(oldBundle)[0]))
    assert.ok(dropAt > 0 && chainsTo(p.tlsHistory[dropAt - 1].certPem, last.trustBundlePem))
  }
  assert.ok(cp.registry.connected().every(r => r.certIssuer === 2))
})

test('a proxy away during a root rotation renews on reconnect (its leaf is from the dropped root)', async () => {
  const cp = await mesh()
  const { proxy, client } = connect(cp, 'backend-v2-away', { backoff: { initialMs: 4000, maxMs: 4000 } })
  await client.ready
  const oldCert = proxy.tls!.certPem
  cp.streams.streams.get(client.state.streamId!)!.res.destroy()
  await until(() => !client.state.connected, 5000, 'disconnected')
  await cp.rotateRoot({ stepTimeoutMs: 5000 })
  assert.equal(client.state.connected, false, 'rotation finished while the proxy was away')
  await until(() => client.state.connected && proxy.tls!.certPem !== oldCert, 15_000, 'renewed after reconnect')
  assert.ok(chainsTo(proxy.tls!.certPem, cp.ca.trustBundlePem))
  assert.equal(proxy.tls!.trustBundlePem, cp.ca.trustBundlePem)
})

test('a restarted control plane keeps its CA, the applied config and the known endpoints; proxies reconnect', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshwork-cp-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const cp1 = await startControlPlane({ files: [MESH], port: 0, dataDir })
  const port = Number(new URL(cp1.url).port)
  const a = connect(cp1, 'backend-v2-r')
  const b = connect(cp1, 'frontend-r', { service: 'frontend', version: 'v1' })
  await Promise.all([a.client.ready, b.client.ready])
  const applied = await cp1.apply(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ kind: Service, name: backend }]
  rules: [{ backendRefs: [{ name: backend-v2 }] }]
`, 'applied.yaml')
  assert.ok(applied.ok)
  await cp1.waitForSync(5000)
  const bundle = a.proxy.tls!.trustBundlePem
  const servedBefore = b.proxy.snapshot!
  await cp1.close()
  assert.equal((await stat(join(dataDir, 'ca.json'))).mode & 0o077, 0, 'CA key file is private')
  // Control plane gone: the proxies keep their last good snapshot.
  await until(() => !a.client.state.connected && !b.client.state.connected, 5000, 'disconnect seen')
  assert.equal(b.proxy.snapshot, servedBefore)
  await new Promise(resolve => setTimeout(resolve, 300))
  const cp2 = await startControlPlane({ files: [MESH], port, dataDir })
  cleanups.push(() => cp2.close())
  await until(() => a.client.state.connected && b.client.state.connected, 10_000, 'reconnect')
  await cp2.waitForSync(5000)
  assert.equal(a.proxy.tls!.trustBundlePem, bundle, 'same CA after restart')
  assert.ok(Number(cp2.version) > Number(applied.version), 'versions keep increasing across restarts')
  const route = b.proxy.snapshot!.routes.find(r => r.metadata.name === 'backend')!
  assert.deepEqual(route.spec.rules[0].backendRefs.map(x => x.name), ['backend-v2'], 'applied config survived')
  assert.ok(a.client.state.reconnects >= 1)
  // Every snapshot served across the restart had the backend endpoint: callers never lost it.
  assert.equal(b.proxy.snapshot!.services.find(s => s.name === 'backend')!.endpoints.length, 1)
})
