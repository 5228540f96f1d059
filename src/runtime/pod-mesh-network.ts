/**
 * The pods mode of the local mesh (`meshwork up --network pods`): each instance and gateway in its own
 * network namespace with its own address, the app unmodified (no HTTP_PROXY), its traffic captured by the
 * pod's nftables rules. The host side:
 *
 *   sidecars ──▶ <host address>:<control port> ──forwarder──▶ 127.0.0.1:<control port> (control plane)
 *   proxies  ──▶ <host address>:<UI port>/v1/traces ──forwarder──▶ 127.0.0.1:<UI port> (spans, when the UI runs)
 *   127.0.0.1:<ingress port> ──forwarder──▶ <ingress pod>:<listener port> (ingress gateway)
 *   runtime, Prometheus, UI ──▶ <pod>:15000 (sidecar admin, over the host's link into the pod network)
 *
 * Inside a pod: sidecar inbound 0.0.0.0:15006, outbound 127.0.0.1:15001, admin 0.0.0.0:15000, catch-all DNS
 * 127.0.0.1:15053 (as uid 1337),
 * the app on 127.0.0.1:<Workload port> or any address. Peers dial `<pod>:<Workload port>` (the sidecar
 * advertises it); the pod's prerouting rule hands it to the inbound listener.
 */
import { ConfigInvalidError } from '../errors.ts'
import { CAPTURE_DEFAULTS } from './netns/capture-rules.ts'
import { type Forwarder, startForwarder } from './netns/forwarder.ts'
import type { Pod, PodNetwork } from './netns/pod-network.ts'
import type { GatewayPlacement, InstancePlacement, Launch, MeshNetwork } from './mesh-network.ts'
import type { PlannedGateway, PlannedInstance } from './mesh-plan.ts'

export const POD_PORTS = { inbound: CAPTURE_DEFAULTS.inboundPort, outbound: CAPTURE_DEFAULTS.outboundPort, admin: 15000, dns: 15053 } as const

/** Proxy settings an app could inherit from `meshwork up`'s environment: in a pod they would bypass capture. */
const PROXY_ENV = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']

export class PodMeshNetwork implements MeshNetwork {
  readonly mode = 'pods' as const
  readonly net: PodNetwork
  readonly controlPlaneUrl: string
  readonly #forwarders: Forwarder[] = []
  /** service-version → first node of its replicas (replicas of one Workload land on different nodes). */
  readonly #nodeBase = new Map<string, number>()

  private constructor (net: PodNetwork, controlPlaneUrl: string) {
    this.net = net
    this.controlPlaneUrl = controlPlaneUrl
  }

  /**
   * Forward `<host address>:<port>` to `127.0.0.1:<port>` for each of `hostPorts` (the first is the control
   * plane's; then e.g. the UI's OTLP receiver), so proxies in pods reach them while they listen on loopback only.
   */
  static async start (net: PodNetwork, hostPorts: readonly number[]): Promise<PodMeshNetwork> {
    const n = new PodMeshNetwork(net, `http://${net.hostAddress}:${hostPorts[0]}`)
    try {
      for (const port of hostPorts) n.#forwarders.push(await startForwarder({ listen: { host: net.hostAddress, port }, target: { host: '127.0.0.1', port } }))
    } catch (err) {
      await Promise.all(n.#forwarders.map(f => f.close()))
      throw err
    }
    return n
  }

  hostServiceUrl (port: number): string {
    return `http://${this.net.hostAddress}:${port}`
  }

  describe (): string {
    return this.net.describe()
  }

  /** Node of an instance: replicas of a Workload round-robin over the nodes, Workloads start on different nodes. */
  nodeOf (inst: PlannedInstance): number {
    const key = `${inst.namespace}/${inst.service}-${inst.version}`
    let base = this.#nodeBase.get(key)
    if (base === undefined) {
      base = inst.workloadIndex % this.net.nodes
      this.#nodeBase.set(key, base)
    }
    return (base + inst.replica) % this.net.nodes
  }

  async placeInstance (inst: PlannedInstance): Promise<InstancePlacement> {
    if (Object.values(POD_PORTS).includes(inst.port as 15000)) {
      throw new ConfigInvalidError([{ file: '<workload>', resource: `Workload of ${inst.service}-${inst.version}`, path: 'spec.port', reason: `${inst.port} is a port of the sidecar in its pod (${Object.values(POD_PORTS).join(', ')}); choose another` }])
    }
    const pod = await this.net.addPod({ id: inst.id, node: this.nodeOf(inst), namespace: inst.namespace, capture: { appPorts: [inst.port], dnsPort: POD_PORTS.dns } })
    const adminUrl = `http://${pod.address}:${POD_PORTS.admin}`
    return {
      pod,
      sidecar: {
        inbound: `0.0.0.0:${POD_PORTS.inbound}`,
        outbound: `127.0.0.1:${POD_PORTS.outbound}`,
        admin: `0.0.0.0:${POD_PORTS.admin}`,
        app: `127.0.0.1:${inst.port}`,
        advertise: `${pod.address}:${inst.port}`,
        // names the mesh does not know: the no-route address, so the call gets MESH_ERR_NO_ROUTE
        dns: `127.0.0.1:${POD_PORTS.dns}`
      },
      adminUrl,
      inboundPort: POD_PORTS.inbound,
      outboundPort: POD_PORTS.outbound,
      appPort: inst.port,
      // like the downward API of a Kubernetes pod; nothing mesh-specific
      appEnv: { PORT: String(inst.port), POD_IP: pod.address, POD_NAME: inst.id },
      appUnsetEnv: PROXY_ENV,
      // the app's port is captured (peers' calls go to the sidecar): its health comes from the sidecar's probe
      appReadyUrl: `${adminUrl}/app-health`,
      wrap: (l: Launch, as: 'proxy' | 'app') => this.net.command(pod, l.command, l.args, as),
      // uid 1337 may not enter the directory meshwork up runs in (a 0700 home or temp dir)
      proxyCwd: '/',
      release: () => this.net.removePod(inst.id)
    }
  }

  async placeGateway (gw: PlannedGateway, hostPort: number): Promise<GatewayPlacement> {
    const pod: Pod = await this.net.addPod({ id: gw.id, node: 0, namespace: gw.namespace, capture: null })
    const fwd = await startForwarder({ listen: { host: '127.0.0.1', port: hostPort }, target: { host: pod.address, port: gw.declaredPort } })
    this.#forwarders.push(fwd)
    return {
      pod,
      listen: `0.0.0.0:${gw.declaredPort}`,
      admin: `0.0.0.0:${POD_PORTS.admin}`,
      adminUrl: `http://${pod.address}:${POD_PORTS.admin}`,
      url: `http://127.0.0.1:${fwd.listen.port}`,
      wrap: (l: Launch) => this.net.command(pod, l.command, l.args, 'proxy'),
      proxyCwd: '/',
      release: async () => {
        await fwd.close()
        await this.net.removePod(gw.id)
      }
    }
  }

  setServices (instances: readonly PlannedInstance[]): void {
    const names = new Map<string, { name: string, namespace: string }>()
    for (const i of instances) {
      // `reviews` and the version subset `reviews-v2`, as the mesh routes them
      for (const name of [i.service, `${i.service}-${i.version}`]) names.set(`${i.namespace}/${name}`, { name, namespace: i.namespace })
    }
    this.net.setServices([...names.values()])
  }

  async close (): Promise<void> {
    await Promise.all(this.#forwarders.map(f => f.close()))
    await this.net.close()
  }
}
