/**
 * Everything a snapshot compiles to, built once in `applySnapshot` and swapped as one reference:
 * route tables (outbound, gateway), upstream clusters with their policies, and the inbound policy of the
 * local service (authorization, rate limit, faults). Requests hold the tables they started with, so a
 * swap never changes the rules under a request in flight.
 *
 * @example
 * const tables = compileTables(snapshot, registry, { gatewayName: 'ingress' })
 */
import { parseDuration } from '../../config/common.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import type { Endpoint, ProxySnapshot } from '../../config/snapshot.ts'
import { type Authorizer, compileAuthorization } from '../authz/authorizer.ts'
import { type CompiledFault, compileFault } from '../resilience/fault.ts'
import { HealthChecker, type HealthProbe } from '../resilience/health-check.ts'
import { TokenBucket } from '../resilience/rate-limiter.ts'
import { type CompiledMatch, compileMatch } from '../router/route-match.ts'
import { compileRouteTable, type RouteTable } from '../router/route-table.ts'
import { type ClusterHooks, type PoolRegistry, UpstreamCluster } from '../upstream/upstream-cluster.ts'
import { poolKey } from '../upstream/pool.ts'

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
  /** The app behind the inbound listener, or null. */
  readonly local: UpstreamCluster | null
  /** Authorization of calls to the local service (inbound). */
  readonly authorize: Authorizer | null
  readonly rateLimit: TokenBucket | null
  readonly faults: InboundFault[] | null
  readonly defaultTimeoutMs: number
  readonly mtlsMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE'
  /** Active health checks of clusters whose DestinationPolicy asks for one (started by the proxy on swap). */
  readonly healthCheckers: HealthChecker[]
}

export interface CompileOptions {
  gatewayName?: string
  hooks?: ClusterHooks
  /** Previous tables: token buckets of unchanged policies carry over, so a swap does not refill them. */
  previous?: ProxyTables | null
  /** Probe used by active health checks (TLS-aware); default plain HTTP. */
  probe?: HealthProbe
}

export const LOCAL_CLUSTER = 'local-app'

export function compileTables (snapshot: ProxySnapshot, registry: PoolRegistry, opts: CompileOptions = {}): ProxyTables {
  const outbound = compileRouteTable(snapshot, 'outbound')
  const gateway = opts.gatewayName !== undefined ? compileRouteTable(snapshot, 'gateway', opts.gatewayName) : null
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
  for (const c of outbound.clusters.values()) {
    const policy = policyFor(snapshot.destinationPolicies, c.name, c.service)
    const cluster = new UpstreamCluster(c.name, c.service, c.endpoints, policy, registry, opts.hooks)
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
    local = new UpstreamCluster(LOCAL_CLUSTER, snapshot.node.service ?? LOCAL_CLUSTER, [localEndpoint], undefined, registry, opts.hooks)
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
    local,
    authorize,
    rateLimit,
    faults,
    defaultTimeoutMs: parseDuration(snapshot.mesh.defaultTimeout),
    mtlsMode: snapshot.mesh.mtls.mode,
    healthCheckers
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
