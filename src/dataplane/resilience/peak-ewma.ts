import type { Balancer } from './balancer.ts'
import type { EndpointState } from './endpoint-state.ts'
import { pickP2C } from './p2c.ts'

function ewmaCost (ep: EndpointState, now: number): number {
  return ep.cost(now)
}

/**
 * Peak EWMA (Finagle, Linkerd): power of two choices on cost = peak-EWMA latency × (inflight + 1),
 * the estimate decaying with τ = 10 s (see `EndpointState.observeLatency`). Slow endpoints are avoided
 * as soon as one slow response is seen. Needs latency samples from `preciseNow()`.
 * @example new PeakEwmaBalancer().pick(set.states, now())
 */
export class PeakEwmaBalancer implements Balancer {
  pick (eps: readonly EndpointState[], now: number, exclude?: EndpointState | null): EndpointState | null {
    return pickP2C(eps, now, exclude, ewmaCost)
  }
}
