import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type ControlPlane, startControlPlane } from '../controlplane/control-plane.ts'
import { LogSink } from './log-sink.ts'
import { type MeshPlan, type PlannedGateway, type PlannedInstance, planMesh } from './mesh-plan.ts'
import { formatMeshSummary } from './mesh-summary.ts'
import { defaultMeshFile, meshworkCommand } from './meshwork-command.ts'
import { PortAllocator } from './ports.ts'
import { type ScrapeTarget, writePrometheusConfig, writeScrapeTargets } from './prometheus.ts'
import { gatewayArgs, sidecarArgs } from './proxy-args.ts'
import type { SupervisedProcess } from './supervised-process.ts'
import { Supervisor } from './supervisor.ts'
import { instanceFingerprint, type ReconcileResult, WorkloadReconciler } from './workload-reconciler.ts'

export interface LocalMeshOptions {
  /** Mesh files; default: the embedded Bookinfo mesh. */
  files?: string[]
  /** Logs, control-plane state (CA, applied config) and the Prometheus config. Default `.meshwork`. */
  dataDir?: string
  /** Port of the ingress gateway; 0 = any free port. Default 8080. */
  ingressPort?: number
  /** Port of the control plane; 0 = any free port. Default 15010. */
  controlPort?: number
  /** Port of the management server (UI); 0 = any free port. Default 8088. */
  uiPort?: number
  /** Serve Envoy xDS v3 (ADS over gRPC) from the control plane on this loopback port; unset = off. */
  xdsPort?: number
  /**
   * Hook for the management plane (`meshwork server`): started last, stopped first. When absent (or it
   * returns null) no UI URL is printed.
   */
  management?: (ctx: ManagementHookContext) => Promise<{ url: string, close (): Promise<void> } | null>
  /** Copy every process's output, prefixed with its name, to this stream (the terminal). */
  echo?: NodeJS.WritableStream | null
  /** How long each process may take to become ready. Default 60 s (a loaded 2-core machine is slow). */
  readyTimeoutMs?: number
  /** First restart delay of a crashed app or proxy (doubles per crash in a row, up to 5 s). Default 200 ms. */
  restartBackoffMs?: number
}

export interface ManagementHookContext {
  controlPlane: ControlPlane
  port: number
  dataDir: string
  proxies: () => RunningProxy[]
}

/** A sidecar or gateway proxy of the local mesh. */
export interface RunningProxy {
  id: string
  role: 'sidecar' | 'ingress' | 'egress'
  service?: string
  version?: string
  adminUrl: string
  metricsUrl: string
  /** Sidecars: where peers dial it (mTLS) and where its app sends outbound calls. */
  inboundPort?: number
  outboundPort?: number
  /** Gateways: the listener clients use. */
  gatewayPort?: number
  process: SupervisedProcess
}

/** An app instance of the local mesh. */
export interface RunningApp {
  id: string
  service: string
  version: string
  port: number
  sidecar: RunningProxy
  process: SupervisedProcess
  /** What it was started from; a change of it (through `meshwork apply`) replaces the instance. */
  spec: PlannedInstance
}

/**
 * A mesh running on this machine: the control plane (in this process), a sidecar + app per Workload
 * replica, a gateway proxy per Gateway, and the management server when the hook provides one.
 */
export class LocalMesh {
  readonly controlPlane: ControlPlane
  readonly supervisor: Supervisor
  readonly plan: MeshPlan
  readonly proxies: RunningProxy[] = []
  readonly apps: RunningApp[] = []
  readonly dataDir: string
  /** The mesh files, absolute. */
  files: string[] = []
  ingressUrl: string | null = null
  egressUrl: string | null = null
  uiUrl: string | null = null
  #management: { close (): Promise<void> } | null = null
  #stopping: Promise<void> | null = null
  readonly #controlLog: LogSink
  #reconciler: WorkloadReconciler | null = null

  constructor (controlPlane: ControlPlane, controlLog: LogSink, supervisor: Supervisor, plan: MeshPlan, dataDir: string) {
    this.controlPlane = controlPlane
    this.#controlLog = controlLog
    this.supervisor = supervisor
    this.plan = plan
    this.dataDir = dataDir
  }

