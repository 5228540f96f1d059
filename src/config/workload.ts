import { z } from 'zod'
import { Metadata, Name } from './common.ts'

/**
 * How to run one workload (a version of a service) locally. A workload of service `reviews` and version
 * `v2` is reachable as `reviews` and as `reviews-v2`.
 */
export const WorkloadSpec = z.object({
  service: Name,
  version: Name.default('v1'),
  /** Port the service is addressed on (`reviews:9080`); the app itself listens on `$PORT`, chosen by the runtime. */
  port: z.number().int().min(1).max(65535).default(80),
  command: z.array(z.string().min(1)).min(1),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  replicas: z.number().int().min(0).max(32).default(1),
  /** Protocol the app speaks. */
  protocol: z.enum(['http1', 'h2']).default('http1'),
  /** Identity: `spiffe://<trust-domain>/ns/<ns>/sa/<serviceAccount>`; defaults to the service name. */
  serviceAccount: Name.optional(),
  /** HTTP path the runtime polls for app readiness. */
  readinessPath: z.string().startsWith('/').default('/healthz')
}).strict()

export const Workload = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('Workload'),
  metadata: Metadata,
  spec: WorkloadSpec
}).strict()
export type Workload = z.infer<typeof Workload>
