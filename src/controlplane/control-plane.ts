import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigConflictError, ConfigInvalidError, type ConfigProblem } from '../errors.ts'
import { type LoadedResource, loadResourceFiles } from '../config/load.ts'
import { parseDuration } from '../config/common.ts'
import { DEFAULT_MESH_CONFIG } from '../config/mesh-config.ts'
import { resourceKey } from '../config/resource.ts'
import { checkCompiles, mergeResources, parseApplyInput } from './apply.ts'
import { CaService } from './certificate-authority.ts'
import { compileSnapshot } from './compile.ts'
import { findConflicts } from './conflicts.ts'
import { handleRequest } from './http-api.ts'
import { buildMeshView } from './mesh-view.ts'
import { type ProxyRecord, Registry } from './registry.ts'
import { StateStore } from './state-store.ts'
import { StreamServer } from './stream-server.ts'
import type { XdsServer } from './xds/xds-server.ts'

export interface ControlPlaneOptions {
  /** Mesh files loaded at start (all problems reported together; a conflict refuses to start). */
  files: string[]
  host?: string
  /** 0 = any free port. Default 15010. */
  port?: number
  /** OTLP/HTTP endpoint proxies export spans to when the MeshConfig names none. */
  tracingEndpoint?: string
  /** Where the CA (ca.json) and the applied config + known proxies (state.json) persist. */
  dataDir?: string
  /** Default: the MeshConfig's trustDomain, else cluster.local. */
  trustDomain?: string
  /** Workload certificate lifetime. Default: the MeshConfig's certificates.ttl (1h). */
  certTtlMs?: number
  /** After a restart, how long endpoints of known proxies are kept while they reconnect. */
  resyncGraceMs?: number
  /** How long a disconnected sidecar's endpoint stays before it is removed. */
  disconnectGraceMs?: number
  maxQueue?: number
  pingMs?: number
  /** Serve Envoy xDS v3 (ADS over gRPC) on this port (0 = any free port); unset = no xDS server. See docs/control-plane.md#xds. */
  xdsPort?: number
  /** Listen address of the xDS server. Default: `host` (loopback). */
  xdsHost?: string
  /** xDS push debounce: quiet time after a change before pushing (ms). Default 10. */
  xdsDebounceMs?: number
  log?: (line: string) => void
}

export interface ApplyResult {
  ok: boolean
  /** Config generation now served (unchanged when the apply was refused or changed nothing). */
  version: string
  /** Keys (`Kind/namespace/name`) the apply created or changed. */
  changed?: string[]
  code?: string
  problems?: ConfigProblem[]
}

export interface SyncStatus { id: string, status: 'SYNCED' | 'NACKED' | 'PENDING', sentVersion: string | null, ackedVersion: string | null, error?: string }

/**
 * A running control plane. Events: `change` ({ generation, reason }), `proxy` (ProxyRecord), `nack`
 * (ProxyRecord, with lastNack), `drop` (proxyId, reason: a slow stream was dropped).
 */
export class ControlPlane extends EventEmitter {
  url = ''
  readonly registry: Registry
  readonly ca: CaService
  readonly streams: StreamServer
  readonly certTtlMs: number
  /** The xDS server when started with `xdsPort`, else null; `xdsAddress` is its `host:port`. */
  xds: XdsServer | null = null
  xdsAddress: string | null = null
  private readonly server: Server
  private readonly store: StateStore
  private readonly fileResources: LoadedResource[]
  private applied: LoadedResource[]
  /** Keys deleted through the API (file resources included); applying the key again revives it. */
  private deleted: Set<string>
  private readonly log: (line: string) => void
  private rotation: Promise<unknown> | null = null