  get controlPlaneUrl (): string { return this.controlPlane.url }

  /** Every proxy's admin `/metrics`, labelled with its id, role and service, for Prometheus. */
  scrapeTargets (): ScrapeTarget[] {
    return this.proxies.map(p => ({
      address: new URL(p.adminUrl).host,
      labels: { proxy: p.id, role: p.role, ...(p.service ? { service: p.service } : {}), ...(p.version ? { version: p.version } : {}) }
    }))
  }

  /** Every pid any process of this mesh has had (restarts included). */
  pids (): number[] {
    return this.supervisor.all().flatMap(p => p.pids)
  }

  /** Pids of this mesh still alive (after stop(): none, or something went wrong). */
  livePids (): number[] {
    return this.pids().filter(pid => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    })
  }

  app (id: string): RunningApp | undefined {
    return this.apps.find(a => a.id === id)
  }

  /** The printable summary of `meshwork up` (mesh-summary.ts): every URL and what it is for. */
  summary (opts: { contextFile?: string } = {}): string {
    const files = new Set(this.files)
    const resources = this.controlPlane.resources()
    const egress = new Set(this.plan.gateways.filter(g => g.role === 'egress').map(g => g.name))
    return formatMeshSummary({
      dataDir: this.dataDir,
      ingressUrl: this.ingressUrl,
      uiUrl: this.uiUrl,
      controlPlaneUrl: this.controlPlaneUrl,
      egressUrl: this.egressUrl,
      egressRoutes: resources.filter(l => l.resource.kind === 'HTTPRoute' && l.resource.spec.parentRefs.some(p => p.kind === 'Gateway' && egress.has(p.name))).length,
      applied: resources.filter(r => !files.has(r.file)).length,
      contextFile: opts.contextFile,
      proxies: this.proxies
    })
  }

  /**
   * Start, stop or replace app instances so they match the Workloads the control plane serves now
   * (after `meshwork apply` changed replicas, added a Workload or changed its command/env). Runs by
   * itself on every config change; call it to wait for the result. Gateways are not reconciled.
   */
  reconcile (): Promise<ReconcileResult> {
    if (this.#reconciler === null) return Promise.resolve({ started: [], stopped: [], failed: [] })
    return this.#reconciler.run()
  }

  /** Stop everything in reverse start order: UI, gateways, apps, sidecars, control plane. Idempotent. */
  stop (): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#reconciler?.close()
      if (this.#management !== null) await this.#management.close().catch(() => {})
      await this.supervisor.stopAll()
      await this.controlPlane.close()
      await this.#controlLog.close()
    })()
    return this.#stopping
  }

  /** @internal set by startLocalMesh */
  setManagement (m: { close (): Promise<void> }): void {
    this.#management = m
  }

  /** @internal set by startLocalMesh once everything runs */
  setReconciler (r: WorkloadReconciler): void {
    this.#reconciler = r
  }
}

/**
 * Start a mesh on this machine from mesh files (default: Bookinfo). The sidecar of each instance
 * starts first; its app starts once the sidecar's admin `/ready` answers, with `PORT` and `HTTP_PROXY`
 * set. Crashed apps and proxies are restarted with backoff. On failure everything started is stopped
 * and RuntimeStartError (or the control plane's config error) is thrown.
 *
 * @example
 * const mesh = await startLocalMesh({ ingressPort: 0, controlPort: 0, dataDir: tmp })
 * console.log(mesh.summary())
 * await mesh.stop()
 */
