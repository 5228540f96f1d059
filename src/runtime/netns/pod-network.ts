/**
 * The pod network of one `meshwork up` run: a fabric, `nodes` node namespaces, and a network namespace per
 * workload instance or gateway ("pod") with its own address, transparent capture rules and /etc/netns files.
 * It decides what to create; topology.ts, capture-rules.ts, hosts-file.ts and cleanup.ts do the work.
 *
 *   create()   clean stale runs ─▶ pick a free /20 ─▶ write the owner file ─▶ fabric + host link ─▶ nodes
 *   addPod()   namespace + veth + address ─▶ /etc/netns files ─▶ nft rules (workloads; gateways have none)
 *   command()  `ip netns exec <pod> [setpriv --reuid 1337 …] <cmd>`: how a process of the pod is started
 *   close()    every pod (processes SIGKILLed if still there), nodes, fabric, host link, files, owner file
 *
 * @example
 * const net = await PodNetwork.create({ nodes: 1, log: console.log })
 * const pod = await net.addPod({ id: 'reviews-v1-0', node: 0, namespace: 'default', capture: { appPorts: [9080] } })
 * spawn(...Object.values(net.command(pod, 'node', ['reviews.mjs'], 'app')))
 * await net.close()
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { block, type Block, blockOf, freeBlock, MAX_NODES, PodAddresses, ServiceVips } from './address-plan.ts'
import { CAPTURE_DEFAULTS, type CaptureRuleOptions, renderCaptureRules } from './capture-rules.ts'
import { findRuns, cleanStaleRuns, removeRun } from './cleanup.ts'
import { ipSyncQuiet, listAddresses, nftApply } from './commands.ts'
import { removePodEtc, type ServiceName, updatePodHosts, writePodEtc } from './hosts-file.ts'
import { ETC_NETNS, fabricNamespace, hostLinkName, newRunId, nodeNamespace, podNamespace, checkPodId } from './names.ts'
import { ownerAlive, processStartTime, readRunStates, removeRunState, writeRunState } from './run-state.ts'
import { createFabric, createNode, createPod, deleteNamespace } from './topology.ts'
import { execFileSync } from 'node:child_process'

export interface PodNetworkOptions {
  /** Node namespaces (default 1, at most 15). */
  nodes?: number
  /** uid (and gid) sidecars run as; exempt from capture (default 1337). */
  proxyUid?: number
  /** Where stale runs and creation are reported. */
  log?: (line: string) => void
  clusterDomain?: string
}

export interface PodSpec {
  /** Instance or gateway id (`reviews-v2-0`, `ingress`). */
  id: string
  node: number
  /** Kubernetes-style namespace of the workload (short service names resolve to this namespace). */
  namespace: string
  /** Capture rules (workload pods); null = none (gateway pods: the proxy is the only process). */
  capture: Pick<CaptureRuleOptions, 'appPorts' | 'excludeOutboundPorts' | 'excludeOutboundCidrs' | 'dnsPort'> | null
}

export interface Pod {
  id: string
  /** Name of its network namespace (`mw-<run>-p-<id>`). */
  netns: string
  node: number
  address: string
  slot: number
  namespace: string
  capture: boolean
}

/**
 * Pick a /20 no live run and no host address uses, and record it in this run's owner file. Two runs starting
 * at once may pick the same one: each re-reads the owner files after writing its own, and the run with the
 * larger id moves on to another block.
 */
async function claimBlock (run: string, nodes: number): Promise<number> {
  const pidStart = processStartTime(process.pid) ?? 0
  const avoid = new Set<number>()
  for (const a of await listAddresses()) { const b = blockOf(a.address); if (b >= 0) avoid.add(b) }
  for (let attempt = 0; attempt < 32; attempt++) {
    const used = new Set(avoid)
    for (const s of readRunStates()) if (s.run !== run && ownerAlive(s)) used.add(s.block)
    const b = freeBlock(used)
    writeRunState({ run, pid: process.pid, pidStart, block: b, nodes, createdAt: new Date().toISOString() })
    const rival = readRunStates().find(s => s.run !== run && s.block === b && ownerAlive(s))
    if (rival === undefined || rival.run > run) return b
    avoid.add(b)
  }
  return freeBlock(avoid)
}

export class PodNetwork {
  readonly run: string
  readonly block: Block
  readonly nodes: number
  readonly proxyUid: number
  readonly #addresses: PodAddresses
  readonly #vips = new ServiceVips()
  readonly #pods = new Map<string, Pod>()
  readonly #slots: number[]
  readonly #log: (line: string) => void
  readonly #clusterDomain: string
  #services: ServiceName[] = []
  #closing: Promise<void> | null = null
  readonly #onExit = (): void => this.closeSync()

  private constructor (run: string, b: Block, nodes: number, o: PodNetworkOptions) {
    this.run = run
    this.block = b
    this.nodes = nodes
    this.proxyUid = o.proxyUid ?? CAPTURE_DEFAULTS.proxyUid
    this.#addresses = new PodAddresses(b, nodes)
    this.#slots = Array.from({ length: nodes }, () => 0)
    this.#log = o.log ?? (() => {})
    this.#clusterDomain = o.clusterDomain ?? 'cluster.local'
  }

