import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type ControlPlane, startControlPlane } from '../controlplane/control-plane.ts'
import { PodNetworkUnavailableError } from '../errors.ts'
import { type StartContext, startGateway, startInstance, stopInstance } from './instance-start.ts'
import { LogSink } from './log-sink.ts'
import { LoopbackNetwork, type MeshNetwork, type NetworkMode } from './mesh-network.ts'
import { type MeshPlan, type PlannedInstance, planMesh } from './mesh-plan.ts'
import { formatMeshSummary } from './mesh-summary.ts'
import { defaultMeshFile, proxyCodeFiles } from './meshwork-command.ts'
import { podNetworkUnsupportedReason } from './netns/capability.ts'
import { type Pod, PodNetwork } from './netns/pod-network.ts'
import { PodMeshNetwork } from './pod-mesh-network.ts'
import { PortAllocator } from './ports.ts'
import { type ScrapeTarget, writePrometheusConfig, writeScrapeTargets } from './prometheus.ts'
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
  /** `openUrl`: the URL with the UI's launch token, printed in the summary (the base `url` goes to the context file). */
  management?: (ctx: ManagementHookContext) => Promise<{ url: string, openUrl?: string, close (): Promise<void> } | null>
  /** Copy every process's output, prefixed with its name, to this stream (the terminal). */
  echo?: NodeJS.WritableStream | null
  /** How long each process may take to become ready. Default 60 s (a loaded 2-core machine is slow). */
  readyTimeoutMs?: number
  /** First restart delay of a crashed app or proxy (doubles per crash in a row, up to 5 s). Default 200 ms. */
  restartBackoffMs?: number
  /**
   * `loopback` (default here; `meshwork up` defaults to `auto`): every process on 127.0.0.1, apps use
   * `HTTP_PROXY`. `pods`: a network namespace per instance with transparent capture (needs root; else
   * MESH_ERR_NETNS_UNAVAILABLE). `auto`: pods where possible, else loopback.
   */
  network?: NetworkMode | 'auto'
  /** Pods mode: node namespaces to spread replicas over (default 1). */
  nodes?: number
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
  /** Gateways: the listener clients use (on 127.0.0.1 of the host). */
  gatewayPort?: number
  process: SupervisedProcess
  /** Pods mode: the proxy's pod (its ports above are the pod's own). */
  pod: Pod | null
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
  /** Pods mode: the instance's pod (`port` is then the app's port inside it). */
  pod: Pod | null
}

/**
 * A mesh running on this machine: the control plane (in this process), a sidecar + app per Workload
 * replica, a gateway proxy per Gateway, and the management server when the hook provides one.
 */
export class LocalMesh {
  readonly controlPlane: ControlPlane
  readonly supervisor: Supervisor
  readonly plan: MeshPlan
  /** How processes are connected (loopback or pods); its `controlPlaneUrl` is what proxies use. */
  readonly network: MeshNetwork
  readonly proxies: RunningProxy[] = []
  readonly apps: RunningApp[] = []
  readonly dataDir: string
  /** The mesh files, absolute. */
  files: string[] = []
  ingressUrl: string | null = null
  egressUrl: string | null = null
  uiUrl: string | null = null
  /** The UI URL with its launch token (`?token=`), what the summary prints. */
  uiOpenUrl: string | null = null
  #management: { close (): Promise<void> } | null = null
  #stopping: Promise<void> | null = null
  readonly #controlLog: LogSink
  #reconciler: WorkloadReconciler | null = null

  constructor (controlPlane: ControlPlane, controlLog: LogSink, supervisor: Supervisor, plan: MeshPlan, dataDir: string, network: MeshNetwork) {
    this.controlPlane = controlPlane
    this.#controlLog = controlLog
    this.supervisor = supervisor
    this.plan = plan
    this.dataDir = dataDir
    this.network = network
  }

  get controlPlaneUrl (): string { return this.controlPlane.url }

