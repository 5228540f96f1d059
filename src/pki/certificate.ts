import { CertificateInvalidError } from '../errors.ts'
import { splitPemCertificates, x509 } from './crypto.ts'

export interface CertificateInfo {
  notBefore: Date
  notAfter: Date
  /** URI SANs (SPIFFE IDs). */
  uris: string[]
  /** Serial number, lower-case hex. */
  serial: string
  /** basicConstraints CA:TRUE */
  isCa: boolean
  subject: string
  issuer: string
}

/**
 * Reads the first certificate of a PEM (a leaf followed by its chain is fine). Throws `MESH_ERR_CERT_INVALID`.
 * @example parseCertificate(certPem).uris // ['spiffe://cluster.local/ns/default/sa/reviews']
 */
export function parseCertificate (pem: string): CertificateInfo {
  const first = splitPemCertificates(pem)[0]
  if (first === undefined) throw new CertificateInvalidError('no PEM certificate found')
  let cert: x509.X509Certificate
  try {
    cert = new x509.X509Certificate(first)
  } catch (err) {
    throw new CertificateInvalidError('certificate could not be parsed', { cause: err })
  }
  const uris: string[] = []
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)
  if (san !== null) for (const n of san.names.items) if (n.type === 'url') uris.push(n.value)
  const bc = cert.getExtension(x509.BasicConstraintsExtension)
  return {
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    uris,
    serial: cert.serialNumber.toLowerCase(),
    isCa: bc?.ca === true,
    subject: cert.subject,
    issuer: cert.issuer
  }
}
