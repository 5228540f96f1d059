// @peculiar/x509 resolves its ASN.1 parsers through tsyringe, which needs a Reflect metadata polyfill loaded first.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import { CertificateInvalidError } from '../errors.ts'

// @peculiar/x509 signs through WebCrypto; Node's implementation is complete for ECDSA P-256.
x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export { x509 }
export const subtle = webcrypto.subtle as unknown as SubtleCrypto

/** ECDSA P-256 with SHA-256: the only algorithm the mesh issues. */
export const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const
export const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const

/** DER bytes of the first PEM block of the given label (`PRIVATE KEY`, `PUBLIC KEY`, ...). */
export function pemToDer (pem: string, label: string): Uint8Array<ArrayBuffer> {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`)
  const m = re.exec(pem)
  if (m === null) throw new CertificateInvalidError(`expected a PEM block "${label}"`)
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'))
}

export function derToPem (der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64')
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64))
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** Every PEM certificate block of a bundle, in order, each ending with a newline. */
export function splitPemCertificates (pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g)?.map(b => b + '\n') ?? []
}

export async function importPrivateKey (privateKeyPem: string): Promise<CryptoKey> {
  try {
    return await subtle.importKey('pkcs8', pemToDer(privateKeyPem, 'PRIVATE KEY'), EC_ALG, false, ['sign'])
  } catch (err) {
    if (err instanceof CertificateInvalidError) throw err
    throw new CertificateInvalidError('private key is not a PKCS#8 ECDSA P-256 key', { cause: err })
  }
}

export async function importPublicKey (publicKeyPem: string): Promise<CryptoKey> {
  try {
    return await subtle.importKey('spki', pemToDer(publicKeyPem, 'PUBLIC KEY'), EC_ALG, true, ['verify'])
  } catch (err) {
    if (err instanceof CertificateInvalidError) throw err
    throw new CertificateInvalidError('public key is not an SPKI ECDSA P-256 key', { cause: err })
  }
}

/** Random positive 128-bit serial number in hex (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
export function randomSerial (): string {
  const b = new Uint8Array(16)
  webcrypto.getRandomValues(b)
  b[0] &= 0x7f
  if (b[0] === 0) b[0] = 1
  return Buffer.from(b).toString('hex')
}
