/**
 * Everything the proxy needs to call one cluster (`reviews`, `reviews-v2`, or the local app), built once
 * per snapshot: endpoint states (carried across snapshots so EWMA, ejections and health survive a swap),
 * the balancer of its DestinationPolicy, circuit breaker, outlier detector, retry budget and the
 * connection pool of each endpoint (shared through the {@link PoolRegistry}).
 *
 * @example
 * const ep = cluster.pick(null, now()); const pool = cluster.poolOf(ep)
 */
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import type { Endpoint } from '../../config/snapshot.ts'
import { type Balancer, createBalancer } from '../resilience/balancer.ts'
import { CircuitBreaker } from '../resilience/circuit-breaker.ts'
import { EndpointSet, EndpointState } from '../resilience/endpoint-state.ts'
import { OutlierDetector } from '../resilience/outlier-detector.ts'
import { RetryBudget } from '../resilience/retry-budget.ts'
import { type Dialer, EndpointPool, poolKey, type PoolOptions } from './pool.ts'

export class PoolRegistry {
  readonly pools = new Map<string, EndpointPool>()
  /** Every endpoint's state by id, kept across snapshots (one state per endpoint, shared by its clusters). */
  readonly states = new EndpointSet()
  readonly dial: Dialer

  constructor (dial: Dialer) {
    this.dial = dial
  }

  pool (ep: Endpoint, options: PoolOptions): EndpointPool {
    const key = poolKey(ep)
    let p = this.pools.get(key)
    if (p === undefined || p.retired) {
      p = new EndpointPool(ep, this.dial, options)
      this.pools.set(key, p)
    } else {
      p.endpoint = ep
    }
    return p
  }

  /** Apply the endpoints of a new snapshot (same id → same state: stats, ejections survive the swap). */
  updateEndpoints (all: readonly Endpoint[]): void {
    this.states.update(all)
  }

  /** After a swap: retire pools no longer used by the new snapshot. */
  retireUnused (usedPools: Set<string>): void {
    for (const [k, p] of this.pools) {
      if (!usedPools.has(k)) { p.retire(); this.pools.delete(k) }
    }
  }

  /** Close idle connections (and h2 sessions) everywhere: the next requests dial with the current identity. */
  closeIdle (): void {
    for (const p of this.pools.values()) p.closeIdle()
  }

  closeAll (): void {
    for (const p of this.pools.values()) p.retire()
    this.pools.clear()
  }
}

export interface ClusterHooks {
  onEject?: (cluster: string, ep: EndpointState) => void
}

/**
 * Circuit breaker and retry budget given to a cluster instead of fresh ones: shared by the clusters of one
 * DestinationPolicy (`reviews`, `reviews-v2` call the same endpoint pools) and carried across snapshot swaps.
 */
export interface ClusterLimits {
  breaker: CircuitBreaker
  budget: RetryBudget
}

export class UpstreamCluster {
  readonly name: string
  readonly service: string
  /** States of this cluster's endpoints, in snapshot order. */
  readonly states: readonly EndpointState[]
  readonly balancer: Balancer
  readonly breaker: CircuitBreaker
  readonly outlier: OutlierDetector | null
  readonly budget: RetryBudget
  /** Pool per endpoint id. */
  readonly pools = new Map<string, EndpointPool>()
  /** DestinationPolicy `connectionPool.protocol` between sidecars (null: each request keeps the protocol it arrived with). */
  readonly protocol: 'http1' | 'h2' | null

  constructor (name: string, service: string, endpoints: readonly Endpoint[], policy: DestinationPolicy | undefined, registry: PoolRegistry, hooks: ClusterHooks = {}, limits?: ClusterLimits) {
    this.name = name
    this.service = service
    this.states = endpoints.map(e => registry.states.get(e.id) ?? new EndpointState(e))
    const spec = policy?.spec
    this.balancer = createBalancer(spec?.loadBalancer?.type ?? 'LeastRequest')
    this.breaker = limits?.breaker ?? CircuitBreaker.fromPolicy(spec?.connectionPool)
    const onEject = hooks.onEject
    this.outlier = OutlierDetector.fromPolicy(spec?.outlierDetection, onEject ? { onEject: ep => onEject(name, ep) } : undefined)
    this.budget = limits?.budget ?? RetryBudget.fromPolicy(spec?.retryBudget)
    this.protocol = spec?.connectionPool?.protocol ?? null
    const options: PoolOptions = {
      connectTimeoutMs: spec?.connectionPool ? parseDuration(spec.connectionPool.connectTimeout) : 1000,
      idleTimeoutMs: spec?.connectionPool ? parseDuration(spec.connectionPool.idleTimeout) : 60_000,
      maxIdle: 256
    }
    for (const e of endpoints) this.pools.set(e.id, registry.pool(e, options))
  }

  /** Balancer pick among available endpoints (not ejected, healthy), avoiding `exclude` when possible. */
  pick (exclude: EndpointState | null, now: number): EndpointState | null {
    return this.balancer.pick(this.states, now, exclude)
  }

  poolOf (ep: EndpointState): EndpointPool {
    return this.pools.get(ep.id)!
  }
}
