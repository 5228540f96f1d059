// Micro-benchmarks: CA signing throughput (control plane, many proxies rotating) and the SAN parsing behind
// peerSpiffeId (first request of each inbound connection).
// Run: node --import tsx bench/micro/pki.bench.ts
import { bench, do_not_optimize, run } from 'mitata'
import { urisOfSubjectAltName } from '../../src/dataplane/tls/spiffe.ts'
import { createCsr, createRootCa, generateKeyPair, parseCertificate, signCsr } from '../../src/pki/index.ts'

const root = await createRootCa({ commonName: 'bench root', ttlMs: 86400_000 })
const keys = await generateKeyPair()
const spiffeId = 'spiffe://cluster.local/ns/default/sa/reviews'
const csr = await createCsr({ ...keys, spiffeId })
const cert = await signCsr(root, csr, { spiffeId, ttlMs: 3600_000 })

bench('pki: generateKeyPair (P-256)', async () => do_not_optimize(await generateKeyPair()))
bench('pki: createCsr', async () => do_not_optimize(await createCsr({ ...keys, spiffeId })))
bench('pki: signCsr (verify CSR + issue leaf)', async () => do_not_optimize(await signCsr(root, csr, { spiffeId, ttlMs: 3600_000 })))
bench('pki: parseCertificate', () => do_not_optimize(parseCertificate(cert)))
bench('tls: urisOfSubjectAltName', () => do_not_optimize(urisOfSubjectAltName(`URI:${spiffeId}`)))
await run()
