/**
 * Everything a snapshot compiles to, built once in `applySnapshot` and swapped as one reference:
 * route tables (outbound, gateway), upstream clusters with their policies, and the inbound policy of the
 * local service (authorization, rate limit, faults). Requests hold the tables they started with, so a
 * swap never changes the rules under a request in flight.
 *
 * @example
 * const tables = compileTables(snapshot, registry, { gatewayName: 'ingress' })
 */
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import type { Endpoint, ProxySnapshot } from '../../config/snapshot.ts'
import { type Authorizer, compileAuthorization } from '../authz/authorizer.ts'
import type { PathNormalization } from '../path/normalize.ts'
import { type CompiledFault, compileFault } from '../resilience/fault.ts'
import { CircuitBreaker } from '../resilience/circuit-breaker.ts'
import { HealthChecker, type HealthProbe } from '../resilience/health-check.ts'
import { RetryBudget } from '../resilience/retry-budget.ts'
import { TokenBucket } from '../resilience/rate-limiter.ts'
import { type CompiledMatch, compileMatch } from '../router/route-match.ts'
import { compileRouteTable, type RouteTable } from '../router/route-table.ts'
import { type ClusterHooks, type ClusterLimits, type PoolRegistry, UpstreamCluster } from '../upstream/upstream-cluster.ts'
import { poolKey } from '../upstream/pool.ts'
import { compileGatewayTls, type TlsTermination } from '../listeners/gateway-tls.ts'

export interface InboundFault {
  /** null = every request. */
  matches: CompiledMatch[] | null
  fault: CompiledFault
}

export interface ProxyTables {
  readonly version: string
  readonly snapshot: ProxySnapshot
  readonly clusters: Map<string, UpstreamCluster>
  readonly outbound: RouteTable
  /** null when the proxy runs no gateway listener (or the snapshot has no such Gateway). */
  readonly gateway: RouteTable | null
  /** TLS termination of the Gateway's HTTPS listeners (gateway listener), or null. */
  readonly gatewayTls: TlsTermination | null
  /** The app behind the inbound listener, or null. */
  readonly local: UpstreamCluster | null
  /** Authorization of calls to the local service (inbound). */
  readonly authorize: Authorizer | null
  readonly rateLimit: TokenBucket | null
  readonly faults: InboundFault[] | null
  readonly defaultTimeoutMs: number
  readonly mtlsMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'
  /** How request paths are normalized before routing and authorization (src/dataplane/path/). */
  readonly pathNormalization: PathNormalization
  /** Active health checks of clusters whose DestinationPolicy asks for one (started by the proxy on swap). */
  readonly healthCheckers: HealthChecker[]
  /** Circuit breakers and retry budgets by {@link limitsKey} (carried to the next tables). */
  readonly limits: Map<string, SharedLimits>
}

/** One circuit breaker + retry budget, with the policy text they were built from (to detect a change). */
export interface SharedLimits extends ClusterLimits {
  readonly connectionPool: string
  readonly retryBudget: string
}

export interface CompileOptions {
  gatewayName?: string
  hooks?: ClusterHooks
  /**
   * Previous tables: token buckets, circuit breakers and retry budgets of unchanged policies carry over, so a
   * swap neither refills nor resets them; a changed connectionPool gets new limits over the same counters.
   */
  previous?: ProxyTables | null
  /** Probe used by active health checks (TLS-aware); default plain HTTP. */
  probe?: HealthProbe
}

export const LOCAL_CLUSTER = 'local-app'

