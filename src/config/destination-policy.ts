import { z } from 'zod'
import { Duration, Metadata, TargetRef } from './common.ts'

/** What the Gateway API lacks for calling a service: balancing, pools, breakers, outlier detection, budgets. */
export const DestinationPolicySpec = z.object({
  targetRef: TargetRef,
  loadBalancer: z.object({
    type: z.enum(['RoundRobin', 'LeastRequest', 'PeakEWMA']).default('LeastRequest')
  }).strict().optional(),
  connectionPool: z.object({
    /** Upper bound on open connections to all endpoints of the target. */
    maxConnections: z.number().int().min(1).max(100_000).optional(),
    /** Requests allowed to wait for a connection; beyond that → MESH_ERR_CIRCUIT_OPEN. */
    maxPendingRequests: z.number().int().min(0).max(100_000).optional(),
    /** Requests in flight to the target. */
    maxRequests: z.number().int().min(1).max(100_000).optional(),
    connectTimeout: Duration.default('1s'),
    idleTimeout: Duration.default('60s'),
    /**
     * Protocol between sidecars for calls to the target: `h2` or `http1` for every call; unset, each call keeps the
     * protocol it arrived with (h2 from the app → h2 to the peer sidecar, HTTP/1.1 → HTTP/1.1). docs/grpc.md.
     */
    protocol: z.enum(['http1', 'h2']).optional()
  }).strict().optional(),
  outlierDetection: z.object({
    consecutive5xx: z.number().int().min(1).max(1000).default(5),
    consecutiveConnectFailures: z.number().int().min(1).max(1000).default(2),
    interval: Duration.default('5s'),
    baseEjectionTime: Duration.default('15s'),
    maxEjectionPercent: z.number().int().min(0).max(100).default(50)
  }).strict().optional(),
  retryBudget: z.object({
    /** Retries allowed as a share of requests (0.2 = 20%). */
    ratio: z.number().min(0).max(10).default(0.2),
    minRetriesPerSecond: z.number().int().min(0).max(100_000).default(10),
    ttl: Duration.default('10s')
  }).strict().optional(),
  healthCheck: z.object({
    path: z.string().startsWith('/').default('/healthz'),
    interval: Duration.default('5s'),
    timeout: Duration.default('1s'),
    unhealthyThreshold: z.number().int().min(1).max(100).default(2),
    healthyThreshold: z.number().int().min(1).max(100).default(1)
  }).strict().optional()
}).strict()

export const DestinationPolicy = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('DestinationPolicy'),
  metadata: Metadata,
  spec: DestinationPolicySpec
}).strict()
export type DestinationPolicy = z.infer<typeof DestinationPolicy>
