import type { PeerCertificate } from 'node:tls'

/** The namespace and account of the control plane's own serving certificate (reserved: no workload gets it). */
export const CONTROL_PLANE_NAMESPACE = 'meshwork-system'
export const CONTROL_PLANE_ACCOUNT = 'meshwork-control-plane'

/** SPIFFE ID of the control plane's serving certificate. @example controlPlaneSpiffeId('cluster.local') */
export function controlPlaneSpiffeId (trustDomain: string): string {
  return `spiffe://${trustDomain}/ns/${CONTROL_PLANE_NAMESPACE}/sa/${CONTROL_PLANE_ACCOUNT}`
}

/** The `URI:` entries of a certificate's subjectAltName. */
export function peerUris (cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  const san = cert?.subjectaltname
  if (!san) return []
  return san.split(', ').filter(s => s.startsWith('URI:')).map(s => s.slice(4))
}

/**
 * `checkServerIdentity` for clients of the control plane: the server must present the control plane's
 * SPIFFE ID (any trust domain: the CA bundle the client pins decides which one). Host names and IPs are
 * not checked: the control plane is reached on loopback, through a pod's gateway address or a Service.
 */
export function checkControlPlaneIdentity (_host: string, cert: PeerCertificate): Error | undefined {
  const uris = peerUris(cert)
  if (uris.some(u => /^spiffe:\/\/[^/]+\/ns\/meshwork-system\/sa\/meshwork-control-plane$/.test(u))) return undefined
  return Object.assign(new Error(`the server is not the Meshwork control plane (its certificate names ${uris.join(', ') || 'no SPIFFE ID'})`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
}
