import { X509Certificate } from 'node:crypto'
import { CertificateInvalidError } from '../errors.ts'
import { splitPemCertificates } from './crypto.ts'
import { urisOfSubjectAltName } from './san.ts'

export interface CertificateInfo {
  notBefore: Date
  notAfter: Date
  /** URI SANs (SPIFFE IDs). */
  uris: string[]
  /** Serial number, lower-case hex. */
  serial: string
  /** basicConstraints CA:TRUE */
  isCa: boolean
  /** e.g. `CN=reviews, O=meshwork` */
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
  // Perf: Node's OpenSSL-backed parser is ~8x faster than @peculiar/x509's ASN.1 decoder (bench/micro/pki.bench.ts).
  let cert: X509Certificate
  try {
    cert = new X509Certificate(first)
  } catch (err) {
    throw new CertificateInvalidError('certificate could not be parsed', { cause: err })
  }
  return {
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    uris: urisOfSubjectAltName(cert.subjectAltName),
    serial: cert.serialNumber.toLowerCase(),
    isCa: cert.ca,
    subject: cert.subject.split('\n').join(', '),
    issuer: cert.issuer.split('\n').join(', ')
  }
}
