/**
 * Creating and deleting the namespaces and links of a pod network (one job: the `ip` calls; what to create
 * is decided by pod-network.ts). Layout of one run (`--nodes 2`):
 *
 *   host namespace          mw-<run>-fabric             mw-<run>-n0                    mw-<run>-p-<id>
 *   ┌────────────────┐      ┌───────────────────┐       ┌──────────────────────┐       ┌─────────────────────┐
 *   │ mw<run>        │ veth │ host ─┐           │ veth  │ uplink ─┐            │ veth  │ eth0 198.18.17.2/20 │
 *   │ 198.18.16.1/20 ├──────┤      br0 ── n0 ───┼───────┤        br0 ── p0 ────┼───────┤ lo, and the local   │
 *   └────────────────┘      │       └──── n1 ───┼──┐    └──────────────────────┘       │ route 198.19.0.0/16 │
 *                           └───────────────────┘  └──▶ mw-<run>-n1 (same shape)       │ nft capture rules   │
 *                                                                                      └─────────────────────┘
 *
 * One L2 segment: every pod of the run and the host's end share the run's /20, so no namespace routes or
 * forwards anything, and no namespace has a default route: a connection to anything outside the block (and
 * the service range, which is local inside pods) fails at once with ENETUNREACH.
 */
import { SERVICE_RANGE } from './address-plan.ts'
import { ip, ipIn, namespacePids } from './commands.ts'
import { fabricNamespace, hostLinkName, nodeNamespace, nodeUplinkName, podLinkName } from './names.ts'

const BRIDGE = 'br0'

export async function createNamespace (name: string): Promise<void> {
  await ip(['netns', 'add', name])
  await ipIn(name, ['link', 'set', 'dev', 'lo', 'up'])
}

/** The fabric namespace with its bridge, and the host's link into it (address `hostAddress/prefix`). */
export async function createFabric (run: string, hostAddress: string, prefixLength: number): Promise<void> {
  const fabric = fabricNamespace(run)
  await createNamespace(fabric)
  await ipIn(fabric, ['link', 'add', BRIDGE, 'type', 'bridge'])
  await ipIn(fabric, ['link', 'set', 'dev', BRIDGE, 'up'])
  const host = hostLinkName(run)
  await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', 'host', 'netns', fabric])
  await ipIn(fabric, ['link', 'set', 'dev', 'host', 'master', BRIDGE, 'up'])
  await ip(['addr', 'add', `${hostAddress}/${prefixLength}`, 'dev', host])
  await ip(['link', 'set', 'dev', host, 'up'])
}

/** Node `k`: its namespace, its bridge, and its uplink to the fabric bridge. */
export async function createNode (run: string, k: number): Promise<void> {
  const node = nodeNamespace(run, k)
  await createNamespace(node)
  await ipIn(node, ['link', 'add', BRIDGE, 'type', 'bridge'])
  await ipIn(node, ['link', 'set', 'dev', BRIDGE, 'up'])
  const fabric = fabricNamespace(run)
  await ipIn(node, ['link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', nodeUplinkName(k), 'netns', fabric])
  await ipIn(node, ['link', 'set', 'dev', 'uplink', 'master', BRIDGE, 'up'])
  await ipIn(fabric, ['link', 'set', 'dev', nodeUplinkName(k), 'master', BRIDGE, 'up'])
}

export interface PodLink {
  netns: string
  run: string
  node: number
  /** Unique per node: names the node's end of the veth (`p<slot>`). */
  slot: number
  address: string
  prefixLength: number
}

/**
 * A pod namespace on node `node`: `eth0` with its address, `lo`, and the service range as a local route
 * (connections to a service address are then captured by the output rules; without rules, refused at once).
 */
export async function createPod (p: PodLink): Promise<void> {
  await createNamespace(p.netns)
  const node = nodeNamespace(p.run, p.node)
  const link = podLinkName(p.slot)
  await ipIn(node, ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns])
  await ipIn(node, ['link', 'set', 'dev', link, 'master', BRIDGE, 'up'])
  await ipIn(p.netns, ['addr', 'add', `${p.address}/${p.prefixLength}`, 'dev', 'eth0'])
  await ipIn(p.netns, ['link', 'set', 'dev', 'eth0', 'up'])
  await ipIn(p.netns, ['route', 'add', 'local', SERVICE_RANGE, 'dev', 'lo'])
}

/**
 * SIGKILL every process still inside `netns`, wait until they are gone, then delete it. The kernel frees
 * the namespace (and destroys its veths, whose peers go with them) once its last process has exited.
 */
export async function deleteNamespace (netns: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pids = await namespacePids(netns)
    if (pids.length === 0) break
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    if (Date.now() > deadline) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  try {
    await ip(['netns', 'del', netns])
  } catch (err) {
    // already gone is fine; anything else is worth reporting
    if (!/No such file|does not exist|Invalid argument/.test((err as Error).message)) throw err
  }
}

/** Delete a host link if it exists. */
export async function deleteLink (name: string): Promise<void> {
  try {
    await ip(['link', 'del', name])
  } catch (err) {
    if (!/Cannot find device|does not exist/.test((err as Error).message)) throw err
  }
}
