import { z } from 'zod'
import { Metadata, Name } from './common.ts'

/**
 * Gateway API ReferenceGrant (gateway.networking.k8s.io/v1beta1): lets resources of the `from` kinds in the
 * `from` namespaces refer to objects of the `to` kinds in the grant's own namespace. Meshwork checks it for
 * route backendRefs (and mirror backendRefs) to a Service of another namespace; see docs/control-plane.md,
 * "Namespaces and ReferenceGrant".
 */
export const ReferenceGrantFrom = z.object({
  group: z.string().default('gateway.networking.k8s.io'),
  kind: z.enum(['HTTPRoute', 'GRPCRoute', 'Gateway']),
  namespace: Name
}).strict()

export const ReferenceGrantTo = z.object({
  /** `''` is the core group (Service). */
  group: z.string().default(''),
  kind: z.enum(['Service']).default('Service'),
  /** One Service; absent = every Service of the namespace. */
  name: Name.optional()
}).strict()

export const ReferenceGrant = z.object({
  apiVersion: z.enum(['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1']),
  kind: z.literal('ReferenceGrant'),
  metadata: Metadata,
  spec: z.object({
    from: z.array(ReferenceGrantFrom).min(1).max(16),
    to: z.array(ReferenceGrantTo).min(1).max(16)
  }).strict()
}).strict()
export type ReferenceGrant = z.infer<typeof ReferenceGrant>
