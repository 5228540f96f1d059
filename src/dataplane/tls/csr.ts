/**
 * The proxy's certificate signing request (PKCS#10, RFC 2986) built with node:crypto and a few lines of DER:
 * a P-256 key, `CN=<last SPIFFE path segment>` and the SPIFFE ID as URI SAN — the same request as
 * `createCsr` of src/pki, which the control plane checks with `parseAndVerifyCsr`.
 *
 * Perf: src/pki builds CSRs with @peculiar/x509 (+ reflect-metadata), ~12 MB of heap and code once loaded;
 * a sidecar only ever needs this one request shape, so it does not load them (proxy RSS target ≤ 60 MB).
 *
 * @example
 * const csrPem = createProxyCsr(keys.privateKeyPem, keys.publicKeyPem, 'spiffe://cluster.local/ns/default/sa/reviews')
 */
import { createPrivateKey, createPublicKey, sign } from 'node:crypto'

/** `commonNameFor` of src/pki/csr.ts (importing it would load @peculiar/x509); csr.test.ts keeps them equal. */
export function commonNameFor (spiffeId: string): string {
  const i = spiffeId.lastIndexOf('/')
  const last = (i >= 0 ? spiffeId.slice(i + 1) : spiffeId) || 'meshwork'
  return last.replace(/[,+="\\<>;#]/g, '_').slice(0, 64)
}

function len (n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  if (n < 0x100) return Buffer.from([0x81, n])
  return Buffer.from([0x82, n >> 8, n & 0xff])
}

function tlv (tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([tag]), len(body.length), body])
}

const seq = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts)
const set = (...parts: Buffer[]): Buffer => tlv(0x31, ...parts)

/** DER of an OBJECT IDENTIFIER. */
function oid (dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out = [arcs[0] * 40 + arcs[1]]
  for (let i = 2; i < arcs.length; i++) {
    let v = arcs[i]
    const bytes = [v & 0x7f]
    while ((v >>>= 7) > 0) bytes.unshift((v & 0x7f) | 0x80)
    out.push(...bytes)
  }
  return tlv(0x06, Buffer.from(out))
}

const OID_CN = '2.5.4.3'
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14'
const OID_SAN = '2.5.29.17'
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2'

/** A PKCS#10 CSR (PEM) for `spiffeId`, signed with the P-256 private key. */
export function createProxyCsr (privateKeyPem: string, publicKeyPem: string, spiffeId: string): string {
  const subject = seq(set(seq(oid(OID_CN), tlv(0x0c, Buffer.from(commonNameFor(spiffeId), 'utf8')))))
  const spki = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })
  // GeneralName uniformResourceIdentifier is [6] IMPLICIT IA5String
  const san = seq(tlv(0x86, Buffer.from(spiffeId, 'ascii')))
  const extensions = seq(seq(oid(OID_SAN), tlv(0x04, san)))
  const attributes = tlv(0xa0, seq(oid(OID_EXTENSION_REQUEST), set(extensions)))
  const info = seq(tlv(0x02, Buffer.from([0])), subject, spki, attributes)
  const signature = sign('sha256', info, { key: createPrivateKey(privateKeyPem), dsaEncoding: 'der' })
  const der = seq(info, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, Buffer.from([0]), signature))
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`
}
