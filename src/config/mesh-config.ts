import { z } from 'zod'
import { Duration, Metadata, Percentage } from './common.ts'

/** Mesh-wide settings. At most one MeshConfig per mesh. */
export const MeshConfigSpec = z.object({
  trustDomain: z.string().regex(/^[a-z0-9.-]+$/, 'must be a trust domain such as "cluster.local"').default('cluster.local'),
  mtls: z.object({ mode: z.enum(['STRICT', 'PERMISSIVE', 'DISABLE']).default('STRICT') }).strict().default({ mode: 'STRICT' }),
  tracing: z.object({
    enabled: z.boolean().default(true),
    /** Share of new traces sampled, in percent. */
    sampling: Percentage.default(100),
    /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. */
    otlpEndpoint: z.url().optional()
  }).strict().default({ enabled: true, sampling: 100 }),
  accessLog: z.object({
    enabled: z.boolean().default(false),
    /** `stdout` or a file path; one JSON object per line. */
    path: z.string().default('stdout')
  }).strict().default({ enabled: false, path: 'stdout' }),
  /** Default for calls with no route timeout. */
  defaultTimeout: Duration.default('15s'),
  certificates: z.object({
    /** Lifetime of workload certificates. */
    ttl: Duration.default('1h')
  }).strict().default({ ttl: '1h' }),
  /**
   * How request paths are normalized before routing and authorization (the normalized path is also sent
   * upstream): Istio's MeshConfig `pathNormalization.normalization` (src/dataplane/path/). The default is
   * the strictest, DECODE_AND_MERGE_SLASHES (%2F and %5C decoded to `/`): no advisory vector reaches a
   * denied path however the app reads it; MERGE_SLASHES keeps %2F for apps that need it in a segment.
   */
  pathNormalization: z.object({
    normalization: z.enum(['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']).default('DECODE_AND_MERGE_SLASHES')
  }).strict().default({ normalization: 'DECODE_AND_MERGE_SLASHES' }),
  telemetry: z.object({
    /**
     * Request/response headers whose values `/tap`, the access log and spans show as "[redacted]", besides
     * authorization, proxy-authorization, cookie and set-cookie, which always are.
     */
    redactHeaders: z.array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')).max(64).default([])
  }).strict().default({ redactHeaders: [] })
}).strict()
export type MeshConfigSpec = z.infer<typeof MeshConfigSpec>

export const MeshConfig = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('MeshConfig'),
  metadata: Metadata,
  spec: MeshConfigSpec
}).strict()
export type MeshConfig = z.infer<typeof MeshConfig>

/** MeshConfig spec used when a mesh defines none. */
export const DEFAULT_MESH_CONFIG: MeshConfigSpec = Object.freeze(MeshConfigSpec.parse({})) as MeshConfigSpec
