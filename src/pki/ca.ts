import { CsrIdentityMismatchError, CsrInvalidError } from '../errors.ts'
import { EC_ALG, importPrivateKey, randomSerial, SIGN_ALG, splitPemCertificates, subtle, x509 } from './crypto.ts'
import { commonNameFor, parseAndVerifyCsr } from './csr.ts'

/**
 * A certificate authority: its certificate, its key, and the chain a leaf it signs must present.
 *
 * ```
 *  root (self-signed, in the trust bundle)
 *    └─ intermediate (chainPem = intermediate)          optional, any depth
 *         └─ leaf (signCsr → leaf + chainPem)
 * ```
 */
export interface CertificateAuthority {
  /** This CA's certificate (PEM). For a root, this is what goes in trust bundles. */
  certPem: string
  /** PKCS#8 PEM of the CA key. */
  privateKeyPem: string
  /** This CA's certificate followed by its issuing intermediates, excluding the root; '' for a root. */
  chainPem: string
  /** The self-signed root at the top of this CA's chain (equals certPem for a root). */
  rootCertPem: string
}

export interface CreateCaOptions {
  commonName: string
  ttlMs: number
  /** Defaults to now − 1 minute (tolerates small clock skew between processes). */
  notBefore?: Date
}

const CLOCK_SKEW_MS = 60_000

/**
 * A self-signed ECDSA P-256 root CA.
 * @example const root = await createRootCa({ commonName: 'meshwork root', ttlMs: 365 * 86400_000 })
 */
export async function createRootCa (opts: CreateCaOptions): Promise<CertificateAuthority> {
  const keys = await subtle.generateKey(EC_ALG, true, ['sign', 'verify']) as CryptoKeyPair
  const notBefore = opts.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${escapeDn(opts.commonName)}, O=meshwork`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CLOCK_SKEW_MS + opts.ttlMs),
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  const certPem = cert.toString('pem') + '\n'
  const privateKeyPem = await exportPkcs8(keys.privateKey)
  return { certPem, privateKeyPem, chainPem: '', rootCertPem: certPem }
}

/**
 * An intermediate CA signed by `parent` (a root or another intermediate). Its lifetime is capped at the parent's.
 * @example const issuing = await createIntermediateCa(root, { commonName: 'meshwork issuing', ttlMs: 30 * 86400_000 })
 */
export async function createIntermediateCa (parent: CertificateAuthority, opts: CreateCaOptions): Promise<CertificateAuthority> {
  const keys = await subtle.generateKey(EC_ALG, true, ['sign', 'verify']) as CryptoKeyPair
  const issuer = new x509.X509Certificate(parent.certPem)
  const notBefore = opts.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${escapeDn(opts.commonName)}, O=meshwork`,
    issuer: issuer.subject,
    notBefore,
    notAfter: capAt(new Date(notBefore.getTime() + CLOCK_SKEW_MS + opts.ttlMs), issuer.notAfter),
    publicKey: keys.publicKey,
    signingKey: await signingKeyOf(parent),
    signingAlgorithm: SIGN_ALG,
    extensions: [
      // No pathLen constraint: intermediates may be chained (root → regional → issuing) if a deployment wants it.
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey)
    ]
  })
  const certPem = cert.toString('pem') + '\n'
  return { certPem, privateKeyPem: await exportPkcs8(keys.privateKey), chainPem: certPem + parent.chainPem, rootCertPem: parent.rootCertPem }
}

export interface SignCsrOptions {
  /**
   * The SPIFFE ID the CA decided for this caller. When set, it is the only URI SAN issued, and a CSR that
   * asks for a different URI is refused with `MESH_ERR_CSR_IDENTITY_MISMATCH`. When unset, the CSR's single
   * `spiffe://` URI is used.
   */
  spiffeId?: string
  ttlMs: number
  /** Defaults to now − 1 minute. Tests use a past date to make expired certificates. */
  notBefore?: Date
}

/**
 * Verifies the CSR's signature and issues a leaf (digitalSignature, serverAuth + clientAuth, URI SAN).
 * Returns the leaf PEM followed by the CA's intermediate chain, ready to use as a TLS `cert`.
 * Throws `MESH_ERR_CSR_INVALID` or `MESH_ERR_CSR_IDENTITY_MISMATCH`.
 * @example const certPem = await signCsr(ca, csrPem, { spiffeId: 'spiffe://cluster.local/ns/default/sa/reviews', ttlMs: 3600_000 })
 */
export async function signCsr (ca: CertificateAuthority, csrPem: string, opts: SignCsrOptions): Promise<string> {
  const { csr, uris } = await parseAndVerifyCsr(csrPem)
  let spiffeId: string
  if (opts.spiffeId !== undefined) {
    for (let i = 0; i < uris.length; i++) {
      if (uris[i] !== opts.spiffeId) throw new CsrIdentityMismatchError(`CSR asks for ${uris[i]} but this caller is ${opts.spiffeId}`)
    }
    spiffeId = opts.spiffeId
  } else {
    if (uris.length !== 1 || !uris[0].startsWith('spiffe://')) throw new CsrInvalidError('CSR must name exactly one spiffe:// URI SAN')
    spiffeId = uris[0]
  }
  if (!spiffeId.startsWith('spiffe://')) throw new CsrInvalidError(`not a SPIFFE ID: ${spiffeId}`)
  return issueLeaf(ca, csr.publicKey, spiffeId, opts.ttlMs, opts.notBefore)
}

async function issueLeaf (ca: CertificateAuthority, publicKey: x509.PublicKey, spiffeId: string, ttlMs: number, notBeforeOpt?: Date): Promise<string> {
  const issuer = issuerOf(ca)
  const notBefore = notBeforeOpt ?? new Date(Date.now() - CLOCK_SKEW_MS)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${escapeDn(commonNameFor(spiffeId))}, O=meshwork`,
    issuer: issuer.subject,
    notBefore,
    notAfter: capAt(new Date(notBefore.getTime() + CLOCK_SKEW_MS + ttlMs), issuer.notAfter),
    publicKey,
    signingKey: await signingKeyOf(ca),
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey)
    ]
  })
  return cert.toString('pem') + '\n' + ca.chainPem
}

// Perf: a CA signs many CSRs; importing its key and parsing its certificate once per CA object saves ~0.3 ms a signature.
const keyCache = new WeakMap<CertificateAuthority, Promise<CryptoKey>>()
const issuerCache = new WeakMap<CertificateAuthority, x509.X509Certificate>()

function signingKeyOf (ca: CertificateAuthority): Promise<CryptoKey> {
  let k = keyCache.get(ca)
  if (k === undefined) { k = importPrivateKey(ca.privateKeyPem); keyCache.set(ca, k) }
  return k
}

function issuerOf (ca: CertificateAuthority): x509.X509Certificate {
  let c = issuerCache.get(ca)
  if (c === undefined) { c = new x509.X509Certificate(splitPemCertificates(ca.certPem)[0] ?? ca.certPem); issuerCache.set(ca, c) }
  return c
}

async function exportPkcs8 (key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key)
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`
}

function capAt (d: Date, max: Date): Date { return d.getTime() > max.getTime() ? max : d }

function escapeDn (s: string): string { return s.replace(/[,+="\\<>;#]/g, '_') }
