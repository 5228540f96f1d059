/**
 * TLS termination for a Gateway's HTTPS listeners (`tls.mode: Terminate`): one SecureContext per listener from its
 * PEM files, chosen by SNI (the listener's `hostname`: exact, then `*.example.com`; a client without SNI or with an
 * unknown name gets the first HTTPS listener's certificate), ALPN `h2` then `http/1.1`. Compiled once per snapshot
 * (filters/tables.ts); unchanged files keep the same contexts across swaps (a context holds ≈ 45–150 KB of OpenSSL
 * memory: tls/cert-store.ts). Unreadable or mismatched files reject the snapshot (the last good one keeps serving).
 *
 * Locally the gateway proxy serves all of a Gateway's listeners on its one port: a TLS ClientHello is terminated
 * here, anything else is served as cleartext HTTP/1.1 or h2c (listeners/listener.ts sniffs the first byte).
 *
 * @example
 * const term = compileGatewayTls(gateway, previous) // null when the Gateway has no HTTPS listener
 */
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext, type TlsOptions } from 'node:tls'
import type { Gateway } from '../../config/gateway.ts'
import { checkPemPair } from '../../config/gateway-files.ts'
import { SnapshotRejectedError } from '../../errors.ts'

export interface TlsTermination {
  /** Options of the (never listening) tls.Server that terminates; the identity of this object is its version. */
  readonly options: TlsOptions
  /** The PEM text it was built from (to reuse it when a new snapshot names the same files with the same content). */
  readonly key: string
}

const ALPN = ['h2', 'http/1.1']

export function compileGatewayTls (gw: Gateway | undefined, previous: TlsTermination | null): TlsTermination | null {
  if (gw === undefined) return null
  const entries: { host: string | null, certPem: string, keyPem: string }[] = []
  gw.spec.listeners.forEach((l, i) => {
    if (l.protocol !== 'HTTPS' || l.tls === undefined) return
    const ref = l.tls.certificateRefs?.[0]
    if (ref?.certFile === undefined || ref.keyFile === undefined) return
    const bad = checkPemPair(ref.certFile, ref.keyFile)
    if (bad !== null) throw new SnapshotRejectedError(`Gateway/${gw.metadata.name}: spec.listeners[${i}].tls.certificateRefs[0].${bad.field}: ${bad.text}`)
    entries.push({ host: l.hostname !== undefined && l.hostname !== '' ? l.hostname.toLowerCase() : null, certPem: readFileSync(ref.certFile, 'utf8'), keyPem: readFileSync(ref.keyFile, 'utf8') })
  })
  if (entries.length === 0) return null
  const key = JSON.stringify(entries)
  if (previous !== null && previous.key === key) return previous
  const contexts = entries.map(e => ({ host: e.host, context: createSecureContext({ cert: e.certPem, key: e.keyPem, minVersion: 'TLSv1.2' }) }))
  const fallback = contexts[0].context
  const byName = (servername: string): SecureContext => {
    const name = servername.toLowerCase()
    for (const c of contexts) if (c.host === name) return c.context
    for (const c of contexts) {
      if (c.host?.startsWith('*.') && name.length > c.host.length - 1 && name.endsWith(c.host!.slice(1))) return c.context
    }
    for (const c of contexts) if (c.host === null) return c.context
    return fallback
  }
  return Object.freeze({
    key,
    options: {
      cert: entries[0].certPem,
      key: entries[0].keyPem,
      minVersion: 'TLSv1.2' as const,
      ALPNProtocols: ALPN,
      SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, byName(servername))
    }
  })
}
