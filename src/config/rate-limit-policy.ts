import { z } from 'zod'
import { Metadata, TargetRef } from './common.ts'

/** Local (per proxy instance) token-bucket rate limit on the calls a service receives. */
export const RateLimitPolicySpec = z.object({
  targetRef: TargetRef,
  local: z.object({
    requestsPerUnit: z.number().int().min(1).max(10_000_000),
    unit: z.enum(['second', 'minute', 'hour']).default('second'),
    /** Bucket size; defaults to requestsPerUnit. */
    burst: z.number().int().min(1).max(10_000_000).optional()
  }).strict()
}).strict()
export type RateLimitPolicySpec = z.infer<typeof RateLimitPolicySpec>

export const RateLimitPolicy = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('RateLimitPolicy'),
  metadata: Metadata,
  spec: RateLimitPolicySpec
}).strict()
export type RateLimitPolicy = z.infer<typeof RateLimitPolicy>
