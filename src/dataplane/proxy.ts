/**
 * One Meshwork proxy process: listeners (outbound, inbound, gateway, admin), the current compiled
 * tables, the connection pools and the TLS identity. Contract: docs/architecture.md.
 *
 *   applySnapshot(raw) ── checkProxySnapshot ──▶ compileTables ──▶ this.tables = next   (one reference swap)
 *                              │ invalid                              requests in flight keep the tables they read
 *                              ▼
 *                        { ok: false, error }  (last good snapshot keeps serving)
 *
 * @example
 * const proxy = new Proxy({ listeners: { outbound: { host: '127.0.0.1', port: 15001 }, admin: { host: '127.0.0.1', port: 15000 } } })
 * await proxy.start(); proxy.applySnapshot(snapshot); …; await proxy.stop()
 */
import type { AddressInfo } from 'node:net'
// Perf: the zod-free checker (same answers as checkSnapshot): zod would add 8-12 MB to the proxy's RSS.
import { checkProxySnapshot } from '../config/snapshot-check/check-snapshot.ts'
import type { ProxySnapshot } from '../config/snapshot.ts'
import { MeshError, SnapshotRejectedError } from '../errors.ts'
import { AdminServer } from './admin.ts'
import { createHttpProbe } from './resilience/health-check.ts'
import type { Exchange, ExchangeObserver } from './filters/exchange.ts'
import { gatewayHandler, inboundHandler, outboundHandler, type PipelineContext } from './filters/pipeline.ts'
import { compileTables, type ProxyTables } from './filters/tables.ts'
import { H2Server } from './listeners/h2-downstream.ts'
import type { RequestHandler } from './listeners/downstream-connection.ts'
import { Listener, type ListenerOptions } from './listeners/listener.ts'
import { CertStore, type TlsMaterial } from './tls/cert-store.ts'
import { createDialer } from './upstream/dial.ts'
import { PoolRegistry } from './upstream/upstream-cluster.ts'
import { ProxyTelemetry } from './filters/telemetry.ts'

export interface HostPort { host: string, port: number }

export interface ProxyOptions {
  listeners: { inbound?: HostPort, outbound?: HostPort, gateway?: HostPort, admin: HostPort }
  /** Initial identity for mTLS (inbound accepts it, outbound presents it). */
  tls?: TlsMaterial
  /** Name of the Gateway resource a gateway listener serves (default: node.id of the snapshot). */
  gatewayName?: string
  /**
   * The identity comes from a control plane (`--control-plane`): `/ready` answers 503 until a certificate
   * is installed whenever the applied snapshot needs one (see {@link needsIdentity}).
   */
  requireIdentity?: boolean
  log?: (line: string) => void
}

export type ApplyResult = { ok: true, version: string } | { ok: false, error: SnapshotRejectedError }

// biome-ignore lint/suspicious/noShadowRestrictedNames: the contract (docs/architecture.md) names it Proxy
export class Proxy {
  readonly options: ProxyOptions
  private tables: ProxyTables | null = null
  private certs: CertStore | null = null
  private readonly registry: PoolRegistry
  private readonly listeners = new Map<string, Listener>()
  private readonly admin: AdminServer
  private readonly telemetry: ProxyTelemetry
  private started = false
  /** Health-check probe: plain HTTP, or mTLS with this proxy's identity for peer sidecars. */
  private readonly probe = createHttpProbe({ tls: ep => this.certs?.clientOptions(ep.endpoint.identity) ?? null })
  /** One h2 server side per listener (node:http2 is loaded on the first h2 connection only). */
  private readonly h2Servers: H2Server[] = []
  private readonly log: (line: string) => void
  /** Bound addresses after start() (ports resolved when 0 was asked). */
  readonly addresses: { inbound?: AddressInfo, outbound?: AddressInfo, gateway?: AddressInfo, admin?: AddressInfo } = {}

  constructor (options: ProxyOptions) {
    this.options = options
    this.log = options.log ?? ((line) => process.stderr.write(line + '\n'))
    if (options.tls !== undefined) this.certs = new CertStore(options.tls)
    this.registry = new PoolRegistry(createDialer(() => this.certs))
    this.telemetry = new ProxyTelemetry()
    const observer: ExchangeObserver = this.telemetry
    const ctx: PipelineContext = {
      tables: () => this.tables,
      observer,
      decorate: (ex: Exchange) => this.telemetry.decorate(ex)
    }
    const l = options.listeners
    // every listener serves HTTP/1.1 and h2 (h2c prior knowledge, or ALPN h2 on TLS) through the same pipeline
    const h2For = (handler: RequestHandler): NonNullable<ListenerOptions['onH2']> => {
      const h2 = new H2Server(handler)
      this.h2Servers.push(h2)
      return (socket, id, sniffed, authority) => h2.accept(socket, id, sniffed, authority)
    }
    if (l.outbound !== undefined) {
      const handler = outboundHandler(ctx)
      this.listeners.set('outbound', new Listener({ ...l.outbound, handler, onH2: h2For(handler), tunnels: true }))
    }
    if (l.gateway !== undefined) {
      const handler = gatewayHandler(ctx)
      this.listeners.set('gateway', new Listener({ ...l.gateway, handler, onH2: h2For(handler), terminateTls: () => this.tables?.gatewayTls ?? null }))
    }
    if (l.inbound !== undefined) {
      const handler = inboundHandler(ctx)
      this.listeners.set('inbound', new Listener({ ...l.inbound, handler, tls: () => this.certs, onH2: h2For(handler) }))
    }
    this.admin = new AdminServer(l.admin, {
      ready: () => this.readiness() === null,
      notReadyReason: () => this.readiness() ?? '',
      config: () => this.tables === null ? null : { version: this.tables.version, snapshot: this.tables.snapshot },
      metrics: () => this.telemetry.metricsText(),
      tap: (req, res) => this.telemetry.tapHandler(req, res)
    })
  }

