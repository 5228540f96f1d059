/**
 * How the local mesh connects its processes. Two implementations:
 *
 *   loopback (LoopbackNetwork)   every process on 127.0.0.1 with its own ports; apps reach their sidecar through
 *                                `HTTP_PROXY`. Needs no privilege.
 *   pods (PodMeshNetwork)        a network namespace per instance or gateway, with its own address and
 *                                transparent capture (pod-mesh-network.ts, src/runtime/netns/). Needs root.
 *
 * The runtime asks it where each process listens, how the host reaches it, with which environment and
 * command line it starts; nothing else in the runtime depends on the mode.
 */
import type { PlannedGateway, PlannedInstance } from './mesh-plan.ts'
import type { Pod } from './netns/pod-network.ts'
import type { PortAllocator } from './ports.ts'

export type NetworkMode = 'loopback' | 'pods'

export interface Launch { command: string, args: string[] }

/** Where one instance's sidecar and app run. Addresses are `host:port` as the proxy flags take them. */
export interface InstancePlacement {
  pod: Pod | null
  sidecar: { inbound: string, outbound: string, admin: string, app: string, advertise?: string, dns?: string }
  /** The sidecar's admin listener as the host (the runtime, Prometheus, the UI) reaches it. */
  adminUrl: string
  inboundPort: number
  outboundPort: number
  /** Port the app listens on (`$PORT`). */
  appPort: number
  /** Environment the app gets on top of the Workload's. */
  appEnv: Record<string, string>
  /** Variables removed from the app's environment (inherited proxy settings would bypass capture). */
  appUnsetEnv: string[]
  /** What the runtime polls (from the host) until the app is ready. */
  appReadyUrl: string
  /** The command line of the sidecar or the app, placed in the instance's network. */
  wrap (l: Launch, as: 'proxy' | 'app'): Launch
  /** Working directory of the proxy (pods: `/`, as uid 1337 may not enter the user's directory). */
  proxyCwd?: string
  /** Give back what was taken (the pod). The processes must be stopped first. */
  release (): Promise<void>
}

export interface GatewayPlacement {
  pod: Pod | null
  /** `--listen` and `--admin` of the gateway proxy. */
  listen: string
  admin: string
  adminUrl: string
  /** Where clients on the host reach the gateway (`http://127.0.0.1:8080`). */
  url: string
  wrap (l: Launch): Launch
  proxyCwd?: string
  release (): Promise<void>
}

export interface MeshNetwork {
  readonly mode: NetworkMode
  /** The control plane as sidecars and gateways reach it. */
  readonly controlPlaneUrl: string
  /** A service of the host's loopback (`127.0.0.1:<port>`: the control plane, the UI's OTLP receiver) as proxies reach it. */
  hostServiceUrl (port: number): string
  /** One line for the start-up banner and the summary. */
  describe (): string
  placeInstance (inst: PlannedInstance): Promise<InstancePlacement>
  /** `hostPort`: the user-facing port on 127.0.0.1 (the ingress port) or one allocated for it. */
  placeGateway (gw: PlannedGateway, hostPort: number): Promise<GatewayPlacement>
  /** The instances the config asks for changed: names that resolve in pods follow. */
  setServices (instances: readonly PlannedInstance[]): void
  close (): Promise<void>
}

const same = (l: Launch): Launch => l

/** Everything on host loopback, the app's outbound calls through `HTTP_PROXY` (the mode for non-root users). */
export class LoopbackNetwork implements MeshNetwork {
  readonly mode = 'loopback' as const
  readonly controlPlaneUrl: string
  readonly #ports: PortAllocator

  constructor (ports: PortAllocator, controlPlaneUrl: string) {
    this.#ports = ports
    this.controlPlaneUrl = controlPlaneUrl
  }

  describe (): string {
    return 'loopback: every process on 127.0.0.1, apps reach their sidecar through HTTP_PROXY (no capture)'
  }

  hostServiceUrl (port: number): string {
    return `http://127.0.0.1:${port}`
  }

  async placeInstance (inst: PlannedInstance): Promise<InstancePlacement> {
    const [inbound, outbound, admin, app] = [await this.#ports.allocate(), await this.#ports.allocate(), await this.#ports.allocate(), await this.#ports.allocate()]
    return {
      pod: null,
      sidecar: { inbound: `127.0.0.1:${inbound}`, outbound: `127.0.0.1:${outbound}`, admin: `127.0.0.1:${admin}`, app: `127.0.0.1:${app}` },
      adminUrl: `http://127.0.0.1:${admin}`,
      inboundPort: inbound,
      outboundPort: outbound,
      appPort: app,
      appEnv: { PORT: String(app), HOST: '127.0.0.1', HTTP_PROXY: `http://127.0.0.1:${outbound}`, http_proxy: `http://127.0.0.1:${outbound}` },
      appUnsetEnv: [],
      appReadyUrl: `http://127.0.0.1:${app}${inst.readinessPath}`,
      wrap: same,
      release: async () => {}
    }
  }

  async placeGateway (_gw: PlannedGateway, hostPort: number): Promise<GatewayPlacement> {
    const admin = await this.#ports.allocate()
    return {
      pod: null,
      listen: `127.0.0.1:${hostPort}`,
      admin: `127.0.0.1:${admin}`,
      adminUrl: `http://127.0.0.1:${admin}`,
      url: `http://127.0.0.1:${hostPort}`,
      wrap: same,
      release: async () => {}
    }
  }

  setServices (): void {}
  async close (): Promise<void> {}
}
