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
/** What is held right now (connections open, requests pending, requests in flight): shared across swaps. */
export interface BreakerCounts {
  connections: number
  pending: number
  requests: number
}

export class CircuitBreaker {
  readonly maxConnections: number
  readonly maxPendingRequests: number
  readonly maxRequests: number
  /**
   * Counters of held resources. A breaker rebuilt on a snapshot swap with new limits shares the counters of
   * the one it replaces ({@link CircuitBreaker.withLimits}): requests and connections in flight on the old
   * breaker still count against the new limits and release into the same counters.
   */
  readonly counts: BreakerCounts
  /** Refusals per limit, for metrics. */
  overflowConnections = 0
  overflowPending = 0
  overflowRequests = 0

  constructor (limits: CircuitBreakerLimits = {}, counts: BreakerCounts = { connections: 0, pending: 0, requests: 0 }) {
    this.maxConnections = limits.maxConnections ?? Infinity
    this.maxPendingRequests = limits.maxPendingRequests ?? Infinity
    this.maxRequests = limits.maxRequests ?? Infinity
    this.counts = counts
  }

  static fromPolicy (spec: ConnectionPoolSpec | undefined): CircuitBreaker {
    return new CircuitBreaker(spec ?? {})
  }

  /** A breaker with other limits over the same counters (a policy changed on a snapshot swap). */
  withLimits (limits: CircuitBreakerLimits): CircuitBreaker {
    return new CircuitBreaker(limits, this.counts)
  }

  get connections (): number { return this.counts.connections }
  get pending (): number { return this.counts.pending }
  get requests (): number { return this.counts.requests }

  /** Take a request slot (maxRequests). */
  tryAcquire (): boolean {
    const c = this.counts
    if (c.requests >= this.maxRequests) { this.overflowRequests++; return false }
    c.requests++
    return true
  }

  release (): void {
    const c = this.counts
    if (c.requests > 0) c.requests--
  }

  /** Before dialing a new connection (maxConnections). False → queue as pending instead, or refuse. */
  tryAcquireConnection (): boolean {
    const c = this.counts
    if (c.connections >= this.maxConnections) { this.overflowConnections++; return false }
    c.connections++
    return true
  }

  releaseConnection (): void {
    const c = this.counts
    if (c.connections > 0) c.connections--
  }

  /** Before waiting for a connection (maxPendingRequests). False → refuse with CIRCUIT_OPEN. */
  tryEnterPending (): boolean {
    const c = this.counts
    if (c.pending >= this.maxPendingRequests) { this.overflowPending++; return false }
    c.pending++
    return true
  }

  leavePending (): void {
    const c = this.counts
    if (c.pending > 0) c.pending--
  }
}

/** The error to answer with when `limit` refused a request to `destination`. */
export function circuitOpenError (limit: CircuitLimit, destination: string): CircuitOpenError {
  return new CircuitOpenError(`${destination}: ${limit} limit reached`)
}