export async function startLocalMesh (opts: LocalMeshOptions = {}): Promise<LocalMesh> {
  const dataDir = resolve(opts.dataDir ?? '.meshwork')
  const logDir = join(dataDir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const files = (opts.files !== undefined && opts.files.length > 0 ? opts.files : [defaultMeshFile()]).map(f => resolve(f))
  const ports = new PortAllocator()
  // User-facing ports first: a taken one fails before anything starts.
  const controlPort = await ports.claim(opts.controlPort ?? 15010, 'control-plane', '--control-port')
  const uiPort = opts.management !== undefined ? await ports.claim(opts.uiPort ?? 8088, 'UI', '--ui-port') : 0
  // Spans go to the management server's OTLP receiver (the UI's Traces page) unless the mesh names an exporter.
  const tracingEndpoint = opts.management !== undefined ? `http://127.0.0.1:${uiPort}/v1/traces` : undefined
  const cpLog = new LogSink('control-plane', logDir, opts.echo ?? null)
  // resyncGraceMs 0: proxies remembered from an earlier run are gone (this run starts new ones on new
  // ports), so their endpoints must not linger. Applied config does persist across runs.
  const controlPlane = await startControlPlane({ files, port: controlPort, xdsPort: opts.xdsPort, dataDir: join(dataDir, 'control'), resyncGraceMs: 0, tracingEndpoint, log: line => cpLog.line(line) })
    .catch(async err => { await cpLog.close(); throw err })
  const plan = planMesh(controlPlane.resources())
  const ingress = plan.gateways.find(g => g.role === 'ingress')
  const supervisor = new Supervisor()
  supervisor.defineGroups(['sidecars', 'apps', 'gateways'])
  const mesh = new LocalMesh(controlPlane, cpLog, supervisor, plan, dataDir)
  mesh.files = files
  const prom = writePrometheusConfig(join(dataDir, 'prometheus'), [], 5000)
  const ctx: StartContext = { mesh, ports, logDir, echo: opts.echo ?? null, readyTimeoutMs: opts.readyTimeoutMs ?? 60_000, backoffMs: opts.restartBackoffMs ?? 200 }
  try {
    const ingressPort = ingress !== undefined ? await ports.claim(opts.ingressPort ?? 8080, 'ingress', '--ingress-port') : 0
    await Promise.all(plan.instances.map(inst => startInstance(ctx, inst)))
    // Instances start in parallel; list them in the mesh file's order.
    sortByPlan(mesh, plan)
    for (const gw of plan.gateways) {
      await startGateway(ctx, gw, gw === ingress ? ingressPort : await ports.allocate())
    }
    cpLog.line(`[meshwork] all ${mesh.proxies.length} proxies and ${mesh.apps.length} apps are ready`)
    writeScrapeTargets(prom.targetsPath, mesh.scrapeTargets())
    if (opts.management !== undefined) {
      const m = await opts.management({ controlPlane, port: uiPort, dataDir, proxies: () => mesh.proxies })
      if (m !== null) {
        mesh.setManagement(m)
        mesh.uiUrl = m.url
      }
    }
  } catch (err) {
    await mesh.stop()
    throw err
  }
  mesh.setReconciler(new WorkloadReconciler(controlPlane, {
    plan: () => planMesh(controlPlane.resources()).instances,
    running: () => mesh.apps.map(a => ({ id: a.id, fingerprint: instanceFingerprint(a.spec) })),
    start: async inst => {
      try {
        await startInstance(ctx, inst)
      } catch (err) {
        await stopInstance(ctx, inst.id)
        throw err
      }
      sortByPlan(mesh, planMesh(controlPlane.resources()))
    },
    stop: id => stopInstance(ctx, id),
    changed: () => writeScrapeTargets(prom.targetsPath, mesh.scrapeTargets()),
    log: line => cpLog.line(`[meshwork] ${line}`)
  }))
  return mesh
}

function sortByPlan (mesh: LocalMesh, plan: MeshPlan): void {
  const order = new Map([...plan.instances.map(i => i.id), ...plan.gateways.map(g => g.id)].map((id, i) => [id, i]))
  const rank = (id: string): number => order.get(id) ?? Number.MAX_SAFE_INTEGER
  mesh.apps.sort((a, b) => rank(a.id) - rank(b.id))
  mesh.proxies.sort((a, b) => rank(a.id) - rank(b.id))
}

/** Stop one app instance and its sidecar (app first) and forget them; their pids stay in `pids()`. */
async function stopInstance (ctx: StartContext, id: string): Promise<void> {
  const { mesh } = ctx
  const app = mesh.apps.find(a => a.id === id)
  const sidecar = mesh.proxies.find(p => p.id === id && p.role === 'sidecar')
  await app?.process.stop()
  await sidecar?.process.stop()
  if (app !== undefined) mesh.apps.splice(mesh.apps.indexOf(app), 1)
  if (sidecar !== undefined) mesh.proxies.splice(mesh.proxies.indexOf(sidecar), 1)
}

interface StartContext {
  mesh: LocalMesh
  ports: PortAllocator
  logDir: string
  echo: NodeJS.WritableStream | null
  readyTimeoutMs: number
  backoffMs: number
}

async function startInstance (ctx: StartContext, inst: PlannedInstance): Promise<void> {
  const { mesh, ports } = ctx
  const [inbound, outbound, admin, app] = [await ports.allocate(), await ports.allocate(), await ports.allocate(), await ports.allocate()]
  const sidecarName = `${inst.id}-sidecar`
  const { command, args } = meshworkCommand(sidecarArgs({
    controlPlaneUrl: mesh.controlPlaneUrl, id: inst.id, service: inst.service, version: inst.version, namespace: inst.namespace,
    inboundPort: inbound, outboundPort: outbound, adminPort: admin, appPort: app, readinessPath: inst.readinessPath
  }))
  const sidecarProc = mesh.supervisor.add({
    name: sidecarName, command, args, initialBackoffMs: ctx.backoffMs, stdinLifeline: true, log: new LogSink(sidecarName, ctx.logDir, ctx.echo)
  }, 'sidecars')
  const sidecar: RunningProxy = {
    id: inst.id, role: 'sidecar', service: inst.service, version: inst.version,
    adminUrl: `http://127.0.0.1:${admin}`, metricsUrl: `http://127.0.0.1:${admin}/metrics`,
    inboundPort: inbound, outboundPort: outbound, process: sidecarProc
  }
  mesh.proxies.push(sidecar)
  // the sidecar's /ready includes its certificate when mTLS needs one (it runs with --control-plane)
  await mesh.supervisor.startAndWait(sidecarProc, `${sidecar.adminUrl}/ready`, ctx.readyTimeoutMs)

  const appProc = mesh.supervisor.add({
    name: inst.id,
    command: inst.command,
    args: inst.args,
    cwd: inst.cwd,
    env: {
      ...inst.env,
      PORT: String(app),
      HOST: '127.0.0.1',
      HTTP_PROXY: `http://127.0.0.1:${outbound}`,
      http_proxy: `http://127.0.0.1:${outbound}`,
      SERVICE_NAME: inst.service,
      SERVICE_VERSION: inst.version,
      INSTANCE_ID: inst.id,
      POD_NAMESPACE: inst.namespace
    },
    initialBackoffMs: ctx.backoffMs,
    stdinLifeline: true,
    log: new LogSink(inst.id, ctx.logDir, ctx.echo)
  }, 'apps')
  mesh.apps.push({ id: inst.id, service: inst.service, version: inst.version, port: app, sidecar, process: appProc, spec: inst })
  await mesh.supervisor.startAndWait(appProc, `http://127.0.0.1:${app}${inst.readinessPath}`, ctx.readyTimeoutMs)
}

async function startGateway (ctx: StartContext, gw: PlannedGateway, port: number): Promise<void> {
  const { mesh, ports } = ctx
  const admin = await ports.allocate()
  const name = `${gw.id}-gateway`
  const { command, args } = meshworkCommand(gatewayArgs({
    controlPlaneUrl: mesh.controlPlaneUrl, id: gw.id, role: gw.role, gateway: gw.name, namespace: gw.namespace, gatewayPort: port, adminPort: admin
  }))
  const proc = mesh.supervisor.add({ name, command, args, initialBackoffMs: ctx.backoffMs, stdinLifeline: true, log: new LogSink(name, ctx.logDir, ctx.echo) }, 'gateways')
  const proxy: RunningProxy = {
    id: gw.id, role: gw.role, adminUrl: `http://127.0.0.1:${admin}`, metricsUrl: `http://127.0.0.1:${admin}/metrics`, gatewayPort: port, process: proc
  }
  mesh.proxies.push(proxy)
  await mesh.supervisor.startAndWait(proc, `${proxy.adminUrl}/ready`, ctx.readyTimeoutMs)
  const url = `http://127.0.0.1:${port}`
  if (gw.role === 'ingress' && mesh.ingressUrl === null) mesh.ingressUrl = url
  if (gw.role === 'egress' && mesh.egressUrl === null) mesh.egressUrl = url
}
