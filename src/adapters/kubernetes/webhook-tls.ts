import { EC_ALG, SIGN_ALG, derToPem, subtle, x509 } from '../../pki/crypto.ts'

export interface WebhookTls { caPem: string, certPem: string, keyPem: string }

/**
 * A CA and a serving certificate for the injector Service (`meshwork-injector.<ns>.svc`), made at
 * install time: the API server checks the webhook against `caBundle`. ECDSA P-256, one year.
 *
 * @example
 * const tls = await createWebhookTls(['meshwork-injector.meshwork.svc'])
 */
export async function createWebhookTls (dnsNames: string[], ttlMs = 365 * 86_400_000): Promise<WebhookTls> {
  const notBefore = new Date(Date.now() - 60_000)
  const notAfter = new Date(Date.now() + ttlMs)
  const caKeys = await subtle.generateKey(EC_ALG, true, ['sign', 'verify']) as CryptoKeyPair
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=meshwork injector CA, O=meshwork',
    notBefore,
    notAfter,
    signingAlgorithm: SIGN_ALG,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)
    ]
  })
  const leafKeys = await subtle.generateKey(EC_ALG, true, ['sign', 'verify']) as CryptoKeyPair
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${dnsNames[0]}, O=meshwork`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGN_ALG,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(dnsNames.map(d => ({ type: 'dns' as const, value: d })))
    ]
  })
  const keyDer = await subtle.exportKey('pkcs8', leafKeys.privateKey)
  return { caPem: ca.toString('pem') + '\n', certPem: leaf.toString('pem') + '\n', keyPem: derToPem(keyDer, 'PRIVATE KEY') }
}

function randomSerial (): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[0] &= 0x7f
  return Buffer.from(b).toString('hex')
}
