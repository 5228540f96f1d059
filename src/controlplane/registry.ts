import { EventEmitter } from 'node:events'
import type { Endpoint } from '../config/snapshot.ts'
import { buildMeshView, type MeshView } from './mesh-view.ts'
import { proxyIdentity } from './compile.ts'
import type { ProxyHello } from './protocol.ts'

export interface NackRecord { version: string, code: string, message: string, at: string }

/** What the control plane knows about one proxy. Exposed (read-only) as `controlPlane.registry`. */
export interface ProxyRecord {
  id: string
  hello: ProxyHello
  identity: string
  /** Stream currently attached, null while disconnected. */
  streamId: string | null
  connected: boolean
  connectedAt: string | null
  disconnectedAt: string | null
  /** Restored from the data dir after a control-plane restart and not reconnected yet. */
  restored: boolean
  sentVersion: string | null
  ackedVersion: string | null
  lastNack: NackRecord | null
  /** App health reported by the sidecar (gateways: always true). */
  healthy: boolean
  healthReason: string | null
  certNotAfter: string | null
  /** Root generation of the CA that issued the current leaf. */
  certIssuer: number | null
  /** Trust bundle version the proxy confirmed. */
  trustAckedVersion: string | null
}

export type RegistryEvent = 'change' | 'proxy' | 'nack'

/**
 * The registry: the mesh's config (a {@link MeshView} per generation) plus the proxies that registered
 * themselves, from which endpoints are derived. Every change that alters what some proxy should receive
 * bumps `generation` and emits `change`; proxy state changes emit `proxy`; NACKs emit `nack`.
 *
 *   config apply ──┐
 *   proxy connect ─┼─► generation++ ─► 'change' ─► push server recompiles and pushes
 *   health report ─┘
 */
export class Registry extends EventEmitter {
  view: MeshView = buildMeshView([])
  generation = 0
  readonly proxies = new Map<string, ProxyRecord>()
  readonly trustDomain: string
  private readonly graceTimers = new Map<string, NodeJS.Timeout>()
  private readonly disconnectGraceMs: number

  constructor (opts: { trustDomain: string, disconnectGraceMs?: number, generation?: number }) {
    super()
    this.trustDomain = opts.trustDomain
    this.disconnectGraceMs = opts.disconnectGraceMs ?? 2000
    this.generation = opts.generation ?? 0
  }

  setView (view: MeshView): void {
    this.view = view
    this.bump('config')
  }

  bump (reason: string): number {
    this.generation++
    this.emit('change', { generation: this.generation, reason })
    return this.generation
  }

  /** Attach a stream. A proxy reconnecting with the same id replaces its previous stream. */
  connect (hello: ProxyHello, streamId: string): ProxyRecord {
    const prev = this.proxies.get(hello.id)
    this.clearGrace(hello.id)
    const rec: ProxyRecord = {
      id: hello.id,
      hello,
      identity: proxyIdentity(this.view, this.trustDomain, hello),
      streamId,
      connected: true,
      connectedAt: new Date().toISOString(),
      disconnectedAt: null,
      restored: false,
      sentVersion: null,
      ackedVersion: null,
      lastNack: prev?.lastNack ?? null,
      healthy: hello.role !== 'sidecar' || hello.app === undefined ? true : (prev?.healthy ?? false),
      healthReason: prev?.healthReason ?? null,
      certNotAfter: prev?.certNotAfter ?? null,
      certIssuer: prev?.certIssuer ?? null,
      trustAckedVersion: null
    }
    // A sidecar with an app starts unhealthy until it reports; one that was healthy before a reconnect
    // (control-plane restart) keeps its state so callers never lose a working endpoint.
    this.proxies.set(hello.id, rec)
    this.emit('proxy', rec)
    this.bump(`connect ${hello.id}`)
    return rec
  }

  /** Detach a stream; the proxy's endpoint stays for the grace period (a reconnect keeps it). */
  disconnect (streamId: string): void {
    const rec = this.byStream(streamId)
    if (rec === undefined) return
    rec.streamId = null
    rec.connected = false
    rec.disconnectedAt = new Date().toISOString()
    this.emit('proxy', rec)
    this.startGrace(rec.id, this.disconnectGraceMs)
  }

  /** Proxies known before a restart: their endpoints are kept for `graceMs` while they reconnect. */
  restore (records: ProxyRecord[], graceMs: number): void {
    for (const r of records) {
      if (this.proxies.has(r.id)) continue
      this.proxies.set(r.id, { ...r, streamId: null, connected: false, restored: true, sentVersion: null, ackedVersion: null, trustAckedVersion: null })
      this.startGrace(r.id, graceMs)
    }
    if (records.length > 0) this.bump('restore')
  }

  byStream (streamId: string): ProxyRecord | undefined {
    for (const r of this.proxies.values()) if (r.streamId === streamId) return r
    return undefined
  }

  ack (rec: ProxyRecord, version: string, ok: boolean, error?: { code: string, message: string }): void {
    // ACKs travel as separate requests and may arrive out of order: never go back in time.
    if (rec.ackedVersion !== null && Number(version) < Number(rec.ackedVersion)) return
    if (ok) {
      rec.ackedVersion = version
      if (rec.lastNack !== null && Number(rec.lastNack.version) <= Number(version)) rec.lastNack = null
    } else {
      rec.lastNack = { version, code: error?.code ?? 'MESH_ERR', message: error?.message ?? 'rejected', at: new Date().toISOString() }
      this.emit('nack', rec)
    }
    this.emit('proxy', rec)
  }

  setHealth (rec: ProxyRecord, healthy: boolean, reason?: string): void {
    rec.healthReason = reason ?? null
    if (rec.healthy === healthy) return
    rec.healthy = healthy
    this.emit('proxy', rec)
    if (rec.hello.role === 'sidecar' && rec.hello.inbound) this.bump(`health ${rec.id}`)
  }

  /** Endpoints of a service of a namespace: its sidecars that are connected, in their disconnect grace, or restored. */
  endpoints (namespace: string, service: string): Endpoint[] {
    const tls = this.view.meshConfig.mtls.mode !== 'DISABLE'
    const out: Endpoint[] = []
    for (const r of this.proxies.values()) {
      const h = r.hello
      if (h.role !== 'sidecar' || h.service !== service || h.namespace !== namespace || h.inbound === undefined) continue
      // A peer sidecar's inbound listener takes HTTP/1.1 and h2: a call keeps the protocol it arrived with (sidecar: true).
      out.push({ id: r.id, address: h.inbound.host, port: h.inbound.port, version: h.version, identity: r.identity, tls, protocol: 'http1', sidecar: true, healthy: r.healthy })
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    return out
  }

  /** Connected proxies. */
  connected (): ProxyRecord[] {
    return [...this.proxies.values()].filter(r => r.connected)
  }

  close (): void {
    for (const t of this.graceTimers.values()) clearTimeout(t)
    this.graceTimers.clear()
  }

  private startGrace (id: string, ms: number): void {
    this.clearGrace(id)
    const t = setTimeout(() => {
      this.graceTimers.delete(id)
      const rec = this.proxies.get(id)
      if (rec === undefined || rec.connected) return
      this.proxies.delete(id)
      this.emit('proxy', { ...rec, removed: true })
      this.bump(`remove ${id}`)
    }, ms)
    t.unref()
    this.graceTimers.set(id, t)
  }

  private clearGrace (id: string): void {
    const t = this.graceTimers.get(id)
    if (t !== undefined) { clearTimeout(t); this.graceTimers.delete(id) }
  }
}
