import { EventEmitter } from 'node:events'
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import * as tls from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { CertificateInvalidError, PeerIdentityError } from '../../errors.ts'
import { spiffeIdOfSubjectAltName, urisOfSubjectAltName } from './spiffe.ts'

/** What a proxy needs for mTLS: its certificate chain, its key, and the roots it trusts (several during a root rotation). */
export interface TlsMaterial {
  /** Leaf followed by intermediates (PEM). */
  certPem: string
  /** PKCS#8 PEM. */
  keyPem: string
  /** One or more root certificates (PEM, concatenated). */
  trustBundlePem: string
}

export interface CertStoreEvents {
  /** New material is in use; new connections get it, existing ones continue on the old. */
  rotated: [info: { spiffeId: string | undefined, notAfter: Date }]
  /** A reload from files failed; the previous material stays in use. */
  invalid: [err: CertificateInvalidError]
}

const TLS_DEFAULTS = { minVersion: 'TLSv1.2' as const }
// A server that verifies client certificates must have a session id context, or OpenSSL fails any resumption
// attempt (`session id context uninitialized`); tls.Server sets one on its own contexts, ours needs it too.
const SESSION_ID_CONTEXT = 'meshwork'

/**
 * Holds the proxy's current TLS identity and hands out contexts and options built from it.
 *
 * ```
 *   update(material) ──► validate (key matches cert, bundle parses) ──► ONE new SecureContext ──► emit 'rotated'
 *                                                                           │
 *        outbound tls.connect, SNICallback, attached tls.Server  ◄─────────┘   (new handshakes only)
 * ```
 * One `tls.SecureContext` per certificate generation, shared by the server and the client role and by every
 * attached server: a context holds ~45–150 KB of OpenSSL memory that V8 does not see (it counts 1 KB), lives
 * as long as the generation (so it is promoted to the old space) and is freed only by a full GC, which a
 * proxy with a small steady heap runs rarely. Three contexts per rotation (server, client, and one more per
 * attached server from `setSecureContext`) made a sidecar's RSS grow with the rotation rate
 * (test/reliability/README.md, soak).
 * @example
 * const store = new CertStore({ certPem, keyPem, trustBundlePem })
 * const server = tls.createServer(store.serverOptions(), onSocket); store.attach(server)
 * const sock = tls.connect({ host, port, ...store.clientOptions('spiffe://cluster.local/ns/default/sa/reviews') })
 */
export class CertStore extends EventEmitter<CertStoreEvents> {
  #material: TlsMaterial
  #context: tls.SecureContext
  #spiffeId: string | undefined
  #notAfter: Date
  #servers = new Set<tls.Server>()
  #watchers: FSWatcher[] = []
  #checkers = new Map<string, (host: string, cert: tls.PeerCertificate) => Error | undefined>()

  constructor (material: TlsMaterial) {
    super()
    const built = build(material)
    this.#material = material
    this.#context = built.context
    this.#spiffeId = built.spiffeId
    this.#notAfter = built.notAfter
  }

