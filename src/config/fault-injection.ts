import { z } from 'zod'
import { Duration, Metadata, Percentage, TargetRef } from './common.ts'
import { RouteMatch } from './http-route.ts'
import { ruleCheck } from './rule-check.ts'

/**
 * gRPC status names an abort may answer with, as Istio's `HTTPFaultInjection.Abort.grpcStatus` spells them
 * (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md, upper case; not OK).
 */
export const GrpcAbortStatus = z.enum([
  'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED'
])
export type GrpcAbortStatus = z.infer<typeof GrpcAbortStatus>

/**
 * Delay or abort a share of the calls a service receives. Applied by the target's inbound sidecar, so
 * the callers' retries and timeouts see it as they would see a real failure. An abort answers gRPC requests with a
 * trailers-only gRPC status: `grpcStatus` when given, else the one gRPC maps `httpStatus` to (503 → UNAVAILABLE);
 * other requests get `httpStatus`.
 */
export const FaultInjectionSpec = z.object({
  targetRef: TargetRef,
  matches: z.array(RouteMatch).max(8).optional(),
  delay: z.object({ fixedDelay: Duration, percentage: Percentage.default(100) }).strict().optional(),
  abort: z.object({
    httpStatus: z.number().int().min(200).max(599).default(503),
    grpcStatus: GrpcAbortStatus.optional(),
    percentage: Percentage.default(100)
  }).strict().optional()
}).strict().check(ruleCheck('fault-injection'))
export type FaultInjectionSpec = z.infer<typeof FaultInjectionSpec>

export const FaultInjection = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('FaultInjection'),
  metadata: Metadata,
  spec: FaultInjectionSpec
}).strict()
export type FaultInjection = z.infer<typeof FaultInjection>
