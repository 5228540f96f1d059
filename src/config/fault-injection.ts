import { z } from 'zod'
import { Duration, Metadata, Percentage, TargetRef } from './common.ts'
import { RouteMatch } from './http-route.ts'
import { ruleCheck } from './rule-check.ts'

/**
 * Delay or abort a share of the calls a service receives. Applied by the target's inbound sidecar, so
 * the callers' retries and timeouts see it as they would see a real failure.
 */
export const FaultInjectionSpec = z.object({
  targetRef: TargetRef,
  matches: z.array(RouteMatch).max(8).optional(),
  delay: z.object({ fixedDelay: Duration, percentage: Percentage.default(100) }).strict().optional(),
  abort: z.object({ httpStatus: z.number().int().min(200).max(599).default(503), percentage: Percentage.default(100) }).strict().optional()
}).strict().check(ruleCheck('fault-injection'))
export type FaultInjectionSpec = z.infer<typeof FaultInjectionSpec>

export const FaultInjection = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('FaultInjection'),
  metadata: Metadata,
  spec: FaultInjectionSpec
}).strict()
export type FaultInjection = z.infer<typeof FaultInjection>
