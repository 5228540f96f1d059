/**
 * xDS security (gRFC A29) with @grpc/grpc-js-xds: the cluster's UpstreamTlsContext names the bootstrap's
 * `file_watcher` certificate provider `meshwork` and the SPIFFE IDs the cluster's workloads may present.
 * Certificates come from the Meshwork CA; the endpoints are TLS gRPC servers that require a client
 * certificate from the same CA (as a sidecar's inbound listener does). The client accepts a server only
 * when its certificate carries the expected SPIFFE URI.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { CERT_FILES, renderGrpcBootstrap } from '../../src/controlplane/xds/bootstrap.ts'
import { createCsr } from '../../src/pki/csr.ts'
import { generateKeyPair } from '../../src/pki/keys.ts'
import { type Backend, registerInstance, startBackend, XDS_MESH, XdsApp } from './helpers.ts'

const SPIFFE = (sa: string): string => `spiffe://cluster.local/ns/default/sa/${sa}`
let cp: ControlPlane
let app: XdsApp
let certDir: string
const backends: Backend[] = []
const registrations: { close (): void }[] = []

async function issue (spiffeId: string): Promise<{ certPem: string, keyPem: string, caPem: string }> {
  const keys = await generateKeyPair()
  const issued = await cp.ca.sign(await createCsr({ ...keys, spiffeId }), spiffeId, 3600_000)
  return { certPem: issued.certPem, keyPem: keys.privateKeyPem, caPem: issued.trustBundlePem }
}

before(async () => {
  cp = await startControlPlane({ files: [XDS_MESH], port: 0, xdsPort: 0 })
  // reviews-v1 presents its own identity; the "v2" instance presents v1's identity, not reviews-v2's.
  const good = await startBackend('reviews-v1-tls', await issue(SPIFFE('reviews')))
  const impostor = await startBackend('reviews-v2-impostor', await issue(SPIFFE('reviews')))
  backends.push(good, impostor)
  registrations.push(await registerInstance(cp.url, { id: 'reviews-v1-tls', service: 'reviews', version: 'v1', app: 1, inbound: good.port }))
  registrations.push(await registerInstance(cp.url, { id: 'reviews-v2-impostor', service: 'reviews', version: 'v2', app: 1, inbound: impostor.port }))
  certDir = mkdtempSync(join(tmpdir(), 'meshwork-xds-certs-'))
  const client = await issue(SPIFFE('productpage'))
  writeFileSync(join(certDir, CERT_FILES.cert), client.certPem)
  writeFileSync(join(certDir, CERT_FILES.key), client.keyPem, { mode: 0o600 })
  writeFileSync(join(certDir, CERT_FILES.ca), client.caPem)
  const res = await cp.apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ kind: Service, name: reviews, port: 9080 }]
  rules:
    - matches: [{ headers: [{ name: x-user, value: jason }] }]
      backendRefs: [{ name: reviews-v2 }]
    - backendRefs: [{ name: reviews-v1 }]
`, 'mtls-routes.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  // With a certificate directory the bootstrap asks for endpoints `inbound`: the mTLS listeners.
  app = new XdsApp(renderGrpcBootstrap({ xdsAddress: cp.xdsAddress!, service: 'productpage', certDir }))
})

after(async () => {
  await app?.close()
  for (const r of registrations) r.close()
  for (const b of backends) await b.close()
  await cp?.close()
  if (certDir) rmSync(certDir, { recursive: true, force: true })
})

test('XdsChannelCredentials: mTLS with Meshwork CA certificates to a server presenting the expected SPIFFE ID', async () => {
  const r = await app.until({ target: 'xds:///reviews', creds: 'xds', calls: 10 }, r => r.codes['0'] === 10)
  assert.equal(r.instances['reviews-v1-tls'], 10)
  // The server saw the client's own SPIFFE identity (its certificate from the file_watcher provider).
  assert.ok([...backends[0].peerSans].some(s => s.includes(`URI:${SPIFFE('productpage')}`)), [...backends[0].peerSans].join(' | '))
})

test('the client refuses a server whose certificate lacks the cluster\'s SPIFFE ID (reviews-v2 expects sa/reviews-v2)', async () => {
  const r = await app.call({ target: 'xds:///reviews', creds: 'xds', calls: 5, metadata: { 'x-user': 'jason' }, deadlineMs: 3000 })
  assert.equal(r.codes['0'], undefined, JSON.stringify(r))
  assert.equal(r.codes['14'], 5, JSON.stringify(r))
  assert.equal(backends[1].calls, 0)
})

test('plain-text credentials cannot reach the mTLS endpoints (the TLS is real)', async () => {
  const r = await app.call({ target: 'xds:///reviews', creds: 'insecure', calls: 3, deadlineMs: 3000 })
  assert.equal(r.codes['0'], undefined, JSON.stringify(r))
})