  /** Clean stale runs, then build the fabric and the nodes of a new run. Throws NetnsCommandError. */
  static async create (o: PodNetworkOptions = {}): Promise<PodNetwork> {
    const nodes = o.nodes ?? 1
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new RangeError(`nodes must be 1..${MAX_NODES}, got ${nodes}`)
    const log = o.log ?? (() => {})
    for (const line of await cleanStaleRuns()) log(`removed the pod network of stale run ${line}`)
    const runs = await findRuns()
    let run = newRunId()
    while (runs.has(run)) run = newRunId()
    const b = block(await claimBlock(run, nodes))
    const net = new PodNetwork(run, b, nodes, o)
    process.on('exit', net.#onExit)
    try {
      await createFabric(run, b.hostAddress, b.prefixLength)
      for (let k = 0; k < nodes; k++) await createNode(run, k)
    } catch (err) {
      await net.close().catch(() => {})
      throw err
    }
    return net
  }

  /** The host's address on the pod network (sidecars reach the control plane here). */
  get hostAddress (): string { return this.block.hostAddress }

  pods (): Pod[] { return [...this.#pods.values()] }
  pod (id: string): Pod | undefined { return this.#pods.get(id) }

  /** Names of every namespace of this run (fabric, nodes, pods). */
  namespaces (): string[] {
    return [fabricNamespace(this.run), ...Array.from({ length: this.nodes }, (_, k) => nodeNamespace(this.run, k)), ...this.pods().map(p => p.netns)]
  }

  /** One line for the start-up banner. */
  describe (): string {
    return `pods: a network namespace per workload instance, ${this.nodes} node${this.nodes > 1 ? 's' : ''}, pods in ${this.block.cidr} (host ${this.hostAddress}), services in 198.19.0.0/16, nftables capture; run ${this.run}`
  }

  async addPod (spec: PodSpec): Promise<Pod> {
    checkPodId(spec.id)
    if (this.#closing !== null) throw new Error(`pod network ${this.run} is closing`)
    if (this.#pods.has(spec.id)) throw new Error(`pod ${spec.id} exists`)
    const address = this.#addresses.take(spec.node)
    const pod: Pod = { id: spec.id, netns: podNamespace(this.run, spec.id), node: spec.node, address, slot: this.#slots[spec.node]++, namespace: spec.namespace, capture: spec.capture !== null }
    this.#pods.set(spec.id, pod)
    try {
      await createPod({ netns: pod.netns, run: this.run, node: pod.node, slot: pod.slot, address, prefixLength: this.block.prefixLength })
      writePodEtc(pod.netns, this.#hostsOf(pod))
      if (spec.capture !== null) await nftApply(pod.netns, renderCaptureRules({ ...spec.capture, proxyUid: this.proxyUid }))
    } catch (err) {
      await this.removePod(spec.id).catch(() => {})
      throw err
    }
    return pod
  }

  /** Remove a pod (SIGKILLs whatever still runs in it: stop its processes first). */
  async removePod (id: string): Promise<void> {
    const pod = this.#pods.get(id)
    if (pod === undefined) return
    this.#pods.delete(id)
    await deleteNamespace(pod.netns)
    removePodEtc(pod.netns)
    this.#addresses.release(pod.node, pod.address)
  }

  /**
   * The services every pod can resolve: each gets a virtual address (kept for the life of the run) and every
   * pod's hosts file is rewritten in place.
   */
  setServices (services: readonly { name: string, namespace: string }[]): void {
    this.#services = services.map(s => ({ ...s, vip: this.#vips.vip(`${s.namespace}/${s.name}`) }))
    for (const pod of this.#pods.values()) {
      try { updatePodHosts(pod.netns, this.#hostsOf(pod)) } catch {}
    }
  }

  services (): readonly ServiceName[] { return this.#services }

  vip (name: string, namespace = 'default'): string | undefined {
    return this.#services.find(s => s.name === name && s.namespace === namespace)?.vip
  }

  /**
   * How to start a process inside the pod: apps as the invoking user, proxies as `proxyUid` (their traffic
   * is exempt from capture). `ip netns exec` also bind-mounts the pod's /etc/netns files. The pid of the
   * spawned process is the program's own (ip and setpriv exec it).
   */
  command (pod: Pod, command: string, args: readonly string[], as: 'proxy' | 'app'): { command: string, args: string[] } {
    const uid = String(this.proxyUid)
    const drop = as === 'proxy' ? ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'] : []
    return { command: 'ip', args: ['netns', 'exec', pod.netns, ...drop, command, ...args] }
  }

  /** Remove everything of this run. Idempotent. */
  close (): Promise<void> {
    this.#closing ??= (async () => {
      process.off('exit', this.#onExit)
      const runs = await findRuns()
      const mine = runs.get(this.run) ?? { run: this.run, namespaces: [], links: [], etcDirs: [], state: null }
      await removeRun(mine)
      this.#pods.clear()
    })()
    return this.#closing
  }

  /** Synchronous last resort (process `exit` hook): delete the namespaces and files; the kernel does the rest. */
  closeSync (): void {
    for (const ns of this.namespaces()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
        for (const pid of pids.split(/\s+/).filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL') } catch {} }
      } catch {}
      ipSyncQuiet(['netns', 'del', ns])
      rmSync(join(ETC_NETNS, ns), { recursive: true, force: true })
    }
    ipSyncQuiet(['link', 'del', hostLinkName(this.run)])
    removeRunState(this.run)
  }

  #hostsOf (pod: Pod): Parameters<typeof writePodEtc>[1] {
    return { pod: pod.id, address: pod.address, namespace: pod.namespace, services: this.#services, clusterDomain: this.#clusterDomain }
  }
}
