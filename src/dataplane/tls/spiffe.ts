import type { TLSSocket } from 'node:tls'
import { urisOfSubjectAltName } from '../../pki/san.ts'

export { urisOfSubjectAltName }

export interface SpiffeParts {
  trustDomain: string
  namespace: string
  serviceAccount: string
}

// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>; trust domain per the SPIFFE spec
// (lower-case letters, digits, '.', '-', '_'), path segments without '/'.
const SPIFFE_RE = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([^/]+)\/sa\/([^/]+)$/

/**
 * Splits a mesh SPIFFE ID; null when the URI is not of the form `spiffe://<td>/ns/<ns>/sa/<sa>`.
 * @example parseSpiffeId('spiffe://cluster.local/ns/default/sa/reviews') // { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'reviews' }
 */
export function parseSpiffeId (uri: string): SpiffeParts | null {
  const m = SPIFFE_RE.exec(uri)
  if (m === null) return null
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] }
}

/**
 * The SPIFFE ID of a workload.
 * @example spiffeIdOf({ trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'reviews' }) // 'spiffe://cluster.local/ns/default/sa/reviews'
 */
export function spiffeIdOf (p: SpiffeParts): string {
  return `spiffe://${p.trustDomain}/ns/${p.namespace}/sa/${p.serviceAccount}`
}

/** The first `spiffe://` URI SAN of a `subjectaltname` string, or undefined. */
export function spiffeIdOfSubjectAltName (san: string | undefined): string | undefined {
  const uris = urisOfSubjectAltName(san)
  for (let i = 0; i < uris.length; i++) if (uris[i].startsWith('spiffe://')) return uris[i]
  return undefined
}

const kPeerId = Symbol('meshwork.peerSpiffeId')
type CachedSocket = TLSSocket & { [kPeerId]?: string | null }

/**
 * SPIFFE ID of the verified peer certificate of a TLS socket, or undefined (no client cert, not authorized,
 * or no SPIFFE URI). Only call after the handshake.
 * @example const source = peerSpiffeId(req.socket as TLSSocket)
 */
export function peerSpiffeId (socket: TLSSocket): string | undefined {
  // Perf: getPeerX509Certificate() parses DER and builds an object (~10 µs); the peer's identity cannot change
  // during a connection (renegotiation is off), so cache it on the socket: one property read per request.
  const s = socket as CachedSocket
  const cached = s[kPeerId]
  if (cached !== undefined) return cached ?? undefined
  let id: string | null = null
  if (socket.authorized) {
    const cert = socket.getPeerX509Certificate()
    if (cert !== undefined) id = spiffeIdOfSubjectAltName(cert.subjectAltName) ?? null
  }
  // Only cache once the handshake is done; before it, authorized is false and the answer could change.
  if (socket.authorized || socket.getProtocol?.() != null) s[kPeerId] = id
  return id ?? undefined
}