  /** Use {@link startControlPlane}. */
  constructor (parts: { registry: Registry, ca: CaService, store: StateStore, fileResources: LoadedResource[], applied: LoadedResource[], deleted: string[], certTtlMs: number, opts: ControlPlaneOptions }) {
    super()
    this.registry = parts.registry
    this.ca = parts.ca
    this.store = parts.store
    this.fileResources = parts.fileResources
    this.applied = parts.applied
    this.deleted = new Set(parts.deleted)
    this.certTtlMs = parts.certTtlMs
    this.log = parts.opts.log ?? (() => {})
    this.streams = new StreamServer(this.registry, {
      maxQueue: parts.opts.maxQueue,
      pingMs: parts.opts.pingMs,
      compile: (rec, version) => compileSnapshot({ view: this.registry.view, endpoints: (ns, s) => this.endpointsAt(version, ns, s), trustDomain: this.registry.trustDomain, version, tracingEndpoint: parts.opts.tracingEndpoint }, rec.hello),
      helloFor: (rec, streamId) => ({ type: 'hello', streamId, proxyId: rec.id, identity: rec.identity, trustBundlePem: this.ca.trustBundlePem, trustVersion: this.ca.trustVersion, issuer: this.ca.issuingGeneration })
    })
    this.server = createServer((req, res) => { handleRequest(this, req, res) })
    this.server.requestTimeout = 30_000
    this.server.keepAliveTimeout = 30_000
    for (const ev of ['change', 'proxy', 'nack'] as const) this.registry.on(ev, (...a: unknown[]) => this.emit(ev, ...a))
    this.registry.on('change', () => this.persist())
    this.registry.on('proxy', () => this.persist())
    this.registry.on('nack', (rec: ProxyRecord) => this.log(`proxy ${rec.id} NACKed version ${rec.lastNack?.version}: ${rec.lastNack?.code}: ${rec.lastNack?.message}`))
    this.streams.on('error-compile', (id: string, err: Error) => this.log(`cannot compile the snapshot of ${id}: ${err?.stack ?? err}`))
    this.streams.on('drop', (id: string, reason: string) => { this.log(`dropped slow stream of ${id} (${reason}); it will resync`); this.emit('drop', id, reason) })
  }

