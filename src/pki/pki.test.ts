import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import * as tls from 'node:tls'
import { createCsr, createIntermediateCa, createRootCa, generateKeyPair, issueTestIdentity, parseCertificate, signCsr, splitPemCertificates } from './index.ts'

const ID = 'spiffe://cluster.local/ns/default/sa/reviews'
const HOUR = 3600_000

test('generateKeyPair returns PKCS#8 and SPKI PEM for P-256', async () => {
  const k = await generateKeyPair()
  assert.match(k.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/)
  assert.match(k.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/)
})

test('root CA is self-signed with basicConstraints CA and the requested lifetime', async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: 24 * HOUR })
  const info = parseCertificate(root.certPem)
  assert.equal(info.isCa, true)
  assert.equal(root.chainPem, '')
  assert.equal(root.rootCertPem, root.certPem)
  const life = info.notAfter.getTime() - Date.now()
  assert.ok(life > 23 * HOUR && life < 25 * HOUR)
  const c = new X509Certificate(root.certPem)
  assert.equal(c.ca, true)
  assert.ok(c.verify(c.publicKey))
})

test('signCsr issues a leaf with the URI SAN, EKU serverAuth+clientAuth, not a CA', async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: 24 * HOUR })
  const keys = await generateKeyPair()
  const csr = await createCsr({ ...keys, spiffeId: ID })
  const certPem = await signCsr(root, csr, { ttlMs: HOUR })
  const info = parseCertificate(certPem)
  assert.deepEqual(info.uris, [ID])
  assert.equal(info.isCa, false)
  assert.match(info.serial, /^[0-9a-f]+$/)
  const c = new X509Certificate(certPem)
  assert.ok(c.verify(new X509Certificate(root.certPem).publicKey))
  assert.deepEqual(c.keyUsage?.slice().sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
  assert.equal(c.subjectAltName, `URI:${ID}`)
  // the certificate carries the CSR's public key, never a key made by the CA
  assert.ok(c.checkPrivateKey((await import('node:crypto')).createPrivateKey(keys.privateKeyPem)))
})

test('the CA imposes its SPIFFE ID and refuses a CSR asking for another one', async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: HOUR })
  const keys = await generateKeyPair()
  const csr = await createCsr({ ...keys, spiffeId: 'spiffe://cluster.local/ns/default/sa/ratings' })
  await assert.rejects(signCsr(root, csr, { spiffeId: ID, ttlMs: HOUR }), (e: any) => e.code === 'MESH_ERR_CSR_IDENTITY_MISMATCH')
  const same = await createCsr({ ...keys, spiffeId: ID })
  assert.deepEqual(parseCertificate(await signCsr(root, same, { spiffeId: ID, ttlMs: HOUR })).uris, [ID])
})

test('a CSR with a bad signature or garbage is refused with MESH_ERR_CSR_INVALID', async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: HOUR })
  await assert.rejects(signCsr(root, 'not a csr', { ttlMs: HOUR }), (e: any) => e.code === 'MESH_ERR_CSR_INVALID')
  // Signed by one key, carrying another public key: the self-signature does not verify.
  const a = await generateKeyPair()
  const b = await generateKeyPair()
  const forged = await createCsr({ privateKeyPem: a.privateKeyPem, publicKeyPem: b.publicKeyPem, spiffeId: ID })
  await assert.rejects(signCsr(root, forged, { ttlMs: HOUR }), (e: any) => e.code === 'MESH_ERR_CSR_INVALID')
  // No ID imposed and a non-SPIFFE URI requested
  const k = await generateKeyPair()
  const http = await createCsr({ ...k, spiffeId: 'https://example.com/x' })
  await assert.rejects(signCsr(root, http, { ttlMs: HOUR }), (e: any) => e.code === 'MESH_ERR_CSR_INVALID')
})

test('intermediate CA: leaf PEM carries the chain; lifetime capped at the issuer', async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: 2 * HOUR })
  const mid = await createIntermediateCa(root, { commonName: 'issuing', ttlMs: 100 * HOUR })
  assert.ok(parseCertificate(mid.certPem).notAfter.getTime() <= parseCertificate(root.certPem).notAfter.getTime())
  assert.equal(parseCertificate(mid.certPem).isCa, true)
  const id = await issueTestIdentity(mid, ID, HOUR)
  const blocks = splitPemCertificates(id.certPem)
  assert.equal(blocks.length, 2)
  assert.equal(blocks[1], mid.certPem)
  assert.equal(mid.rootCertPem, root.certPem)
})

test('parseCertificate refuses garbage with MESH_ERR_CERT_INVALID', () => {
  assert.throws(() => parseCertificate('nope'), (e: any) => e.code === 'MESH_ERR_CERT_INVALID')
  assert.throws(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), (e: any) => e.code === 'MESH_ERR_CERT_INVALID')
})

for (const depth of [0, 1, 2]) {
  test(`node:tls mTLS works with issued certs (${depth} intermediates) and shows the URI SAN`, async (t) => {
    const root = await createRootCa({ commonName: 'test root', ttlMs: 24 * HOUR })
    let ca = root
    for (let i = 0; i < depth; i++) ca = await createIntermediateCa(ca, { commonName: `issuing ${i}`, ttlMs: 12 * HOUR })
    assert.equal(splitPemCertificates(ca.chainPem).length, depth)
    const server = await issueTestIdentity(ca, 'spiffe://cluster.local/ns/default/sa/reviews', HOUR)
    const client = await issueTestIdentity(ca, 'spiffe://cluster.local/ns/default/sa/productpage', HOUR)
    let serverSawPeer = ''
    const srv = tls.createServer({ cert: server.certPem, key: server.privateKeyPem, ca: root.certPem, requestCert: true, rejectUnauthorized: true }, (s) => {
      serverSawPeer = s.getPeerCertificate().subjectaltname ?? ''
      s.end('ok')
    })
    t.after(() => srv.close())
    await new Promise<void>(r => srv.listen(0, '127.0.0.1', r))
    const port = (srv.address() as AddressInfo).port
    const { peerSan, body } = await new Promise<{ peerSan: string, body: string }>((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port, cert: client.certPem, key: client.privateKeyPem, ca: root.certPem, checkServerIdentity: () => undefined }, () => {
        const peerSan = sock.getPeerCertificate().subjectaltname ?? ''
        let body = ''
        sock.setEncoding('utf8')
        sock.on('data', d => { body += d })
        sock.on('end', () => resolve({ peerSan, body }))
      })
      sock.on('error', reject)
    })
    assert.equal(peerSan, 'URI:spiffe://cluster.local/ns/default/sa/reviews')
    assert.equal(serverSawPeer, 'URI:spiffe://cluster.local/ns/default/sa/productpage')
    assert.equal(body, 'ok')
  })
}
