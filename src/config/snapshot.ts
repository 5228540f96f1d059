import { z } from 'zod'
import { AuthorizationPolicy } from './authorization-policy.ts'
import { DestinationPolicy } from './destination-policy.ts'
import { FaultInjection } from './fault-injection.ts'
import { Gateway } from './gateway.ts'
import { GRPCRoute } from './grpc-route.ts'
import { HTTPRoute } from './http-route.ts'
import { MeshConfigSpec } from './mesh-config.ts'
import { RateLimitPolicy } from './rate-limit-policy.ts'
import { checkConsistency, deepFreeze, rejectIssues } from './snapshot-consistency.ts'

/**
 * One instance of a service the proxy may call. For meshed services the address is the peer sidecar's
 * inbound listener (mTLS when `tls` is true); for the local app it is the app's own port.
 */
export const Endpoint = z.object({
  /** Stable id, e.g. `reviews-v2-0`. */
  id: z.string().min(1),
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  version: z.string().optional(),
  /** SPIFFE ID the peer must present (checked when tls is true). */
  identity: z.string().optional(),
  /** Dial with mTLS (peer sidecar) or plain (app, external, nginx peer…). */
  tls: z.boolean().default(false),
  protocol: z.enum(['http1', 'h2']).default('http1'),
  /**
   * A Meshwork sidecar's inbound listener, which accepts HTTP/1.1 and h2: each request keeps the protocol it arrived
   * with (h2 from the caller → h2 to the peer, ALPN `h2` on mTLS), unless `protocol: h2` asks for h2 always.
   */
  sidecar: z.boolean().optional(),
  /** False while the control plane knows the instance is down; such endpoints get no traffic. */
  healthy: z.boolean().default(true)
}).strict()
export type Endpoint = z.infer<typeof Endpoint>

export const ServiceEntry = z.object({
  /** `details` in the proxy's own namespace, `details.team-a` in another (config/service-names.ts). */
  name: z.string().min(1),
  /** Namespace the service lives in (default: the proxy's). */
  namespace: z.string().optional(),
  /** Port the service is addressed on (`reviews:9080`). */
  port: z.number().int().min(1).max(65535),
  endpoints: z.array(Endpoint),
  /**
   * Versions the mesh declares for this service (from its Workloads), so `<service>-<version>` is a known
   * name even while no instance of that version is up (it then has no endpoints: 503, not a NACK).
   */
  versions: z.array(z.string().min(1)).optional()
}).strict()
export type ServiceEntry = z.infer<typeof ServiceEntry>

/**
 * Everything one proxy needs, compiled for it by the control plane (or written by hand as a static
 * snapshot file). Versioned; the proxy validates it, builds its tables once and swaps atomically.
 */
export const ProxySnapshot = z.object({
  version: z.string().min(1),
  node: z.object({
    id: z.string().min(1),
    role: z.enum(['sidecar', 'ingress', 'egress']).default('sidecar'),
    /** Service this sidecar fronts (absent for gateways). */
    service: z.string().optional(),
    version: z.string().optional(),
    namespace: z.string().default('default'),
    /** Own SPIFFE ID. */
    identity: z.string().optional()
  }).strict(),
  mesh: MeshConfigSpec.default(MeshConfigSpec.parse({})),
  /**
   * Services the proxy may call, each also reachable per version as `<service>-<version>`.
   * The entry named like `node.service` with `local: true` semantics is the local app (see `localApp`).
   */
  services: z.array(ServiceEntry).default([]),
  /** The app behind a sidecar's inbound listener. */
  localApp: z.object({
    address: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['http1', 'h2']).default('http1'),
    /** Path the sidecar probes to report the app's health to the control plane (Workload readinessPath). */
    readinessPath: z.string().startsWith('/').optional()
  }).strict().optional(),
  routes: z.array(HTTPRoute).default([]),
  /** GRPCRoutes, compiled into the same route tables as `routes` (GRPCRoute wins a Service both attach to). */
  grpcRoutes: z.array(GRPCRoute).default([]),
  gateways: z.array(Gateway).default([]),
  destinationPolicies: z.array(DestinationPolicy).default([]),
  authorizationPolicies: z.array(AuthorizationPolicy).default([]),
  faultInjections: z.array(FaultInjection).default([]),
  rateLimitPolicies: z.array(RateLimitPolicy).default([])
}).strict()
export type ProxySnapshot = z.infer<typeof ProxySnapshot>
export type ProxySnapshotInput = z.input<typeof ProxySnapshot>

/**
 * Validate a snapshot and check that it is consistent (every backendRef names a known service, versions
 * exist). Returns a deeply frozen snapshot; throws SnapshotRejectedError naming path and reason.
 * The proxy process uses `checkProxySnapshot` (`snapshot-check/check-snapshot.ts`): the same answers
 * without loading zod.
 */
export function checkSnapshot (value: unknown, source = '<snapshot>'): ProxySnapshot {
  const parsed = ProxySnapshot.safeParse(value)
  if (!parsed.success) throw rejectIssues(parsed.error.issues, source)
  checkConsistency(parsed.data, source)
  return deepFreeze(parsed.data)
}

export { deepFreeze } from './snapshot-consistency.ts'