  async listen (host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve() })
    })
    const addr = this.server.address() as AddressInfo
    this.url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
  }

  // Perf: a push compiles one snapshot per proxy, each listing every service's endpoints; compute each
  // service's endpoints once per generation instead of once per proxy (O(services × proxies) per push).
  private endpointCache: { generation: number, byService: Map<string, ReturnType<Registry['endpoints']>> } = { generation: -1, byService: new Map() }

  private endpointsAt (version: string, namespace: string, service: string): ReturnType<Registry['endpoints']> {
    const generation = this.registry.generation
    // Only cache when compiling the current generation (its endpoints are what the registry holds now).
    if (version !== String(generation)) return this.registry.endpoints(namespace, service)
    if (this.endpointCache.generation !== generation) this.endpointCache = { generation, byService: new Map() }
    const key = `${namespace}/${service}`
    let eps = this.endpointCache.byService.get(key)
    if (eps === undefined) { eps = this.registry.endpoints(namespace, service); this.endpointCache.byService.set(key, eps) }
    return eps
  }

  /** Current config generation (the version of the snapshots being pushed). */
  get version (): string { return String(this.registry.generation) }

  /** Every resource served: the files' resources, overridden or extended by applied ones, minus deleted ones. */
  resources (): LoadedResource[] {
    return servedResources(this.fileResources, this.applied, this.deleted)
  }

  /**
   * Validate and apply resources (YAML/JSON text or objects). Refused with its problems, and nothing
   * changes, when a resource is invalid, contradicts the rest of the mesh, or would make a snapshot some
   * proxy rejects. Never throws for bad input.
   *
   * @example const r = await cp.apply(fs.readFileSync('reviews-v3.yaml', 'utf8'), 'reviews-v3.yaml')
   */
  async apply (input: string | readonly unknown[], source = '<api>'): Promise<ApplyResult> {
    return this.applyFiles([{ source, input }])
  }

  /** Apply several files as one change (all or nothing); problems keep each file's name and lines. */
  async applyFiles (files: readonly { source: string, input: string | readonly unknown[] }[]): Promise<ApplyResult> {
    const incoming: LoadedResource[] = []
    const invalid: ConfigProblem[] = []
    for (const f of files) {
      try {
        incoming.push(...parseApplyInput(f.input, f.source))
      } catch (err) {
        if (err instanceof ConfigInvalidError) invalid.push(...err.problems)
        else throw err
      }
    }
    if (invalid.length > 0) return { ok: false, version: this.version, code: new ConfigInvalidError([]).code, problems: invalid }
    const source = files.map(f => f.source).join(', ')
    const { merged, changed } = mergeResources(this.resources(), incoming)
    if (changed.length === 0) return { ok: true, version: this.version, changed }
    const conflicts = findConflicts(merged)
    if (conflicts.length > 0) return { ok: false, version: this.version, code: new ConfigConflictError([]).code, problems: conflicts }
    const view = buildMeshView(merged)
    const compileProblems = checkCompiles(view, this.registry)
    if (compileProblems.length > 0) return { ok: false, version: this.version, code: new ConfigInvalidError([]).code, problems: compileProblems }
    this.applied = mergeResources(this.applied, incoming).merged
    for (const l of incoming) this.deleted.delete(resourceKey(l.resource))
    this.registry.setView(view)
    this.log(`applied ${changed.join(', ')} from ${source} → version ${this.version}`)
    return { ok: true, version: this.version, changed }
  }

  /**
   * Delete resources by key (`Kind/namespace/name`), all or nothing, with the same checks as apply: a
   * delete that leaves the mesh inconsistent (e.g. a Workload a route still sends to) is refused.
   *
   * @example await cp.delete(['FaultInjection/default/ratings-abort'])
   */
  async delete (keys: readonly string[]): Promise<ApplyResult> {
    const current = this.resources()
    const present = new Set(current.map(l => resourceKey(l.resource)))
    const missing = keys.filter(k => !present.has(k))
    if (missing.length > 0) {
      return { ok: false, version: this.version, code: new ConfigInvalidError([]).code, problems: missing.map(k => ({ file: '<delete>', path: '', resource: k, reason: `no resource ${k}` })) }
    }
    const gone = new Set(keys)
    const remaining = current.filter(l => !gone.has(resourceKey(l.resource)))
    const conflicts = findConflicts(remaining)
    if (conflicts.length > 0) return { ok: false, version: this.version, code: new ConfigConflictError([]).code, problems: conflicts }
    const view = buildMeshView(remaining)
    const compileProblems = checkCompiles(view, this.registry)
    if (compileProblems.length > 0) return { ok: false, version: this.version, code: new ConfigInvalidError([]).code, problems: compileProblems }
    this.applied = this.applied.filter(l => !gone.has(resourceKey(l.resource)))
    for (const k of keys) this.deleted.add(k)
    if (keys.length > 0) this.registry.setView(view)
    this.log(`deleted ${keys.join(', ')} → version ${this.version}`)
    return { ok: true, version: this.version, changed: [...keys] }
  }

  /**
   * Resolve when every connected proxy has ACKed (or NACKed) the last snapshot sent to it, or after
   * `timeoutMs`; returns each proxy's state.
   */
  async waitForSync (timeoutMs = 5000): Promise<SyncStatus[]> {
    await new Promise<void>(resolve => setImmediate(resolve)) // let a scheduled push go out first
    await this.waitFor(() => this.registry.connected().every(r => syncStatus(r).status !== 'PENDING'), timeoutMs)
    return this.registry.connected().map(syncStatus)
  }

  /**
   * Rotate the root CA without failed requests: (1) trust old+new roots everywhere, (2) re-issue every
   * proxy's leaf from the new root, (3) drop the old root. Each step waits for every connected proxy
   * to confirm (up to `stepTimeoutMs`).
   */
  async rotateRoot (opts: { stepTimeoutMs?: number } = {}): Promise<{ trustVersion: string, issuer: number }> {
    if (this.rotation) await this.rotation.catch(() => {})
    const run = this.runRotation(opts.stepTimeoutMs ?? 15_000)
    this.rotation = run
    try { return await run } finally { this.rotation = null }
  }

  private async runRotation (stepTimeoutMs: number): Promise<{ trustVersion: string, issuer: number }> {
    const td = this.registry.trustDomain
    await this.ca.beginRotation(td)
    await this.pushTrust(false, stepTimeoutMs, 'trust old+new roots')
    await this.ca.switchIssuer()
    await this.pushTrust(true, stepTimeoutMs, 're-issue leaves from the new root')
    const issuer = this.ca.issuingGeneration
    const ok = await this.waitFor(() => this.registry.connected().every(r => r.certIssuer === null || r.certIssuer === issuer), stepTimeoutMs)
    if (!ok) this.log('root rotation: some proxies did not re-issue in time; dropping the old root anyway')
    await this.ca.finishRotation()
    await this.pushTrust(false, stepTimeoutMs, 'drop the old root')
    return { trustVersion: this.ca.trustVersion, issuer }
  }

  private async pushTrust (reissue: boolean, timeoutMs: number, step: string): Promise<void> {
    const version = this.ca.trustVersion
    this.log(`root rotation: ${step} (trust version ${version})`)
    this.streams.broadcast({ type: 'trust', version, trustBundlePem: this.ca.trustBundlePem, reissue })
    const ok = await this.waitFor(() => this.registry.connected().every(r => Number(r.trustAckedVersion ?? 0) >= Number(version)), timeoutMs)
    if (!ok) this.log(`root rotation: not every proxy confirmed trust version ${version} in time`)
  }

  /** Resolve true once `pred()` holds (checked on every proxy event), false after the timeout. */
  private waitFor (pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true)
    return new Promise(resolve => {
      const check = (): void => { if (pred()) done(true) }
      const timer = setTimeout(() => done(false), timeoutMs)
      const done = (v: boolean): void => { clearTimeout(timer); this.registry.off('proxy', check); resolve(v) }
      this.registry.on('proxy', check)
    })
  }

  private persist (): void {
    this.store.save(() => ({ generation: this.registry.generation, applied: this.applied, deleted: [...this.deleted], proxies: [...this.registry.proxies.values()] }))
  }

  async close (): Promise<void> {
    await this.xds?.close()
    this.streams.close()
    this.registry.close()
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
    this.persist()
    await this.store.flush()
  }
}