  /** Pods mode: the pod network (namespaces, addresses, `command()` to run something in a pod); else null. */
  get podNetwork (): PodNetwork | null {
    return this.network instanceof PodMeshNetwork ? this.network.net : null
  }

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
      network: this.network.describe(),
      ingressUrl: this.ingressUrl,
      uiUrl: this.uiOpenUrl ?? this.uiUrl,
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
      await this.network.close()
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
  const cpLog = new LogSink('control-plane', logDir, opts.echo ?? null)
  // The network first: proxies in pods reach host services (control plane, OTLP receiver) through it.
  const network = await startNetwork(opts, ports, controlPort, opts.management !== undefined ? [uiPort] : [], line => cpLog.line(`[meshwork] ${line}`))
    .catch(async err => { await cpLog.close(); throw err })
  cpLog.line(`[meshwork] network: ${network.describe()}`)
  // Spans go to the management server's OTLP receiver (the UI's Traces page) unless the mesh names an exporter.
  const tracingEndpoint = opts.management !== undefined ? `${network.hostServiceUrl(uiPort)}/v1/traces` : undefined
  // resyncGraceMs 0: proxies remembered from an earlier run are gone (this run starts new ones on new
  // ports), so their endpoints must not linger. Applied config does persist across runs.
  const controlPlane = await startControlPlane({ files, port: controlPort, xdsPort: opts.xdsPort, dataDir: join(dataDir, 'control'), resyncGraceMs: 0, tracingEndpoint, log: line => cpLog.line(line) })
    .catch(async err => { await network.close(); await cpLog.close(); throw err })
  const plan = planMesh(controlPlane.resources())
  const ingress = plan.gateways.find(g => g.role === 'ingress')
  const supervisor = new Supervisor()
  supervisor.defineGroups(['sidecars', 'apps', 'gateways'])
  const mesh = new LocalMesh(controlPlane, cpLog, supervisor, plan, dataDir, network)
  mesh.files = files
  const prom = writePrometheusConfig(join(dataDir, 'prometheus'), [], 5000)
  const ctx: StartContext = { mesh, logDir, echo: opts.echo ?? null, readyTimeoutMs: opts.readyTimeoutMs ?? 60_000, backoffMs: opts.restartBackoffMs ?? 200 }
  try {
    const ingressPort = ingress !== undefined ? await ports.claim(opts.ingressPort ?? 8080, 'ingress', '--ingress-port') : 0
    network.setServices(plan.instances)
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
        mesh.uiOpenUrl = m.openUrl ?? m.url
      }
    }
  } catch (err) {
    await mesh.stop()
    throw err
  }
  mesh.setReconciler(new WorkloadReconciler(controlPlane, {
    plan: () => {
      const instances = planMesh(controlPlane.resources()).instances
      // names of new services resolve in every pod before their instances start
      network.setServices(instances)
      return instances
    },
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

/**
 * The network of the mesh: pods (their own namespaces, capture) when asked or, with `auto`, when this process
 * may build them; loopback otherwise.
 */
async function startNetwork (opts: LocalMeshOptions, ports: PortAllocator, controlPort: number, hostPorts: number[], log: (line: string) => void): Promise<MeshNetwork> {
  const wanted = opts.network ?? 'loopback'
  const unsupported = wanted === 'loopback' ? null : podNetworkUnsupportedReason(undefined, proxyCodeFiles())
  if (wanted === 'pods' && unsupported !== null) throw new PodNetworkUnavailableError(`--network pods ${unsupported}; --network loopback runs without it`)
  if (wanted === 'loopback' || unsupported !== null) {
    if ((opts.nodes ?? 1) > 1) throw new PodNetworkUnavailableError(`--nodes ${opts.nodes} needs the pods network${unsupported !== null ? `, which ${unsupported}` : ''}`)
    return new LoopbackNetwork(ports, `http://127.0.0.1:${controlPort}`)
  }
  const net = await PodNetwork.create({ nodes: opts.nodes ?? 1, log })
  try {
    return await PodMeshNetwork.start(net, [controlPort, ...hostPorts])
  } catch (err) {
    await net.close()
    throw err
  }
}