export function compileTables (snapshot: ProxySnapshot, registry: PoolRegistry, opts: CompileOptions = {}): ProxyTables {
  const outbound = compileRouteTable(snapshot, 'outbound')
  const gateway = opts.gatewayName !== undefined ? compileRouteTable(snapshot, 'gateway', opts.gatewayName) : null
  const gatewayTls = opts.gatewayName !== undefined
    ? compileGatewayTls(snapshot.gateways.find(g => g.metadata.name === opts.gatewayName), opts.previous?.gatewayTls ?? null)
    : null
  const all: Endpoint[] = []
  const seen = new Set<string>()
  for (const s of snapshot.services) for (const e of s.endpoints) if (!seen.has(e.id)) { seen.add(e.id); all.push(e) }
  let localEndpoint: Endpoint | null = null
  if (snapshot.localApp !== undefined) {
    localEndpoint = {
      id: LOCAL_CLUSTER,
      address: snapshot.localApp.address,
      port: snapshot.localApp.port,
      tls: false,
      protocol: snapshot.localApp.protocol,
      healthy: true
    }
    all.push(localEndpoint)
  }
  registry.updateEndpoints(all)

  const clusters = new Map<string, UpstreamCluster>()
  const usedPools = new Set<string>()
  const healthCheckers: HealthChecker[] = []
  const limits = new Map<string, SharedLimits>()
  const prevLimits = opts.previous?.limits
  for (const c of outbound.clusters.values()) {
    const policy = policyFor(snapshot.destinationPolicies, c.name, c.service)
    const shared = sharedLimits(limits, prevLimits, limitsKey(c.name, policy), policy, opts.previous?.clusters.get(c.name))
    const cluster = new UpstreamCluster(c.name, c.service, c.endpoints, policy, registry, opts.hooks, shared)
    clusters.set(c.name, cluster)
    for (const e of c.endpoints) usedPools.add(poolKey(e))
    // one checker per policy target: a subset cluster (`reviews-v2`) shares the service's states, so only the
    // cluster the policy names probes
    const hc = policy?.spec.healthCheck
    if (hc !== undefined && policy!.spec.targetRef.name === c.name) {
      healthCheckers.push(HealthChecker.fromPolicy(hc, () => cluster.states, { probe: opts.probe }))
    }
  }
  let local: UpstreamCluster | null = null
  if (localEndpoint !== null) {
    const shared = sharedLimits(limits, prevLimits, 'local:', undefined)
    local = new UpstreamCluster(LOCAL_CLUSTER, snapshot.node.service ?? LOCAL_CLUSTER, [localEndpoint], undefined, registry, opts.hooks, shared)
    usedPools.add(poolKey(localEndpoint))
  }
  registry.retireUnused(usedPools)

  const service = snapshot.node.service
  let authorize: Authorizer | null = null
  let rateLimit: TokenBucket | null = null
  let faults: InboundFault[] | null = null
  if (service !== undefined) {
    if (snapshot.authorizationPolicies.length > 0) {
      authorize = compileAuthorization(snapshot.authorizationPolicies, service, { version: snapshot.node.version, namespace: snapshot.node.namespace })
    }
    const subset = snapshot.node.version !== undefined ? `${service}-${snapshot.node.version}` : null
    const targets = (name: string): boolean => name === service || name === subset
    const rl = snapshot.rateLimitPolicies.find(p => targets(p.spec.targetRef.name))
    if (rl !== undefined) {
      const prevSnap = opts.previous?.snapshot
      const prevRl = prevSnap?.rateLimitPolicies.find(p => targets(p.spec.targetRef.name))
      rateLimit = prevRl !== undefined && opts.previous?.rateLimit != null && JSON.stringify(prevRl.spec) === JSON.stringify(rl.spec)
        ? opts.previous.rateLimit
        : TokenBucket.fromPolicy(rl.spec)
    }
    const fs = snapshot.faultInjections.filter(f => targets(f.spec.targetRef.name))
    if (fs.length > 0) {
      faults = fs.map(f => ({
        matches: f.spec.matches !== undefined && f.spec.matches.length > 0 ? f.spec.matches.map(compileMatch) : null,
        fault: compileFault(f.spec)
      }))
    }
  }

  return Object.freeze({
    version: snapshot.version,
    snapshot,
    clusters,
    outbound,
    gateway,
    gatewayTls,
    local,
    authorize,
    rateLimit,
    faults,
    defaultTimeoutMs: parseDuration(snapshot.mesh.defaultTimeout),
    mtlsMode: snapshot.mesh.mtls.mode,
    pathNormalization: snapshot.mesh.pathNormalization.normalization,
    healthCheckers,
    limits
  })
}

/** The DestinationPolicy of a cluster: one targeting the subset (`reviews-v2`) wins over the service's. */
function policyFor (policies: readonly DestinationPolicy[], cluster: string, service: string): DestinationPolicy | undefined {
  let found: DestinationPolicy | undefined
  for (const p of policies) {
    if (p.spec.targetRef.name === cluster) return p
    if (p.spec.targetRef.name === service) found = p
  }
  return found
}

/**
 * Which clusters share a circuit breaker and a retry budget: all the clusters a DestinationPolicy applies to
 * (a policy on `reviews` covers `reviews` and `reviews-v2`, whose endpoints share one connection pool, so
 * `maxConnections` bounds the connections to the service); a cluster without a policy has its own.
 */
function limitsKey (cluster: string, policy: DestinationPolicy | undefined): string {
  return policy === undefined ? 'cluster:' + cluster : 'policy:' + policy.spec.targetRef.name
}

/** The limits of `key` in these tables: already built, carried from the previous tables, or new. */
function sharedLimits (
  limits: Map<string, SharedLimits>, prev: Map<string, SharedLimits> | undefined, key: string, policy: DestinationPolicy | undefined,
  prevCluster?: UpstreamCluster
): SharedLimits {
  const have = limits.get(key)
  if (have !== undefined) return have
  const spec = policy?.spec
  const connectionPool = JSON.stringify(spec?.connectionPool ?? null)
  const retryBudget = JSON.stringify(spec?.retryBudget ?? null)
  const old = prev?.get(key)
  let breaker: CircuitBreaker
  // a cluster that moved to another key (a policy was added or removed) keeps counting what it holds
  if (old === undefined) breaker = prevCluster !== undefined ? prevCluster.breaker.withLimits(spec?.connectionPool ?? {}) : CircuitBreaker.fromPolicy(spec?.connectionPool)
  else if (old.connectionPool === connectionPool) breaker = old.breaker
  else breaker = old.breaker.withLimits(spec?.connectionPool ?? {})
  const budget = old !== undefined && old.retryBudget === retryBudget ? old.budget : RetryBudget.fromPolicy(spec?.retryBudget)
  const made: SharedLimits = { breaker, budget, connectionPool, retryBudget }
  limits.set(key, made)
  return made
}
