/**
 * Addresses of the pod network, all from the benchmarking range 198.18.0.0/15 (RFC 2544), which no real
 * network routes: pods from 198.18.0.0/16, service virtual addresses from 198.19.0.0/16.
 *
 * A run takes one /20 block of the pod range (16 blocks: up to 16 runs at once on one machine):
 *
 *   198.18.<16b>.0/20        block b of the run
 *     198.18.<16b>.1         the host's end (link mw<run>): sidecars reach the control plane here, and the
 *                            host reaches pods (ingress forwarder, Prometheus, readiness) from here
 *     198.18.<16b+1+k>.2-254 the pods of node k (k < 15)
 *   198.19.0.1 …             one virtual address per service name, the same in every run (they exist only
 *                            inside pods, as a local route, so runs cannot collide on them)
 *   198.19.255.254           the no-route address: what the pods' catch-all DNS answers for a name the mesh
 *                            does not know (the sidecar then says MESH_ERR_NO_ROUTE)
 */
import { NetnsCommandError } from '../../errors.ts'

export const POD_RANGE = '198.18.0.0/16'
export const SERVICE_RANGE = '198.19.0.0/16'
export const BLOCKS = 16
export const MAX_NODES = 15
/** Never a service's: names the mesh does not know resolve here in pods. */
export const NO_ROUTE_ADDRESS = '198.19.255.254'
const PODS_PER_NODE = 253

/** The /20 block `b` of the pod range. */
export interface Block {
  index: number
  /** `198.18.16.0/20` */
  cidr: string
  prefixLength: 20
  /** `198.18.16.1` */
  hostAddress: string
}

export function block (index: number): Block {
  if (!Number.isInteger(index) || index < 0 || index >= BLOCKS) throw new RangeError(`block ${index} is outside 0..${BLOCKS - 1}`)
  return { index, cidr: `198.18.${16 * index}.0/20`, prefixLength: 20, hostAddress: `198.18.${16 * index}.1` }
}

/** Which block an address of the pod range falls in, or -1. */
export function blockOf (address: string): number {
  const m = /^198\.18\.(\d{1,3})\.(\d{1,3})$/.exec(address)
  if (m === null) return -1
  const third = Number(m[1])
  return third > 255 ? -1 : third >> 4
}

/** The first block that none of `used` takes, or throws (16 runs already). */
export function freeBlock (used: Iterable<number>): number {
  const taken = new Set(used)
  for (let b = 0; b < BLOCKS; b++) if (!taken.has(b)) return b
  throw new NetnsCommandError(`all ${BLOCKS} address blocks of ${POD_RANGE} are in use by other pod networks on this machine (meshwork netns clean removes stale ones)`)
}

/**
 * Hands out pod addresses per node. An address given back is reused only after every other one of the
 * node was handed out (a restarted pod rarely gets the address callers still remember for an old one).
 *
 * @example
 * const pods = new PodAddresses(block(1), 2)
 * pods.take(0) // '198.18.17.2'
 */
export class PodAddresses {
  readonly block: Block
  readonly nodes: number
  readonly #next: number[]
  readonly #used: Set<string>[]

  constructor (b: Block, nodes: number) {
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new RangeError(`nodes must be 1..${MAX_NODES}, got ${nodes}`)
    this.block = b
    this.nodes = nodes
    this.#next = Array.from({ length: nodes }, () => 0)
    this.#used = Array.from({ length: nodes }, () => new Set<string>())
  }

  take (node: number): string {
    if (node < 0 || node >= this.nodes) throw new RangeError(`node ${node} is outside 0..${this.nodes - 1}`)
    const third = 16 * this.block.index + 1 + node
    for (let i = 0; i < PODS_PER_NODE; i++) {
      const host = 2 + ((this.#next[node] + i) % PODS_PER_NODE)
      const addr = `198.18.${third}.${host}`
      if (this.#used[node].has(addr)) continue
      this.#used[node].add(addr)
      this.#next[node] = (host - 2 + 1) % PODS_PER_NODE
      return addr
    }
    throw new NetnsCommandError(`node ${node} has no free pod address left (${PODS_PER_NODE} pods)`)
  }

  release (node: number, address: string): void {
    this.#used[node]?.delete(address)
  }
}

/**
 * One virtual address per service name (`reviews`, `reviews-v2`), stable for the life of the run: a name
 * keeps its address when other services come and go.
 */
export class ServiceVips {
  readonly #byName = new Map<string, string>()
  #count = 0

  /** The address of `key` (e.g. `default/reviews`), allocated on first use. */
  vip (key: string): string {
    let v = this.#byName.get(key)
    if (v === undefined) {
      const i = this.#count++
      if (i >= 256 * 254 - 1) throw new NetnsCommandError(`no service address left in ${SERVICE_RANGE}`)
      // skip .0 and .255 in the last octet: some resolvers and tools treat them as network/broadcast
      v = `198.19.${Math.floor(i / 254)}.${(i % 254) + 1}`
      this.#byName.set(key, v)
    }
    return v
  }
}
