/**
 * Connection-pool limits of one destination (Envoy circuit breakers): connections, requests waiting
 * for a connection (pending), requests in flight. Counters only; the pool and the request pipeline
 * call acquire/release around the resource they hold. A refused acquire means: answer
 * `MESH_ERR_CIRCUIT_OPEN` (`circuitOpenError(kind)`) without calling upstream.
 *
 *   request ──tryAcquire()──► in flight ──────────────────────────────────────► release()
 *                              │ no idle connection:
 *                              ├─ tryAcquireConnection() ok → dial … releaseConnection() on close
 *                              └─ else tryEnterPending() ok → wait … leavePending() when served/aborted
 *
 * A limit left out of the policy is unlimited.
 */
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import { CircuitOpenError } from '../../errors.ts'

export type CircuitLimit = 'connections' | 'pending' | 'requests'

type ConnectionPoolSpec = NonNullable<DestinationPolicy['spec']['connectionPool']>

export interface CircuitBreakerLimits {
  maxConnections?: number
  maxPendingRequests?: number
  maxRequests?: number
}

/**
 * @example
 * const cb = CircuitBreaker.fromPolicy(policy?.spec.connectionPool)
 * if (!cb.tryAcquire()) throw circuitOpenError('requests', 'reviews')
 * try { … } finally { cb.release() }
 */
export class CircuitBreaker {
  readonly maxConnections: number
  readonly maxPendingRequests: number
  readonly maxRequests: number
  connections = 0
  pending = 0
  requests = 0
  /** Refusals per limit, for metrics. */
  overflowConnections = 0
  overflowPending = 0
  overflowRequests = 0

  constructor (limits: CircuitBreakerLimits = {}) {
    this.maxConnections = limits.maxConnections ?? Infinity
    this.maxPendingRequests = limits.maxPendingRequests ?? Infinity
    this.maxRequests = limits.maxRequests ?? Infinity
  }

  static fromPolicy (spec: ConnectionPoolSpec | undefined): CircuitBreaker {
    return new CircuitBreaker(spec ?? {})
  }

  /** Take a request slot (maxRequests). */
  tryAcquire (): boolean {
    if (this.requests >= this.maxRequests) { this.overflowRequests++; return false }
    this.requests++
    return true
  }

  release (): void {
    if (this.requests > 0) this.requests--
  }

  /** Before dialing a new connection (maxConnections). False → queue as pending instead, or refuse. */
  tryAcquireConnection (): boolean {
    if (this.connections >= this.maxConnections) { this.overflowConnections++; return false }
    this.connections++
    return true
  }

  releaseConnection (): void {
    if (this.connections > 0) this.connections--
  }

  /** Before waiting for a connection (maxPendingRequests). False → refuse with CIRCUIT_OPEN. */
  tryEnterPending (): boolean {
    if (this.pending >= this.maxPendingRequests) { this.overflowPending++; return false }
    this.pending++
    return true
  }

  leavePending (): void {
    if (this.pending > 0) this.pending--
  }
}

/** The error to answer with when `limit` refused a request to `destination`. */
export function circuitOpenError (limit: CircuitLimit, destination: string): CircuitOpenError {
  return new CircuitOpenError(`${destination}: ${limit} limit reached`)
}
