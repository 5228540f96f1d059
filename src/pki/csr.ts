import { CsrInvalidError } from '../errors.ts'
import { importPrivateKey, importPublicKey, SIGN_ALG, x509 } from './crypto.ts'
import type { KeyPairPem } from './keys.ts'

export interface CreateCsrOptions extends KeyPairPem {
  /** SPIFFE ID requested, e.g. `spiffe://cluster.local/ns/default/sa/reviews`; the CA may impose its own. */
  spiffeId: string
}

/**
 * A PKCS#10 CSR (PEM) signed with the private key, asking for the SPIFFE ID as a URI SAN.
 * @example const csrPem = await createCsr({ ...await generateKeyPair(), spiffeId: 'spiffe://cluster.local/ns/default/sa/reviews' })
 */
export async function createCsr (opts: CreateCsrOptions): Promise<string> {
  const keys = { privateKey: await importPrivateKey(opts.privateKeyPem), publicKey: await importPublicKey(opts.publicKeyPem) }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonNameFor(opts.spiffeId)}`,
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: opts.spiffeId }])]
  })
  return csr.toString('pem')
}

const SAN_OID = '2.5.29.17'

export interface ParsedCsr {
  csr: x509.Pkcs10CertificateRequest
  /** URI SANs requested (usually one SPIFFE ID). */
  uris: string[]
}

/** Parses a CSR PEM and verifies its self-signature; throws `MESH_ERR_CSR_INVALID`. */
export async function parseAndVerifyCsr (csrPem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem)
  } catch (err) {
    throw new CsrInvalidError('CSR is not a PKCS#10 PEM', { cause: err })
  }
  let ok = false
  try {
    ok = await csr.verify()
  } catch (err) {
    throw new CsrInvalidError('CSR signature could not be checked', { cause: err })
  }
  if (!ok) throw new CsrInvalidError('CSR signature does not match its public key')
  const algo = csr.publicKey.algorithm as EcKeyAlgorithm
  if (algo.name !== 'ECDSA' || algo.namedCurve !== 'P-256') throw new CsrInvalidError('CSR key must be ECDSA P-256')
  const uris: string[] = []
  const ext = csr.getExtension(SAN_OID)
  if (ext !== null) {
    let san: x509.SubjectAlternativeNameExtension
    try { san = new x509.SubjectAlternativeNameExtension(ext.rawData) } catch (err) { throw new CsrInvalidError('CSR subjectAltName is malformed', { cause: err }) }
    for (const n of san.names.items) if (n.type === 'url') uris.push(n.value)
  }
  return { csr, uris }
}

/** Short CN for a SPIFFE ID: its last path segment (the service account), capped at 64 chars (RFC 5280 ub-common-name). */
export function commonNameFor (spiffeId: string): string {
  const i = spiffeId.lastIndexOf('/')
  const last = (i >= 0 ? spiffeId.slice(i + 1) : spiffeId) || 'meshwork'
  return last.replace(/[,+="\\<>;#]/g, '_').slice(0, 64)
}
