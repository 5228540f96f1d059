import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { AttestationInvalidError, AttestationMismatchError } from '../../errors.ts'

/** What a join token attests: the one workload instance it was made for. */
export interface JoinTokenBinding {
  role: 'sidecar' | 'ingress' | 'egress'
  namespace: string
  /** Sidecars: the service (and with it the SPIFFE ID) the token lets the proxy be. */
  service?: string
  /** Sidecars: the Workload version, when bound. */
  version?: string
  /** Gateways: the Gateway resource name. */
  gateway?: string
  /** The proxy id (the workload instance). Unset only for operator-issued tokens without `--id`. */
  instance?: string
}

/** The claims a proxy makes in its hello, checked against the binding. */
export interface JoinClaims { id: string, role: string, namespace: string, service?: string, version?: string, gateway?: { name: string } }

interface Entry { digest: Buffer, binding: JoinTokenBinding, expiresAt: number, usedAt: number | null }

export const JOIN_TOKEN_PREFIX = 'mwjt'
export const DEFAULT_JOIN_TOKEN_TTL_MS = 5 * 60_000

/**
 * One-time join tokens (SPIRE join-token style): `mwjt.<id>.<secret>`, 256-bit secret. Only a SHA-256 of
 * the secret is kept, in memory: a restarted control plane knows no token, so an unused one fails closed
 * (proxies that already hold a certificate reconnect with it over mTLS).
 *
 *   issue() ──► unused ──redeem() ok──► used (kept until expiry, so a replay is told apart from a forgery)
 *                 │
 *                 └── expiresAt passed ──► expired (swept)
 *
 * @example
 * const { token } = tokens.issue({ role: 'sidecar', namespace: 'default', service: 'reviews', version: 'v1', instance: 'reviews-v1-0' })
 * tokens.redeem(token, hello) // → the binding, or throws MESH_ERR_ATTESTATION_INVALID / _MISMATCH
 */
export class JoinTokenStore {
  private readonly entries = new Map<string, Entry>()
  private readonly now: () => number

  constructor (opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now
  }

  issue (binding: JoinTokenBinding, ttlMs = DEFAULT_JOIN_TOKEN_TTL_MS): { token: string, expiresAt: string } {
    this.sweep()
    const id = randomBytes(9).toString('base64url')
    const secret = randomBytes(32).toString('base64url')
    const expiresAt = this.now() + ttlMs
    this.entries.set(id, { digest: digest(secret), binding: { ...binding }, expiresAt, usedAt: null })
    return { token: `${JOIN_TOKEN_PREFIX}.${id}.${secret}`, expiresAt: new Date(expiresAt).toISOString() }
  }

  /**
   * Check a token against what the proxy claims and use it up. Refusals carry a `reason` (the label of
   * `meshwork_attestation_refused_total`): forged, replayed, expired, identity-mismatch.
   */
  redeem (token: string, claims: JoinClaims): JoinTokenBinding {
    const parts = token.split('.')
    const entry = parts.length === 3 && parts[0] === JOIN_TOKEN_PREFIX ? this.entries.get(parts[1]) : undefined
    if (entry === undefined || !safeEqual(entry.digest, digest(parts[2]))) throw refusal(new AttestationInvalidError('the join token is not one this control plane issued'), 'forged')
    if (entry.usedAt !== null) throw refusal(new AttestationInvalidError(`the join token was already used (at ${new Date(entry.usedAt).toISOString()}); join tokens are single-use`), 'replayed')
    if (this.now() >= entry.expiresAt) throw refusal(new AttestationInvalidError(`the join token expired at ${new Date(entry.expiresAt).toISOString()}`), 'expired')
    const wrong = mismatch(entry.binding, claims)
    // A mismatch does not use the token up: the legitimate proxy can still join with it.
    if (wrong !== null) throw refusal(new AttestationMismatchError(`the join token is for ${describe(entry.binding)}, not ${wrong}`), 'identity-mismatch')
    entry.usedAt = this.now()
    return entry.binding
  }

  /** Tokens neither used nor expired (for tests and status). */
  get outstanding (): number {
    const now = this.now()
    let n = 0
    for (const e of this.entries.values()) if (e.usedAt === null && now < e.expiresAt) n++
    return n
  }

  private sweep (): void {
    const now = this.now()
    for (const [id, e] of this.entries) if (now >= e.expiresAt) this.entries.delete(id)
  }
}

/** An error with the refusal reason attached, for the counter. */
export function refusal<E extends Error> (err: E, reason: string): E & { reason: string } {
  return Object.assign(err, { reason })
}

function mismatch (b: JoinTokenBinding, c: JoinClaims): string | null {
  if (b.role !== c.role) return `role ${c.role}`
  if (b.namespace !== c.namespace) return `namespace ${c.namespace}`
  if (b.role === 'sidecar' && b.service !== c.service) return `service ${c.service ?? '(none)'}`
  if (b.version !== undefined && b.version !== c.version) return `version ${c.version ?? '(none)'}`
  if (b.role !== 'sidecar' && b.gateway !== undefined && b.gateway !== c.gateway?.name) return `gateway ${c.gateway?.name ?? '(none)'}`
  if (b.instance !== undefined && b.instance !== c.id) return `instance ${c.id}`
  return null
}

export function describe (b: JoinTokenBinding): string {
  const what = b.role === 'sidecar' ? `service ${b.service}${b.version ? ` version ${b.version}` : ''}` : `${b.role} gateway ${b.gateway ?? '(any)'}`
  return `${what} in namespace ${b.namespace}${b.instance ? `, instance ${b.instance}` : ''}`
}

function digest (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

function safeEqual (a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
