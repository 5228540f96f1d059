import type { Balancer } from './balancer.ts'
import type { EndpointState } from './endpoint-state.ts'
import { pickP2C } from './p2c.ts'

function inflightLoad (ep: EndpointState): number {
  return ep.inflight
}

/**
 * Least request by power of two choices on `inflight` (Envoy LEAST_REQUEST, Linkerd P2C).
 * @example new LeastRequestBalancer().pick(set.states, now())
 */
export class LeastRequestBalancer implements Balancer {
  pick (eps: readonly EndpointState[], now: number, exclude?: EndpointState | null): EndpointState | null {
    return pickP2C(eps, now, exclude, inflightLoad)
  }
}
