import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { Counter, Registry as MetricsRegistry } from '../../dataplane/telemetry/metrics.ts'
import { controlPlaneSpiffeId, peerUris } from '../../dataplane/tls/control-plane-identity.ts'
import { AttestationInvalidError, AttestationMismatchError, AttestationRequiredError, type MeshError, TokenReviewUnavailableError } from '../../errors.ts'
import { spiffeId } from '../mesh-view.ts'
import type { ProxyHello } from '../protocol.ts'
import { JOIN_TOKEN_PREFIX, type JoinTokenStore, refusal } from './join-tokens.ts'
import type { TokenReviewer } from './kubernetes-token-review.ts'

/** How a proxy proved who it is (the `attestation` field of `GET /v1/proxies`). */
export type AttestationKind = 'join-token' | 'kubernetes-token' | 'certificate-renewal'

export interface Attestation { kind: AttestationKind, identity: string, at: string }

/**
 * Decides whether a proxy may be the workload it claims (its hello), from what the request carries:
 *
 *   client certificate (mTLS, chains to the mesh CA, not expired) ─► certificate-renewal
 *   authorization: Bearer mwjt.…  (one-time join token)          ─► join-token
 *   authorization: Bearer <JWT>   (projected SA token, TokenReview)─► kubernetes-token
 *   nothing                                                       ─► 401 MESH_ERR_ATTESTATION_REQUIRED
 *
 * Every refusal is counted in `meshwork_attestation_refused_total{reason}`.
 */
export class Attestor {
  readonly refused: Counter
  readonly accepted: Counter
  private readonly tokens: JoinTokenStore
  private readonly reviewer: TokenReviewer | null
  private readonly trustDomain: string

  constructor (opts: { tokens: JoinTokenStore, reviewer: TokenReviewer | null, metrics: MetricsRegistry, trustDomain: string }) {
    this.tokens = opts.tokens
    this.reviewer = opts.reviewer
    this.trustDomain = opts.trustDomain
    this.refused = opts.metrics.counter('meshwork_attestation_refused_total', 'Stream openings and certificate requests the control plane refused, by reason (missing, forged, replayed, expired, identity-mismatch, certificate-invalid, renewal-without-certificate, kubernetes-token-*, reserved-identity).', ['reason'])
    this.accepted = opts.metrics.counter('meshwork_attestations_total', 'Proxies attested, by how (join-token, kubernetes-token, certificate-renewal).', ['kind'])
  }

  /** Attest a stream opening (`POST /v1/stream`) for the identity the control plane decided for `hello`. */
  async attestStream (req: IncomingMessage, hello: ProxyHello, identity: string): Promise<Attestation> {
    try {
      const a = await this.decide(req, hello, identity)
      this.accepted.labels(a.kind).inc()
      return a
    } catch (err) {
      this.count(err)
      throw err
    }
  }

  /**
   * A CSR on a stream that already got a certificate (or was opened with one) is a renewal: it must come
   * over mTLS with a still-valid certificate of the same identity. The join token buys the first one only.
   */
  checkRenewal (req: IncomingMessage, identity: string): void {
    const peer = peerCertificate(req)
    try {
      if (peer === null) throw refusal(new AttestationRequiredError('a renewal must be made over mTLS with the still-valid certificate'), 'renewal-without-certificate')
      if (!peer.authorized) throw refusal(new AttestationInvalidError(`the client certificate is not valid (${peer.error})`), 'certificate-invalid')
      if (!peer.uris.includes(identity)) throw refusal(new AttestationMismatchError(`the client certificate is ${peer.uris.join(', ') || 'without SPIFFE ID'}, not ${identity}`), 'identity-mismatch')
    } catch (err) {
      this.count(err)
      throw err
    }
  }

  private count (err: unknown): void {
    this.refused.labels((err as { reason?: string }).reason ?? (err instanceof TokenReviewUnavailableError ? 'kubernetes-token-review-unavailable' : 'other')).inc()
  }

  private async decide (req: IncomingMessage, hello: ProxyHello, identity: string): Promise<Attestation> {
    const at = new Date().toISOString()
    if (identity === controlPlaneSpiffeId(this.trustDomain)) throw refusal(new AttestationMismatchError(`${identity} is the control plane's own identity; no workload gets it`), 'reserved-identity')
    const peer = peerCertificate(req)
    if (peer !== null) {
      if (!peer.authorized) throw refusal(new AttestationInvalidError(`the client certificate is not valid (${peer.error})`), 'certificate-invalid')
      if (!peer.uris.includes(identity)) throw refusal(new AttestationMismatchError(`the client certificate is ${peer.uris.join(', ') || 'without SPIFFE ID'}, but ${hello.id} claims ${identity}`), 'identity-mismatch')
      return { kind: 'certificate-renewal', identity, at }
    }
    const auth = req.headers.authorization
    const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? auth.slice(7).trim() : null
    if (bearer === null || bearer === '') throw refusal(new AttestationRequiredError(`${hello.id} presented no attestation: a join token (authorization: Bearer mwjt.…), a Kubernetes service-account token or a client certificate is required`), 'missing')
    if (bearer.startsWith(`${JOIN_TOKEN_PREFIX}.`)) {
      this.tokens.redeem(bearer, { id: hello.id, role: hello.role, namespace: hello.namespace, service: hello.service, version: hello.version, gateway: hello.gateway })
      return { kind: 'join-token', identity, at }
    }
    if (this.reviewer === null) throw refusal(new AttestationInvalidError('the bearer token is not a join token, and this control plane verifies no Kubernetes tokens (start it with --kubernetes-token-review)'), 'forged')
    const account = await this.reviewer.review(bearer)
    const granted = spiffeId(this.trustDomain, account.namespace, account.serviceAccount)
    if (granted !== identity) throw refusal(new AttestationMismatchError(`the service-account token is ${account.namespace}/${account.serviceAccount} (${granted}), but ${hello.id} claims ${identity}`), 'identity-mismatch')
    return { kind: 'kubernetes-token', identity, at }
  }
}

/** The client certificate of a TLS request, or null when none was presented (or the request is not TLS). */
export function peerCertificate (req: IncomingMessage): { authorized: boolean, error: string, uris: string[] } | null {
  const sock = req.socket as TLSSocket
  if (typeof sock.getPeerCertificate !== 'function') return null
  const cert = sock.getPeerCertificate()
  if (cert === null || Object.keys(cert).length === 0) return null
  return { authorized: sock.authorized, error: String(sock.authorizationError ?? ''), uris: peerUris(cert) }
}

/** True for the errors of this module (so the HTTP edge can answer with their status). */
export function isAttestationError (err: unknown): err is MeshError {
  return err instanceof AttestationRequiredError || err instanceof AttestationInvalidError || err instanceof AttestationMismatchError
}
