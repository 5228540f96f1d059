import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MeshError } from '../errors.ts'
import { type CertificateAuthority, createIntermediateCa, createRootCa, parseCertificate, signCsr } from '../pki/index.ts'
import type { IssuedCertificate } from './protocol.ts'

const ROOT_TTL_MS = 10 * 365 * 86_400_000
const INTERMEDIATE_TTL_MS = 365 * 86_400_000

interface Generation { gen: number, root: CertificateAuthority, issuing: CertificateAuthority }

interface CaState {
  /** Bumped on every change of the trust bundle or of the issuing CA. */
  trustVersion: number
  /** Generations whose roots are in the trust bundle (oldest first). */
  trusted: Generation[]
  /** Generation that signs leaves now. */
  issuingGen: number
}

/**
 * The mesh's certificate authority: a root and an intermediate per generation, signing proxies' CSRs
 * with the SPIFFE ID the control plane decided. Persisted in `<dataDir>/ca.json` (mode 0600) so a
 * restarted control plane keeps the same identity; in memory when there is no dataDir.
 *
 * Root rotation, three steps (each one pushed to every proxy, see ControlPlane.rotateRoot):
 *
 *   trusted: [old]        [old, new]          [old, new]          [new]
 *   issuing:  old    ─►    old          ─►     new (re-issue)  ─►  new
 *                     beginRotation()    switchIssuer()      finishRotation()
 */
export class CaService {
  private state: CaState
  private readonly file: string | null

  private constructor (state: CaState, file: string | null) {
    this.state = state
    this.file = file
  }

  /** @example const ca = await CaService.open({ dataDir: '/var/lib/meshwork', trustDomain: 'cluster.local' }) */
  static async open (opts: { dataDir?: string, trustDomain: string }): Promise<CaService> {
    const file = opts.dataDir ? join(opts.dataDir, 'ca.json') : null
    if (file) {
      let text: string | null = null
      try {
        text = await readFile(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
      if (text !== null) {
        try {
          return new CaService(JSON.parse(text) as CaState, file)
        } catch (err) {
          // Never silently replace a mesh's CA: every proxy's trust depends on it.
          throw new MeshError(`${file} is not a readable CA state (${(err as Error).message}); restore it or remove it to create a new CA`)
        }
      }
    }
    const first = await newGeneration(1, opts.trustDomain)
    const ca = new CaService({ trustVersion: 1, trusted: [first], issuingGen: 1 }, file)
    await ca.save()
    return ca
  }

  get trustVersion (): string { return String(this.state.trustVersion) }
  get issuingGeneration (): number { return this.state.issuingGen }
  get trustBundlePem (): string { return this.state.trusted.map(g => g.root.certPem).join('') }
  get rotating (): boolean { return this.state.trusted.length > 1 }

  /** Sign a proxy's CSR for the identity the control plane decided (any other URI in the CSR is refused). */
  async sign (csrPem: string, spiffeId: string, ttlMs: number): Promise<IssuedCertificate> {
    const gen = this.state.trusted.find(g => g.gen === this.state.issuingGen)!
    const certPem = await signCsr(gen.issuing, csrPem, { spiffeId, ttlMs })
    const info = parseCertificate(certPem)
    return {
      certPem,
      trustBundlePem: this.trustBundlePem,
      trustVersion: this.trustVersion,
      identity: spiffeId,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuer: gen.gen
    }
  }

  /** Step 1: make a new root and trust it next to the old one. Leaves are still issued by the old. */
  async beginRotation (trustDomain: string): Promise<void> {
    if (this.rotating) return
    const last = this.state.trusted[this.state.trusted.length - 1]
    this.state.trusted.push(await newGeneration(last.gen + 1, trustDomain))
    this.state.trustVersion++
    await this.save()
  }

  /** Step 2: issue leaves from the new generation (proxies are asked to re-issue). */
  async switchIssuer (): Promise<void> {
    const newest = this.state.trusted[this.state.trusted.length - 1]
    this.state.issuingGen = newest.gen
    this.state.trustVersion++
    await this.save()
  }

  /** Step 3: stop trusting every root but the issuing one. */
  async finishRotation (): Promise<void> {
    this.state.trusted = this.state.trusted.filter(g => g.gen === this.state.issuingGen)
    this.state.trustVersion++
    await this.save()
  }

  private async save (): Promise<void> {
    if (this.file === null) return
    await mkdir(join(this.file, '..'), { recursive: true, mode: 0o700 })
    const tmp = `${this.file}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(this.state), { mode: 0o600 })
    await rename(tmp, this.file)
  }
}

async function newGeneration (gen: number, trustDomain: string): Promise<Generation> {
  const root = await createRootCa({ commonName: `meshwork root ${trustDomain} g${gen}`, ttlMs: ROOT_TTL_MS })
  const issuing = await createIntermediateCa(root, { commonName: `meshwork issuing ${trustDomain} g${gen}`, ttlMs: INTERMEDIATE_TTL_MS })
  return { gen, root, issuing }
}
