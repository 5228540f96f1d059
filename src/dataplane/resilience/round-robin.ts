import type { Balancer } from './balancer.ts'
import type { EndpointState } from './endpoint-state.ts'

/**
 * Round robin over available endpoints, skipping ejected/unhealthy ones and (if possible) `exclude`.
 * @example new RoundRobinBalancer().pick(set.states, now())
 */
export class RoundRobinBalancer implements Balancer {
  #next = 0

  pick (eps: readonly EndpointState[], now: number, exclude?: EndpointState | null): EndpointState | null {
    const n = eps.length
    if (n === 0) return null
    let start = this.#next
    if (start >= n) start = 0
    let fallback: EndpointState | null = null
    // Perf: indexed loop from the cursor; the common case returns on the first iteration.
    for (let k = 0; k < n; k++) {
      let i = start + k
      if (i >= n) i -= n
      const ep = eps[i]
      if (!ep.isAvailable(now)) continue
      if (ep === exclude) { fallback = ep; continue }
      this.#next = i + 1
      return ep
    }
    return fallback
  }
}
