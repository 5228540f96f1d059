import type { SecureContextOptions } from 'node:tls'
import { controlPlaneSpiffeId } from '../../dataplane/tls/control-plane-identity.ts'
import { createCsr, generateKeyPair } from '../../pki/index.ts'
import type { CaService } from '../certificate-authority.ts'

const SERVING_TTL_MS = 7 * 86_400_000

/**
 * TLS options of the control plane's API: a serving certificate from the mesh CA with the control
 * plane's SPIFFE ID, and the trust bundle to verify proxies' client certificates against. Clients are
 * asked for a certificate but not required to send one (a first join comes with a token instead); the
 * HTTP edge decides per request (src/controlplane/auth/attestation.ts).
 */
export async function servingTlsOptions (ca: CaService, trustDomain: string): Promise<SecureContextOptions & { requestCert: true, rejectUnauthorized: false }> {
  const keys = await generateKeyPair()
  const identity = controlPlaneSpiffeId(trustDomain)
  const csrPem = await createCsr({ ...keys, spiffeId: identity })
  const issued = await ca.sign(csrPem, identity, SERVING_TTL_MS)
  return { key: keys.privateKeyPem, cert: issued.certPem, ca: ca.trustBundlePem, requestCert: true, rejectUnauthorized: false }
}

/** Re-issue the serving certificate at this interval (well inside its lifetime). */
export const SERVING_REFRESH_MS = 3 * 86_400_000
