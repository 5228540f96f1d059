import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRootCa, issueTestIdentity } from '../../pki/index.ts'

/** PEM files of one workload identity on disk (for nginx/HAProxy and `meshwork proxy --cert/--key/--ca`). */
export interface IdentityFiles {
  spiffeId: string
  /** Service account: also the certificate's CN (what nginx/HAProxy verify the peer name against). */
  name: string
  certFile: string
  keyFile: string
  /** Certificate chain + key in one file (HAProxy `crt`). */
  pemFile: string
  caFile: string
  certPem: string
  keyPem: string
  caPem: string
}

/**
 * A throw-away root CA and one identity per name, written into `dir`, valid for `ttlMs`.
 * @example const ids = await writeBenchIdentities(dir, ['bench-client', 'app'])
 */
export async function writeBenchIdentities (dir: string, names: string[], trustDomain = 'cluster.local', ttlMs = 24 * 3600_000): Promise<Record<string, IdentityFiles>> {
  const root = await createRootCa({ commonName: 'meshwork bench root', ttlMs })
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, root.certPem)
  const out: Record<string, IdentityFiles> = {}
  for (const name of names) {
    const spiffeId = `spiffe://${trustDomain}/ns/default/sa/${name}`
    const id = await issueTestIdentity(root, spiffeId, ttlMs)
    const certFile = join(dir, `${name}.crt`)
    const keyFile = join(dir, `${name}.key`)
    const pemFile = join(dir, `${name}.pem`)
    writeFileSync(certFile, id.certPem)
    writeFileSync(keyFile, id.privateKeyPem)
    writeFileSync(pemFile, id.certPem + id.privateKeyPem)
    chmodSync(keyFile, 0o600)
    chmodSync(pemFile, 0o600)
    out[name] = { spiffeId, name, certFile, keyFile, pemFile, caFile, certPem: id.certPem, keyPem: id.privateKeyPem, caPem: root.certPem }
  }
  return out
}