  /** Current material (PEM strings). */
  get material (): TlsMaterial { return this.#material }
  /** SPIFFE ID of the current certificate. */
  get spiffeId (): string | undefined { return this.#spiffeId }
  get notAfter (): Date { return this.#notAfter }
  /** The current generation's context: own cert + key, trust bundle to verify peers (server and client role). */
  get secureContext (): tls.SecureContext { return this.#context }
  /** The same context as {@link secureContext} (shared by every outbound connection until the next rotation). */
  get clientSecureContext (): tls.SecureContext { return this.#context }

  /**
   * Validates and switches to new material; throws `MESH_ERR_CERT_INVALID` and keeps the old one if it is bad.
   * Attached servers use it for new handshakes; established connections are untouched.
   */
  update (material: TlsMaterial): void {
    const built = build(material)
    this.#material = material
    this.#context = built.context
    this.#spiffeId = built.spiffeId
    this.#notAfter = built.notAfter
    for (const s of this.#servers) pointServerAt(s, built.context, material)
    this.emit('rotated', { spiffeId: built.spiffeId, notAfter: built.notAfter })
  }

  /**
   * Options for `tls.createServer` / `https.createServer` / `http2.createSecureServer`: mutual TLS required.
   * Pass `{ requireClientCert: false }` for PERMISSIVE mode (then check `socket.authorized` per connection).
   */
  serverOptions (opts: { requireClientCert?: boolean } = {}): tls.TlsOptions {
    const require = opts.requireClientCert !== false
    return {
      ...contextOptions(this.#material),
      requestCert: true,
      rejectUnauthorized: require,
      // Clients that send SNI get the current context without a per-server update.
      SNICallback: (_name, cb) => cb(null, this.#context)
    }
  }

  /** Keeps `server` on the current material: each rotation hands it the new generation's context. Detaches on 'close'. */
  attach (server: tls.Server): void {
    if (this.#servers.has(server)) return
    this.#servers.add(server)
    pointServerAt(server, this.#context, this.#material)
    server.once('close', () => { this.#servers.delete(server) })
  }

  detach (server: tls.Server): void { this.#servers.delete(server) }

  /**
   * Options for `tls.connect` (or undici `connect`): the shared client context, and — when `expectedSpiffeId`
   * is given — a `checkServerIdentity` that compares the peer's URI SAN with it instead of the hostname.
   * A mismatch fails the connection with `MESH_ERR_PEER_IDENTITY`.
   */
  clientOptions (expectedSpiffeId?: string): tls.ConnectionOptions {
    return {
      secureContext: this.#context,
      checkServerIdentity: expectedSpiffeId === undefined ? acceptAnyIdentity : this.#checkerFor(expectedSpiffeId),
      ...TLS_DEFAULTS
    }
  }

  /** `checkServerIdentity` for one expected SPIFFE ID (cached per ID). */
  #checkerFor (expected: string): (host: string, cert: tls.PeerCertificate) => Error | undefined {
    let fn = this.#checkers.get(expected)
    if (fn === undefined) {
      fn = checkSpiffeIdentity(expected)
      this.#checkers.set(expected, fn)
    }
    return fn
  }

  /**
   * Reloads from the files on change (watches their directories, so atomic renames are seen). A reload that
   * fails validation (e.g. cert written but key not yet) emits 'invalid' and keeps the old material.
   */
  watch (files: { certPath: string, keyPath: string, caPath: string }, debounceMs = 50): this {
    this.unwatch()
    const names = new Set([files.certPath, files.keyPath, files.caPath].map(p => resolve(p)))
    const dirs = new Set([...names].map(p => dirname(p)))
    let timer: NodeJS.Timeout | null = null
    const reload = (): void => {
      timer = null
      let material: TlsMaterial
      try {
        material = readMaterial(files.certPath, files.keyPath, files.caPath)
      } catch (err) {
        this.emit('invalid', new CertificateInvalidError('could not read TLS files', { cause: err }))
        return
      }
      if (material.certPem === this.#material.certPem && material.keyPem === this.#material.keyPem &&
        material.trustBundlePem === this.#material.trustBundlePem) return
      try {
        this.update(material)
      } catch (err) {
        this.emit('invalid', err instanceof CertificateInvalidError ? err : new CertificateInvalidError('bad TLS files', { cause: err }))
      }
    }
    for (const dir of dirs) {
      const w = watch(dir, { persistent: false }, (_ev, name) => {
        if (name !== null && !names.has(resolve(dir, name.toString())) && !isAtomicTemp(name.toString(), names)) return
        if (timer !== null) clearTimeout(timer)
        timer = setTimeout(reload, debounceMs)
      })
      this.#watchers.push(w)
    }
    return this
  }

  unwatch (): void {
    for (const w of this.#watchers) w.close()
    this.#watchers = []
  }

  /** Stops watching and detaches servers. */
  close (): void {
    this.unwatch()
    this.#servers.clear()
  }

  /**
   * A store loaded from PEM files. Call `.watch(...)` to follow changes.
   * @example const store = CertStore.fromFiles('tls/cert.pem', 'tls/key.pem', 'tls/ca.pem').watch({ certPath, keyPath, caPath })
   */
  static fromFiles (certPath: string, keyPath: string, caPath: string): CertStore {
    const store = new CertStore(readMaterial(certPath, keyPath, caPath))
    return store
  }
}

/** `fromFiles` + `watch` in one call. */
export function fromFiles (certPath: string, keyPath: string, caPath: string, opts: { watch?: boolean } = {}): CertStore {
  const store = CertStore.fromFiles(certPath, keyPath, caPath)
  if (opts.watch === true) store.watch({ certPath, keyPath, caPath })
  return store
}

/**
 * A `checkServerIdentity` that accepts exactly `expected` as the peer's SPIFFE URI SAN (the chain was already
 * verified against the trust bundle by then).
 */
export function checkSpiffeIdentity (expected: string): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = urisOfSubjectAltName(cert.subjectaltname)
    for (let i = 0; i < uris.length; i++) if (uris[i] === expected) return undefined
    const err = new PeerIdentityError(`peer is ${uris.join(' ') || 'without a URI SAN'}, expected ${expected}`)
    return err
  }
}

function acceptAnyIdentity (): undefined { return undefined }

function readMaterial (certPath: string, keyPath: string, caPath: string): TlsMaterial {
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8'), trustBundlePem: readFileSync(caPath, 'utf8') }
}

function contextOptions (m: TlsMaterial): tls.SecureContextOptions {
  return { cert: m.certPem, key: m.keyPem, ca: m.trustBundlePem, sessionIdContext: SESSION_ID_CONTEXT, ...TLS_DEFAULTS }
}

/** tls.Server keeps the context of new handshakes in `_sharedCreds` (Node ≥ 0.x through 24; `setSecureContext` sets it). */
interface ServerWithCreds { _sharedCreds?: tls.SecureContext }

/**
 * Points `server`'s new handshakes at `ctx`. `server.setSecureContext(options)` is the public way, but it builds
 * another context from the PEMs every rotation; assigning the generation's context shares it instead. Falls
 * back to `setSecureContext` if a Node version no longer has the field (tls.test.ts checks which path runs).
 */
function pointServerAt (server: tls.Server, ctx: tls.SecureContext, m: TlsMaterial): void {
  const s = server as tls.Server & ServerWithCreds
  if (s._sharedCreds !== undefined) s._sharedCreds = ctx
  else server.setSecureContext(contextOptions(m))
}

function build (m: TlsMaterial): { context: tls.SecureContext, spiffeId: string | undefined, notAfter: Date } {
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(m.certPem)
  } catch (err) {
    throw new CertificateInvalidError('certificate PEM could not be parsed', { cause: err })
  }
  if (!/-----BEGIN CERTIFICATE-----/.test(m.trustBundlePem)) throw new CertificateInvalidError('trust bundle holds no certificate')
  let context: tls.SecureContext
  try {
    // createSecureContext checks that the key matches the certificate.
    context = tls.createSecureContext(contextOptions(m))
  } catch (err) {
    throw new CertificateInvalidError('TLS material rejected (key does not match certificate, or bad PEM)', { cause: err })
  }
  return { context, spiffeId: spiffeIdOfSubjectAltName(leaf.subjectAltName), notAfter: new Date(leaf.validTo) }
}

// Editors and Kubernetes secret volumes write via temp files / `..data` symlink swaps.
function isAtomicTemp (name: string, watched: Set<string>): boolean {
  if (name.startsWith('..')) return true
  for (const p of watched) if (name.startsWith(basename(p))) return true
  return false
}
