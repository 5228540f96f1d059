/**
 * Gateway API `GRPCRoute` (`gateway.networking.k8s.io/v1`, GA in Gateway API v1.1), with Meshwork's `timeouts`
 * and `retry` on each rule as on HTTPRoute. Conventions as `http-route.ts`: strict objects, Gateway API
 * defaults and limits, rules zod cannot express in `rules.ts` (shared with the proxy's zod-free checker).
 *
 * A gRPC request's `:path` is `/<package.Service>/<Method>`: a method match selects on those two parts.
 * Attached to a Service (GAMMA) the route decides calls to that service; attached to a Gateway, calls through
 * it (see `src/dataplane/router/README.md` for precedence and how GRPCRoute and HTTPRoute share a parent).
 *
 * @example
 * GRPCRoute.parse({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'stars' },
 *   spec: { parentRefs: [{ name: 'stars' }], rules: [{ matches: [{ method: { service: 'bookinfo.stars.v1.Stars' } }], backendRefs: [{ name: 'stars' }] }] } })
 */
import { z } from 'zod'
import { Metadata } from './common.ts'
import {
  BackendRef, HeaderName, ParentRef, RequestHeaderModifierFilter, RequestMirrorFilter, ResponseHeaderModifierFilter,
  RouteRetry, RouteTimeouts
} from './http-route.ts'
import { ruleCheck } from './rule-check.ts'

/**
 * GRPCMethodMatch. `Exact` (default): `service` is a dotted proto name (`bookinfo.stars.v1.Stars`), `method` a
 * proto identifier (`GetStars`); either may be left out to match any. `RegularExpression`: anchored JavaScript
 * regexes for either part. At least one of `service` and `method` must be given.
 */
export const GrpcMethodMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  service: z.string().max(1024).optional(),
  method: z.string().max(1024).optional()
}).strict().check(ruleCheck('grpc-method-match'))
export type GrpcMethodMatch = z.infer<typeof GrpcMethodMatch>

/** GRPCHeaderMatch: a request metadata (header) condition. */
export const GrpcHeaderMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: HeaderName.max(256),
  value: z.string().min(1).max(4096)
}).strict()
export type GrpcHeaderMatch = z.infer<typeof GrpcHeaderMatch>

/** GRPCRouteMatch: every condition given must hold; `{}` matches every request. */
export const GrpcRouteMatch = z.object({
  method: GrpcMethodMatch.optional(),
  headers: z.array(GrpcHeaderMatch).max(16).optional()
}).strict()
export type GrpcRouteMatch = z.infer<typeof GrpcRouteMatch>

/**
 * GRPCRouteFilter types of the spec: the two header modifiers and RequestMirror are supported (as on HTTPRoute);
 * `ExtensionRef` is accepted by the schema only to be refused with its reason (Meshwork defines no extension).
 */
export const GrpcRouteFilter = z.discriminatedUnion('type', [
  RequestHeaderModifierFilter,
  ResponseHeaderModifierFilter,
  RequestMirrorFilter,
  z.object({
    type: z.literal('ExtensionRef'),
    extensionRef: z.object({ group: z.string(), kind: z.string().min(1), name: z.string().min(1) }).strict()
  }).strict()
])
export type GrpcRouteFilter = z.infer<typeof GrpcRouteFilter>

export const GrpcRouteRule = z.object({
  name: z.string().optional(),
  /** No match (or `[]`) matches every request, as the spec says. */
  matches: z.array(GrpcRouteMatch).max(8).default([{}]),
  filters: z.array(GrpcRouteFilter).max(16).optional(),
  backendRefs: z.array(BackendRef).max(16).default([]),
  timeouts: RouteTimeouts.optional(),
  retry: RouteRetry.optional()
}).strict().check(ruleCheck('grpc-route-rule'))
export type GrpcRouteRule = z.infer<typeof GrpcRouteRule>

export const GRPCRoute = z.object({
  apiVersion: z.literal('gateway.networking.k8s.io/v1'),
  kind: z.literal('GRPCRoute'),
  metadata: Metadata,
  spec: z.object({
    parentRefs: z.array(ParentRef).min(1).max(32),
    hostnames: z.array(z.string().min(1)).max(16).optional(),
    rules: z.array(GrpcRouteRule).min(1).max(16)
  }).strict()
}).strict()
export type GRPCRoute = z.infer<typeof GRPCRoute>