function servedResources (files: readonly LoadedResource[], applied: readonly LoadedResource[], deleted: ReadonlySet<string>): LoadedResource[] {
  const merged = mergeResources(files, applied).merged
  return deleted.size === 0 ? merged : merged.filter(l => !deleted.has(resourceKey(l.resource)))
}

export function syncStatus (r: ProxyRecord): SyncStatus {
  const base = { id: r.id, sentVersion: r.sentVersion, ackedVersion: r.ackedVersion }
  if (r.lastNack !== null && r.lastNack.version === r.sentVersion) return { ...base, status: 'NACKED', error: `${r.lastNack.code}: ${r.lastNack.message}` }
  if (r.sentVersion !== null && r.ackedVersion === r.sentVersion) return { ...base, status: 'SYNCED' }
  return { ...base, status: 'PENDING' }
}

/**
 * Load the mesh files, open (or create) the CA, restore persisted state and listen.
 * Throws ConfigInvalidError / ConfigConflictError when the files are not a consistent mesh.
 *
 * @example
 * const cp = await startControlPlane({ files: ['mesh.yaml'], port: 0, dataDir: '.meshwork/control' })
 * console.log(cp.url) // http://127.0.0.1:…
 */
export async function startControlPlane (opts: ControlPlaneOptions): Promise<ControlPlane> {
  const fileResources = await loadResourceFiles(opts.files)
  const store = new StateStore(opts.dataDir)
  const saved = await store.load()
  const applied = saved?.applied ?? []
  const deleted = saved?.deleted ?? []
  const merged = servedResources(fileResources, applied, new Set(deleted))
  const conflicts = findConflicts(merged)
  if (conflicts.length > 0) throw new ConfigConflictError(conflicts)
  const view = buildMeshView(merged)
  const trustDomain = opts.trustDomain ?? view.meshConfig.trustDomain ?? DEFAULT_MESH_CONFIG.trustDomain
  const certTtlMs = opts.certTtlMs ?? parseDuration(view.meshConfig.certificates.ttl)
  const ca = await CaService.open({ dataDir: opts.dataDir, trustDomain })
  const registry = new Registry({ trustDomain, disconnectGraceMs: opts.disconnectGraceMs, generation: saved?.generation ?? 0 })
  registry.view = view
  registry.bump('start')
  if (saved) registry.restore(saved.proxies.filter(p => p && typeof p.id === 'string'), opts.resyncGraceMs ?? 10_000)
  const cp = new ControlPlane({ registry, ca, store, fileResources, applied, deleted, certTtlMs, opts })
  await cp.listen(opts.host ?? '127.0.0.1', opts.port ?? 15010)
  if (opts.xdsPort !== undefined) {
    // Loaded only when asked for: the Envoy protos cost ≈ 200 ms and ≈ 30 MB.
    const { XdsServer } = await import('./xds/xds-server.ts')
    const xds = new XdsServer(registry, { debounceMs: opts.xdsDebounceMs, log: opts.log })
    const host = opts.xdsHost ?? opts.host ?? '127.0.0.1'
    try {
      const port = await xds.listen(host, opts.xdsPort)
      cp.xds = xds
      cp.xdsAddress = `${host.includes(':') ? `[${host}]` : host}:${port}`
    } catch (err) {
      await xds.close()
      await cp.close()
      throw err
    }
  }
  return cp
}

