/**
 * The PEM files a Gateway's HTTPS listeners name (`tls.certificateRefs[].certFile/keyFile`), checked at the edge:
 * when a mesh file is loaded, paths relative to that file are made absolute (the control plane and the gateway proxy
 * run elsewhere than the file), and each pair must be readable PEM, a certificate and the private key that matches
 * it. A problem names the file, the line, the path and the reason (MESH_ERR_CONFIG_INVALID), so a bad certificate
 * never reaches a proxy (which would NACK it and keep its last good snapshot: filters/gateway-tls.ts).
 *
 * @example
 * const problems = resolveGatewayFiles(loaded) // after parseResources(text, 'mesh.yaml')
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ConfigProblem } from '../errors.ts'

interface Loaded { resource: { kind: string, metadata: { name: string }, spec: unknown }, file: string, line: number }

interface CertRef { certFile?: string, keyFile?: string }
interface ListenerLike { protocol?: string, tls?: { certificateRefs?: CertRef[] } }

/** Resolve and check the certificate files of every Gateway in `loaded` (in place); returns the problems found. */
export function resolveGatewayFiles (loaded: readonly Loaded[]): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const l of loaded) {
    if (l.resource.kind !== 'Gateway') continue
    const listeners = (l.resource.spec as { listeners: ListenerLike[] }).listeners
    const base = dirname(resolve(l.file))
    const label = `Gateway/${l.resource.metadata.name}`
    listeners.forEach((listener, i) => {
      const refs = listener.tls?.certificateRefs ?? []
      refs.forEach((ref, j) => {
        const at = `spec.listeners[${i}].tls.certificateRefs[${j}]`
        if (ref.certFile !== undefined && !isAbsolute(ref.certFile)) ref.certFile = resolve(base, ref.certFile)
        if (ref.keyFile !== undefined && !isAbsolute(ref.keyFile)) ref.keyFile = resolve(base, ref.keyFile)
        if (ref.certFile === undefined || ref.keyFile === undefined) return // the schema's rule already said so
        const reason = checkPemPair(ref.certFile, ref.keyFile)
        if (reason !== null) problems.push({ file: l.file, line: l.line, path: `${at}.${reason.field}`, reason: reason.text, resource: label })
      })
    })
  }
  return problems
}

/**
 * null when `certFile` holds a PEM certificate and `keyFile` the private key of its public key; else what is wrong.
 * Also used by the gateway proxy when it builds its TLS contexts.
 */
export function checkPemPair (certFile: string, keyFile: string): { field: 'certFile' | 'keyFile', text: string } | null {
  let certPem: string
  let keyPem: string
  try { certPem = readFileSync(certFile, 'utf8') } catch (err) { return { field: 'certFile', text: `cannot read ${certFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` } }
  try { keyPem = readFileSync(keyFile, 'utf8') } catch (err) { return { field: 'keyFile', text: `cannot read ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` } }
  let cert: X509Certificate
  try { cert = new X509Certificate(certPem) } catch { return { field: 'certFile', text: `${certFile} is not a PEM certificate` } }
  try {
    const key = createPrivateKey(keyPem)
    if (!cert.checkPrivateKey(key)) return { field: 'keyFile', text: `${keyFile} is not the private key of ${certFile}` }
  } catch {
    return { field: 'keyFile', text: `${keyFile} is not a PEM private key` }
  }
  return null
}
