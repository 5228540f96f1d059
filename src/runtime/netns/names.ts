/**
 * Names of everything the pod network creates, so a later start can find and remove what a SIGKILLed run
 * left, and two runs at once never collide. Every name carries the prefix `mw` and the run id (6 hex digits):
 *
 *   network namespaces   mw-<run>-fabric        the bridge joining the nodes and the host
 *                        mw-<run>-n<k>          node k: a bridge its pods' veths attach to
 *                        mw-<run>-p-<id>        one pod: a workload instance or a gateway (`reviews-v2-0`)
 *   host link            mw<run>                the host end of the veth into the fabric (the only link in
 *                                              the host's namespace; the rest live inside the namespaces)
 *   /etc/netns/mw-<run>-p-<id>/                hosts, resolv.conf, nsswitch.conf of a pod (`ip netns exec`
 *                                              bind-mounts them over /etc/…)
 *   /run/meshwork/netns/<run>.json             who owns the run (pid + start time): alive = not stale
 */
import { randomBytes } from 'node:crypto'

export const NETNS_PREFIX = 'mw-'
export const ETC_NETNS = '/etc/netns'
export const NETNS_RUN_DIR = '/run/netns'
export const STATE_DIR = '/run/meshwork/netns'

const RUN_RE = /^[0-9a-f]{6}$/
const NS_RE = /^mw-([0-9a-f]{6})-(fabric|n\d+|p-.+)$/
const LINK_RE = /^mw([0-9a-f]{6})$/

/** A fresh run id: 6 hex digits (16.7 M values; a collision with a live run is checked by the caller). */
export function newRunId (): string {
  return randomBytes(3).toString('hex')
}

export function isRunId (s: string): boolean {
  return RUN_RE.test(s)
}

export function fabricNamespace (run: string): string { return `${NETNS_PREFIX}${run}-fabric` }
export function nodeNamespace (run: string, node: number): string { return `${NETNS_PREFIX}${run}-n${node}` }
/** The pod namespace of an instance or gateway id (`reviews-v2-0`). */
export function podNamespace (run: string, id: string): string { return `${NETNS_PREFIX}${run}-p-${id}` }
/** Host end of the fabric veth: ≤ 15 characters (IFNAMSIZ), unique per run. */
export function hostLinkName (run: string): string { return `mw${run}` }
/** Pod end inside the node namespace (the pod's own end is always `eth0`). */
export function podLinkName (slot: number): string { return `p${slot}` }
/** Node uplink end inside the fabric namespace (the node's own end is `uplink`). */
export function nodeUplinkName (node: number): string { return `n${node}` }

/** The run id a namespace name belongs to, or null when it is not ours. */
export function runOfNamespace (name: string): string | null {
  return NS_RE.exec(name)?.[1] ?? null
}

/** The run id a host link name belongs to, or null. */
export function runOfLink (name: string): string | null {
  return LINK_RE.exec(name)?.[1] ?? null
}

/** Instance and gateway ids become file and namespace names: DNS-label characters only. */
export function checkPodId (id: string): void {
  if (!/^[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?$/.test(id)) throw new TypeError(`not a usable pod name: "${id}"`)
}
