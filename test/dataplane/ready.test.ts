/**
 * Admin `/ready` means ready to serve: with the identity coming from a control plane (`requireIdentity`),
 * a proxy whose mTLS mode needs a certificate answers 503 MESH_ERR_NOT_READY until one is installed.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from '../../src/dataplane/proxy.ts'
import { createRootCa, issueTestIdentity, type TestIdentity } from '../../src/pki/index.ts'
import { snapshot, text } from './helpers.ts'

const LOOP = { host: '127.0.0.1', port: 0 }
let caPem = ''
let id: TestIdentity
const proxies: Proxy[] = []

before(async () => {
  const root = await createRootCa({ commonName: 'ready test root', ttlMs: 3_600_000 })
  caPem = root.certPem
  id = await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/reviews', 3_600_000)
})
after(async () => { await Promise.all(proxies.map(p => p.stop())) })

async function start (listeners: { inbound?: boolean, outbound?: boolean }, requireIdentity = true): Promise<{ proxy: Proxy, ready: () => Promise<{ status: number, code: string | undefined }> }> {
  const proxy = new Proxy({
    listeners: { inbound: listeners.inbound ? LOOP : undefined, outbound: listeners.outbound ? LOOP : undefined, admin: LOOP },
    requireIdentity,
    log: () => {}
  })
  proxies.push(proxy)
  await proxy.start()
  const port = proxy.addresses.admin!.port
  return {
    proxy,
    ready: async () => {
      const r = await text(port, '/ready')
      return { status: r.status, code: r.headers['x-meshwork-error'] as string | undefined }
    }
  }
}

function snap (mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE', tlsEndpoints: boolean): ReturnType<typeof snapshot> {
  return snapshot('v1', { details: { endpoints: [{ id: 'd1', port: 1, tls: tlsEndpoints }] } }, {
    mesh: { mtls: { mode } },
    localApp: { address: '127.0.0.1', port: 1 }
  })
}

test('STRICT: /ready answers 503 MESH_ERR_NOT_READY until a certificate is installed, then 200', async () => {
  const { proxy, ready } = await start({ inbound: true, outbound: true })
  assert.deepEqual(await ready(), { status: 503, code: 'MESH_ERR_NOT_READY' }, 'no snapshot yet')
  assert.equal(proxy.applySnapshot(snap('STRICT', true)).ok, true)
  assert.deepEqual(await ready(), { status: 503, code: 'MESH_ERR_NOT_READY' }, 'snapshot but no certificate')
  proxy.setTlsMaterial({ certPem: id.certPem, keyPem: id.privateKeyPem, trustBundlePem: caPem })
  assert.equal((await ready()).status, 200)
})

test('PERMISSIVE: a sidecar with an inbound listener waits for its certificate', async () => {
  const { proxy, ready } = await start({ inbound: true })
  assert.equal(proxy.applySnapshot(snap('PERMISSIVE', false)).ok, true)
  assert.equal((await ready()).code, 'MESH_ERR_NOT_READY')
  proxy.setTlsMaterial({ certPem: id.certPem, keyPem: id.privateKeyPem, trustBundlePem: caPem })
  assert.equal((await ready()).status, 200)
})

test('PERMISSIVE outbound-only: waits only when an endpoint is dialed with TLS', async () => {
  const { proxy, ready } = await start({ outbound: true })
  assert.equal(proxy.applySnapshot(snap('PERMISSIVE', false)).ok, true)
  assert.equal((await ready()).status, 200, 'no TLS endpoint: no identity needed')
  assert.equal(proxy.applySnapshot(snap('PERMISSIVE', true)).ok, true)
  assert.equal((await ready()).code, 'MESH_ERR_NOT_READY', 'a TLS endpoint needs the certificate')
})

test('DISABLE, or an identity not from a control plane: ready once the snapshot is applied', async () => {
  const a = await start({ inbound: true, outbound: true })
  assert.equal(a.proxy.applySnapshot(snap('DISABLE', false)).ok, true)
  assert.equal((await a.ready()).status, 200)
  const b = await start({ inbound: true }, false)
  assert.equal(b.proxy.applySnapshot(snap('STRICT', true)).ok, true)
  assert.equal((await b.ready()).status, 200)
})
