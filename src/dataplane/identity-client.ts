import { EventEmitter } from 'node:events'
import { X509Certificate } from 'node:crypto'
// Perf: not '../pki/index.ts', which loads @peculiar/x509 (~12 MB a sidecar does not need): see tls/csr.ts.
import { generateKeyPair } from '../pki/keys.ts'
import type { ControlPlaneHttp } from './control-plane-http.ts'
import type { TlsMaterial } from './tls/cert-store.ts'
import { createProxyCsr } from './tls/csr.ts'

/**
 * The proxy's identity: makes its own key pair (the private key never leaves the process), sends only
 * the CSR, installs the certificate with `setTlsMaterial`, renews at about half of its lifetime (with
 * jitter), and follows trust-bundle updates during a root rotation. Events: `certificate` (notAfter).
 */
export class IdentityClient extends EventEmitter {
  hasCertificate = false
  private readonly target: { setTlsMaterial? (m: TlsMaterial): void }
  private readonly http: ControlPlaneHttp
  private readonly log: (line: string) => void
  private streamId: string | null = null
  private identity: string | null = null
  private material: TlsMaterial | null = null
  private trustVersion: string | null = null
  private trustBundlePem: string | null = null
  /** Root generation of the CA that issued the current leaf. */
  private issuer: number | null = null
  private renewAt = 0
  private renewTimer: NodeJS.Timeout | null = null
  private renewing: Promise<void> | null = null
  private closed = false

  constructor (target: { setTlsMaterial? (m: TlsMaterial): void }, opts: { http: ControlPlaneHttp, log?: (line: string) => void }) {
    super()
    this.target = target
    this.http = opts.http
    this.log = opts.log ?? (() => {})
  }

  /** A stream is up: adopt its trust bundle and renew when there is no certificate or one is due. */
  attach (streamId: string, identity: string, trustBundlePem: string, trustVersion: string, issuer?: number): void {
    this.streamId = streamId
    const identityChanged = this.identity !== null && this.identity !== identity
    this.identity = identity
    this.trustVersion = null // a new stream's hello is authoritative (versions restart with a new CA)
    this.updateTrust(trustBundlePem, trustVersion, false)
    // A root rotation that happened while this proxy was away: its leaf is from a root peers may no longer trust.
    const staleIssuer = issuer !== undefined && this.issuer !== null && issuer !== this.issuer
    if (!this.hasCertificate || identityChanged || staleIssuer || Date.now() >= this.renewAt) void this.renew()
  }

  detach (): void {
    this.streamId = null
  }

  /** New trust bundle (root rotation); `reissue` asks for a leaf from the new issuing CA. */
  updateTrust (trustBundlePem: string, version: string, reissue: boolean): void {
    if (this.trustVersion !== null && Number(version) < Number(this.trustVersion)) return
    this.trustVersion = version
    this.trustBundlePem = trustBundlePem
    if (this.material !== null && this.material.trustBundlePem !== trustBundlePem) {
      this.material = { ...this.material, trustBundlePem }
      this.target.setTlsMaterial?.(this.material)
    }
    if (reissue) void this.renew()
  }

  /** Key pair → CSR → CA → setTlsMaterial. Concurrent calls share one renewal. */
  renew (): Promise<void> {
    // Mark the renewal due: if this attempt cannot finish (no stream, CA down), the next attach or retry does it.
    this.renewAt = Math.min(this.renewAt, Date.now())
    if (this.renewing) return this.renewing
    this.renewing = this.doRenew().finally(() => { this.renewing = null })
    return this.renewing
  }

  close (): void {
    this.closed = true
    if (this.renewTimer) clearTimeout(this.renewTimer)
  }

  private async doRenew (): Promise<void> {
    const streamId = this.streamId
    const identity = this.identity
    if (streamId === null || identity === null || this.closed) return
    try {
      const keys = await generateKeyPair()
      const csrPem = createProxyCsr(keys.privateKeyPem, keys.publicKeyPem, identity)
      const res = await this.http.post('/v1/certificate', { streamId, csrPem })
      if (res.status !== 200) throw new Error(`${res.body?.code ?? res.status}: ${res.body?.message ?? ''}`)
      const { certPem, trustBundlePem, trustVersion, notAfter, issuer } = res.body as { certPem: string, trustBundlePem: string, trustVersion: string, notAfter: string, issuer: number }
      if (this.closed) return
      // A trust update may have overtaken this response on the stream: keep the newer bundle.
      if (this.trustVersion === null || Number(trustVersion) >= Number(this.trustVersion)) {
        this.trustVersion = trustVersion
        this.trustBundlePem = trustBundlePem
      }
      this.material = { certPem, keyPem: keys.privateKeyPem, trustBundlePem: this.trustBundlePem ?? trustBundlePem }
      this.target.setTlsMaterial?.(this.material)
      this.hasCertificate = true
      this.issuer = issuer
      const validTo = new Date(new X509Certificate(certPem).validTo)
      // Renew at ~half of the remaining life (notBefore is backdated for clock skew, so it is not the
      // issue time), ±10 % jitter so a mesh of proxies does not renew in one burst.
      const now = Date.now()
      this.renewAt = now + (validTo.getTime() - now) * (0.45 + Math.random() * 0.1)
      this.schedule(this.renewAt - Date.now())
      this.emit('certificate', notAfter)
      void this.http.post('/v1/ack', { streamId, type: 'certificate', version: String(issuer), ok: true }).catch(() => {})
    } catch (err) {
      if (this.closed) return
      this.log(`identity: certificate request failed (${(err as Error).message}); retrying`)
      this.schedule(1000 + Math.random() * 1000)
    }
  }

  private schedule (ms: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer)
    // setTimeout overflows past ~24.8 days; re-arm in steps.
    this.renewTimer = setTimeout(() => {
      this.renewTimer = null
      if (Date.now() >= this.renewAt - 5) void this.renew()
      else this.schedule(this.renewAt - Date.now())
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)))
    this.renewTimer.unref()
  }
}
