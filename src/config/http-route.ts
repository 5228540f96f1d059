import { z } from 'zod'
import { Duration, HttpMethod, Metadata, Name, RefName } from './common.ts'
import { ruleCheck } from './rule-check.ts'

/** An HTTP header name (RFC 9110 token), as the Gateway API's `HTTPHeaderName`. */
export const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be an HTTP header name')

export const PathMatch = z.object({
  type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
  value: z.string().startsWith('/').default('/')
}).strict()

export const HeaderMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: HeaderName,
  value: z.string()
}).strict()

export const QueryParamMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).default('Exact'),
  name: z.string().min(1),
  value: z.string()
}).strict()

export const RouteMatch = z.object({
  path: PathMatch.optional(),
  headers: z.array(HeaderMatch).max(16).optional(),
  queryParams: z.array(QueryParamMatch).max(16).optional(),
  method: HttpMethod.optional()
}).strict()
export type RouteMatch = z.infer<typeof RouteMatch>

const HeaderValue = z.object({ name: HeaderName, value: z.string() }).strict()
export const HeaderModifier = z.object({
  set: z.array(HeaderValue).optional(),
  add: z.array(HeaderValue).optional(),
  remove: z.array(HeaderName).optional()
}).strict()
export type HeaderModifier = z.infer<typeof HeaderModifier>

export const BackendRef = z.object({
  kind: z.enum(['Service']).default('Service'),
  /** A service (`reviews`) or a version subset (`reviews-v2`). */
  name: RefName,
  /** Namespace of the service; default: the route's own. Another namespace needs a ReferenceGrant there. */
  namespace: Name.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  weight: z.number().int().min(0).max(1_000_000).default(1)
}).strict()
export type BackendRef = z.infer<typeof BackendRef>

const PathModifier = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ReplaceFullPath'), replaceFullPath: z.string().startsWith('/') }).strict(),
  z.object({ type: z.literal('ReplacePrefixMatch'), replacePrefixMatch: z.string().startsWith('/') }).strict()
])

export const RequestHeaderModifierFilter = z.object({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: HeaderModifier }).strict()
export const ResponseHeaderModifierFilter = z.object({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: HeaderModifier }).strict()
export const RequestMirrorFilter = z.object({
  type: z.literal('RequestMirror'),
  requestMirror: z.object({
    backendRef: BackendRef.omit({ weight: true }),
    /** Share of requests mirrored (Gateway API `percent`). */
    percent: z.number().int().min(0).max(100).default(100),
    /** Share of requests mirrored as a fraction (Gateway API `fraction`); when set it decides instead of `percent`. */
    fraction: z.object({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).default(100) }).strict().optional()
  }).strict()
}).strict()

export const RouteFilter = z.discriminatedUnion('type', [
  RequestHeaderModifierFilter,
  ResponseHeaderModifierFilter,
  RequestMirrorFilter,
  z.object({
    type: z.literal('RequestRedirect'),
    requestRedirect: z.object({
      scheme: z.enum(['http', 'https']).optional(),
      hostname: z.string().min(1).optional(),
      path: PathModifier.optional(),
      port: z.number().int().min(1).max(65535).optional(),
      statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302)
    }).strict()
  }).strict(),
  z.object({
    type: z.literal('URLRewrite'),
    urlRewrite: z.object({ hostname: z.string().min(1).optional(), path: PathModifier.optional() }).strict()
  }).strict()
])
export type RouteFilter = z.infer<typeof RouteFilter>

/** gRPC statuses a route may retry on, as Istio's `retryOn` spells them. */
export const GrpcRetryCode = z.enum(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'])
export type GrpcRetryCode = z.infer<typeof GrpcRetryCode>

/** Gateway API GEP-1742: `request` bounds the whole request (retries included), `backendRequest` each try. */
export const RouteTimeouts = z.object({ request: Duration.optional(), backendRequest: Duration.optional() }).strict()

/** Gateway API GEP-1731, plus Meshwork's `onConnectFailure` and `grpcCodes`; shared by HTTPRoute and GRPCRoute. */
export const RouteRetry = z.object({
  attempts: z.number().int().min(0).max(10).default(2),
  backoff: Duration.default('25ms'),
  codes: z.array(z.number().int().min(400).max(599)).default([502, 503, 504]),
  /** Also retry on connect failure / reset before any response byte (always safe to retry). */
  onConnectFailure: z.boolean().default(true),
  /**
   * gRPC statuses to retry on (Istio `retryOn` names), read from a trailers-only response's `grpc-status`
   * (as Envoy's `retry_on: cancelled,unavailable…`); only requests whose whole body was kept are replayed.
   */
  grpcCodes: z.array(GrpcRetryCode).max(5).optional()
}).strict()

export const RouteRule = z.object({
  name: z.string().optional(),
  matches: z.array(RouteMatch).max(8).default([{ path: { type: 'PathPrefix', value: '/' } }]),
  filters: z.array(RouteFilter).max(16).optional(),
  backendRefs: z.array(BackendRef).max(16).default([]),
  timeouts: RouteTimeouts.optional(),
  retry: RouteRetry.optional()
}).strict().check(ruleCheck('route-rule'))
export type RouteRule = z.infer<typeof RouteRule>

export const ParentRef = z.object({
  group: z.string().optional(),
  /** `Service` (GAMMA: the route applies to calls to that service) or `Gateway`. */
  kind: z.enum(['Service', 'Gateway']).default('Service'),
  name: RefName,
  namespace: Name.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  sectionName: z.string().optional()
}).strict()

export const HTTPRoute = z.object({
  apiVersion: z.literal('gateway.networking.k8s.io/v1'),
  kind: z.literal('HTTPRoute'),
  metadata: Metadata,
  spec: z.object({
    parentRefs: z.array(ParentRef).min(1).max(32),
    hostnames: z.array(z.string().min(1)).max(16).optional(),
    rules: z.array(RouteRule).min(1).max(64)
  }).strict()
}).strict()
export type HTTPRoute = z.infer<typeof HTTPRoute>
