/**
 * Load balancer contract. A balancer is built once per snapshot for one service and picks from the
 * service's current `EndpointSet.states`. It skips endpoints that are not available (ejected or
 * unhealthy) and, when given `exclude` (the endpoint a failed try used), prefers another endpoint —
 * but falls back to `exclude` when it is the only available one. `null` = nothing available
 * (answer `MESH_ERR_NO_HEALTHY_UPSTREAM`).
 */
import type { EndpointState } from './endpoint-state.ts'
import { LeastRequestBalancer } from './least-request.ts'
import { PeakEwmaBalancer } from './peak-ewma.ts'
import { RoundRobinBalancer } from './round-robin.ts'

export interface Balancer {
  pick (eps: readonly EndpointState[], now: number, exclude?: EndpointState | null): EndpointState | null
}

export type BalancerType = 'RoundRobin' | 'LeastRequest' | 'PeakEWMA'

/**
 * @example
 * const lb = createBalancer(policy?.spec.loadBalancer?.type ?? 'LeastRequest')
 * const ep = lb.pick(set.states, now())
 */
export function createBalancer (type: BalancerType = 'LeastRequest'): Balancer {
  switch (type) {
    case 'RoundRobin': return new RoundRobinBalancer()
    case 'LeastRequest': return new LeastRequestBalancer()
    case 'PeakEWMA': return new PeakEwmaBalancer()
  }
}
