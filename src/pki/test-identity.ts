import type { CertificateAuthority } from './ca.ts'
import { signCsr } from './ca.ts'
import { createCsr } from './csr.ts'
import { generateKeyPair } from './keys.ts'

export interface TestIdentity {
  /** Leaf followed by the CA's intermediates. */
  certPem: string
  privateKeyPem: string
  publicKeyPem: string
  spiffeId: string
}

/**
 * Key pair + CSR + signature in one call, for tests and local tools (in the mesh, the key is made by the proxy).
 * @example const id = await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/reviews', 3600_000)
 */
export async function issueTestIdentity (ca: CertificateAuthority, spiffeId: string, ttlMs: number, opts: { notBefore?: Date } = {}): Promise<TestIdentity> {
  const keys = await generateKeyPair()
  const csrPem = await createCsr({ ...keys, spiffeId })
  const certPem = await signCsr(ca, csrPem, { spiffeId, ttlMs, notBefore: opts.notBefore })
  return { certPem, privateKeyPem: keys.privateKeyPem, publicKeyPem: keys.publicKeyPem, spiffeId }
}
