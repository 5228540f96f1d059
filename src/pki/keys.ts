import { generateKeyPair as nodeGenerateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'

const generate = promisify(nodeGenerateKeyPair)

export interface KeyPairPem {
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Never leaves the process that made it. */
  privateKeyPem: string
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string
}

/**
 * A fresh ECDSA P-256 key pair as PEM. Runs on the libuv pool, so it does not block the event loop.
 * @example const { privateKeyPem, publicKeyPem } = await generateKeyPair()
 */
export async function generateKeyPair (): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generate('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' }
  })
  return { privateKeyPem: privateKey, publicKeyPem: publicKey }
}