  /** Why the proxy cannot serve yet (null = ready): listeners, snapshot, then identity. */
  private readiness (): string | null {
    if (!this.started) return 'listeners not up yet'
    const t = this.tables
    if (t === null) return 'no snapshot applied yet'
    if (this.options.requireIdentity === true && this.certs === null && needsIdentity(t, this.listeners.has('inbound'))) {
      return `mTLS is ${t.mtlsMode} and no certificate is installed yet`
    }
    return null
  }

  /** The applied snapshot (deeply frozen), or null. */
  get snapshot (): ProxySnapshot | null {
    return this.tables?.snapshot ?? null
  }

  /** Metrics registry (Prometheus) of this proxy. */
  get metrics (): ProxyTelemetry['registry'] {
    return this.telemetry.registry
  }

  /** Identity currently used for mTLS, or null. */
  get certStore (): CertStore | null {
    return this.certs
  }

  async start (): Promise<void> {
    for (const [name, l] of this.listeners) {
      (this.addresses as Record<string, AddressInfo>)[name] = await l.start()
    }
    this.addresses.admin = await this.admin.start()
    this.started = true
  }

  async stop (): Promise<void> {
    this.started = false
    if (this.tables !== null) await Promise.all(this.tables.healthCheckers.map(hc => hc.stop()))
    for (const h2 of this.h2Servers) h2.close()
    await Promise.all([...this.listeners.values()].map(l => l.stop()))
    await this.admin.stop()
    this.registry.closeAll()
    await this.telemetry.close()
    this.certs?.close()
  }

  /** Validate, compile and swap in a snapshot. Invalid → NACK with the reason; the last good one stays. */
  applySnapshot (raw: unknown, source = '<snapshot>'): ApplyResult {
    let snap: ProxySnapshot
    let next: ProxyTables
    try {
      snap = checkProxySnapshot(raw, source)
      next = compileTables(snap, this.registry, {
        gatewayName: this.listeners.has('gateway') ? (this.options.gatewayName ?? snap.node.id) : undefined,
        previous: this.tables,
        hooks: { onEject: (cluster, ep) => this.telemetry.onEject(cluster, ep) },
        probe: this.probe
      })
    } catch (err) {
      const error = err instanceof SnapshotRejectedError
        ? err
        : new SnapshotRejectedError(`${source}: ${err instanceof MeshError ? `${err.code}: ` : ''}${(err as Error).message}`, { cause: err })
      this.log(`meshwork proxy: snapshot rejected: ${error.message}`)
      this.telemetry.onSnapshotRejected()
      return { ok: false, error }
    }
    // Perf + correctness: one reference swap; requests in flight hold the tables they started with.
    const prev = this.tables
    this.tables = next
    if (prev !== null) for (const hc of prev.healthCheckers) void hc.stop()
    for (const hc of next.healthCheckers) hc.start()
    this.telemetry.onSnapshot(next)
    return { ok: true, version: next.version }
  }

  /** Switch to a new identity: new connections (both directions) use it, existing ones keep theirs. */
  setTlsMaterial (material: TlsMaterial): void {
    if (this.certs === null) this.certs = new CertStore(material)
    else this.certs.update(material)
    // idle upstream connections still carry the old certificate: drop them so the next calls present the new
    // one (connections busy with a request finish on the old one)
    this.registry.closeIdle()
  }
}

/**
 * Whether serving needs a certificate: mTLS STRICT always; PERMISSIVE when an upstream endpoint is dialed
 * with TLS or when the proxy has an inbound listener (peer sidecars dial it with mTLS); DISABLE never.
 */
export function needsIdentity (t: ProxyTables, hasInbound: boolean): boolean {
  if (t.mtlsMode === 'DISABLE') return false
  if (t.mtlsMode === 'STRICT' || hasInbound) return true
  for (const s of t.snapshot.services) for (const e of s.endpoints) if (e.tls) return true
  return false
}
