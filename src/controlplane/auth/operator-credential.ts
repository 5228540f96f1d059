import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MeshError } from '../../errors.ts'

export const OPERATOR_CREDENTIAL_FILE = 'operator-credential.json'

/**
 * The operator's credential, kubeconfig-style: where the control plane is, the CA bundle that proves it
 * is the real one, and the bearer token that makes a caller an operator. Written (mode 0600) by the
 * control plane on its first start into its data dir; the CLI finds it through `<data-dir>/context.json`.
 */
export interface OperatorCredential {
  apiVersion: 'meshwork.dev/v1alpha1'
  kind: 'OperatorCredential'
  /** Control plane base URL (https://…), updated on every start. */
  endpoint: string
  /** Roots the control plane's serving certificate chains to (the mesh CA). */
  caBundlePem: string
  /** `mwop.<secret>`: sent as `authorization: Bearer <token>`. */
  token: string
}

export function operatorCredentialFile (dataDir: string): string {
  return join(dataDir, OPERATOR_CREDENTIAL_FILE)
}

/** A new operator token (256 bits). */
export function newOperatorToken (): string {
  return `mwop.${randomBytes(32).toString('base64url')}`
}

/**
 * The token of the credential in `dataDir`, created with a new token when there is none. The token
 * survives restarts (scripts keep working); delete the file to revoke it (a new one is made).
 */
export function loadOrCreateOperatorToken (dataDir: string | undefined): string {
  if (dataDir === undefined) return newOperatorToken()
  const file = operatorCredentialFile(dataDir)
  try {
    const cred = readOperatorCredential(file)
    return cred.token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return newOperatorToken()
}

/** Write the credential atomically, mode 0600 (it is a bearer secret). */
export function writeOperatorCredential (dataDir: string, cred: OperatorCredential): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = operatorCredentialFile(dataDir)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(cred, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, file)
  return file
}

/** Read and check a credential file; ENOENT passes through, anything else names the file and the reason. */
export function readOperatorCredential (file: string): OperatorCredential {
  const text = readFileSync(file, 'utf8')
  let raw: Partial<OperatorCredential>
  try {
    raw = JSON.parse(text) as Partial<OperatorCredential>
  } catch (err) {
    throw new MeshError(`${file}: not JSON (${(err as Error).message})`)
  }
  for (const k of ['endpoint', 'caBundlePem', 'token'] as const) {
    if (typeof raw?.[k] !== 'string' || raw[k] === '') throw new MeshError(`${file}: ${k}: missing; not an operator credential (remove it and restart the control plane to make a new one)`)
  }
  return { apiVersion: 'meshwork.dev/v1alpha1', kind: 'OperatorCredential', endpoint: raw.endpoint!, caBundlePem: raw.caBundlePem!, token: raw.token! }
}

/** Constant-time check of a presented bearer token against the operator token. */
export class OperatorTokenCheck {
  private readonly digest: Buffer
  constructor (token: string) { this.digest = sha256(token) }
  matches (presented: string | undefined): boolean {
    if (presented === undefined || presented === '') return false
    return timingSafeEqual(this.digest, sha256(presented))
  }
}

function sha256 (s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
