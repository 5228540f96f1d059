import assert from 'node:assert/strict'
import { test } from 'node:test'
import { commonNameFor as pkiCommonNameFor } from '../../pki/csr.ts'
import { createRootCa, generateKeyPair, parseAndVerifyCsr, parseCertificate, signCsr } from '../../pki/index.ts'
import { commonNameFor, createProxyCsr } from './csr.ts'

const ID = 'spiffe://cluster.local/ns/default/sa/reviews'

test('the proxy CSR verifies and asks for the SPIFFE ID (checked by the PKI the control plane uses)', async () => {
  const keys = await generateKeyPair()
  const parsed = await parseAndVerifyCsr(createProxyCsr(keys.privateKeyPem, keys.publicKeyPem, ID))
  assert.deepEqual(parsed.uris, [ID])
  assert.equal(parsed.csr.subject, 'CN=reviews')
})

test('a CA signs the proxy CSR into a certificate for the SPIFFE ID', async () => {
  const ca = await createRootCa({ commonName: 'csr test root', ttlMs: 3_600_000 })
  const keys = await generateKeyPair()
  const certPem = await signCsr(ca, createProxyCsr(keys.privateKeyPem, keys.publicKeyPem, ID), { ttlMs: 600_000 })
  assert.deepEqual(parseCertificate(certPem).uris, [ID])
})

test('a CSR signed with another key does not verify', async () => {
  const a = await generateKeyPair()
  const b = await generateKeyPair()
  await assert.rejects(parseAndVerifyCsr(createProxyCsr(b.privateKeyPem, a.publicKeyPem, ID)), { code: 'MESH_ERR_CSR_INVALID' })
})

test('common names match the PKI', () => {
  for (const id of [ID, 'spiffe://x/ns/a/sa/', 'spiffe://x/ns/a/sa/we,ird=na+me<>;#"\\', `spiffe://x/${'a'.repeat(100)}`]) {
    assert.equal(commonNameFor(id), pkiCommonNameFor(id))
  }
})
