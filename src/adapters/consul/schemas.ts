import { z } from 'zod'

/**
 * Consul config entries as Consul-on-Kubernetes custom resources (consul.hashicorp.com/v1alpha1), written
 * from the Consul configuration-entry reference (service-router, service-splitter, service-resolver,
 * service-intentions, service-defaults, proxy-defaults). Only the fields Meshwork emits or that are
 * commonly set are listed; `.strict()` rejects anything else, so a misspelt field fails the tests.
 */

const DnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63)
/** Go duration string as the CRDs take it (`15s`, `500ms`). */
const GoDuration = z.string().regex(/^([0-9]+(\.[0-9]+)?(h|m|s|ms|us|ns))+$/)
const Meta = z.object({
  name: DnsLabel,
  namespace: DnsLabel.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional()
}).strict()

const HeaderChanges = z.object({
  add: z.record(z.string(), z.string()).optional(),
  set: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional()
}).strict()

const HeaderMatch = z.object({
  name: z.string().min(1),
  present: z.boolean().optional(),
  exact: z.string().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  regex: z.string().optional(),
  invert: z.boolean().optional()
}).strict()

const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])

const oneCrd = <K extends string, S extends z.ZodType>(kind: K, spec: S) => z.object({
  apiVersion: z.literal('consul.hashicorp.com/v1alpha1'),
  kind: z.literal(kind),
  metadata: Meta,
  spec
}).strict()

export const ServiceRouter = oneCrd('ServiceRouter', z.object({
  routes: z.array(z.object({
    match: z.object({
      http: z.object({
        pathExact: z.string().startsWith('/').optional(),
        pathPrefix: z.string().startsWith('/').optional(),
        pathRegex: z.string().optional(),
        caseInsensitive: z.boolean().optional(),
        header: z.array(HeaderMatch).optional(),
        queryParam: z.array(z.object({ name: z.string().min(1), present: z.boolean().optional(), exact: z.string().optional(), regex: z.string().optional() }).strict()).optional(),
        methods: z.array(HttpMethod).optional()
      }).strict().refine(h => [h.pathExact, h.pathPrefix, h.pathRegex].filter(x => x !== undefined).length <= 1, 'at most one of pathExact, pathPrefix, pathRegex')
    }).strict().optional(),
    destination: z.object({
      service: z.string().min(1).optional(),
      serviceSubset: z.string().optional(),
      namespace: z.string().optional(),
      partition: z.string().optional(),
      prefixRewrite: z.string().optional(),
      requestTimeout: GoDuration.optional(),
      idleTimeout: GoDuration.optional(),
      numRetries: z.number().int().min(0).optional(),
      retryOnConnectFailure: z.boolean().optional(),
      retryOn: z.array(z.enum(['reset', 'connect-failure', 'refused-stream', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'])).optional(),
      retryOnStatusCodes: z.array(z.number().int().min(100).max(599)).optional(),
      requestHeaders: HeaderChanges.optional(),
      responseHeaders: HeaderChanges.optional()
    }).strict().optional()
  }).strict())
}).strict())

export const ServiceSplitter = oneCrd('ServiceSplitter', z.object({
  splits: z.array(z.object({
    weight: z.number().min(0).max(100),
    service: z.string().optional(),
    serviceSubset: z.string().optional(),
    namespace: z.string().optional(),
    partition: z.string().optional(),
    requestHeaders: HeaderChanges.optional(),
    responseHeaders: HeaderChanges.optional()
  }).strict()).min(1).refine(s => Math.abs(s.reduce((a, b) => a + b.weight, 0) - 100) < 0.01, 'split weights must add up to 100')
}).strict())

export const ServiceResolver = oneCrd('ServiceResolver', z.object({
  defaultSubset: z.string().optional(),
  subsets: z.record(z.string(), z.object({ filter: z.string().optional(), onlyPassing: z.boolean().optional() }).strict()).optional(),
  connectTimeout: GoDuration.optional(),
  requestTimeout: GoDuration.optional(),
  loadBalancer: z.object({
    policy: z.enum(['random', 'round_robin', 'least_request', 'ring_hash', 'maglev']).optional(),
    leastRequestConfig: z.object({ choiceCount: z.number().int().min(2).optional() }).strict().optional()
  }).strict().optional()
}).strict())

const Limits = z.object({ maxConnections: z.number().int().min(0).optional(), maxPendingRequests: z.number().int().min(0).optional(), maxConcurrentRequests: z.number().int().min(0).optional() }).strict()
const PassiveHealthCheck = z.object({
  interval: GoDuration.optional(),
  maxFailures: z.number().int().min(0).optional(),
  enforcingConsecutive5xx: z.number().int().min(0).max(100).optional(),
  maxEjectionPercent: z.number().int().min(0).max(100).optional(),
  baseEjectionTime: GoDuration.optional()
}).strict()
const UpstreamConfig = z.object({
  name: z.string().optional(),
  namespace: z.string().optional(),
  protocol: z.enum(['tcp', 'http', 'http2', 'grpc']).optional(),
  connectTimeoutMs: z.number().int().min(0).optional(),
  limits: Limits.optional(),
  passiveHealthCheck: PassiveHealthCheck.optional()
}).strict()

export const ServiceDefaults = oneCrd('ServiceDefaults', z.object({
  protocol: z.enum(['tcp', 'http', 'http2', 'grpc']).optional(),
  mutualTLSMode: z.enum(['', 'strict', 'permissive']).optional(),
  upstreamConfig: z.object({ defaults: UpstreamConfig.omit({ name: true, namespace: true }).optional(), overrides: z.array(UpstreamConfig).optional() }).strict().optional(),
  rateLimits: z.object({
    instanceLevel: z.object({ requestsPerSecond: z.number().int().min(0), requestsMaxBurst: z.number().int().min(0).optional() }).strict()
  }).strict().optional(),
  localRequestTimeoutMs: z.number().int().min(0).optional()
}).strict())

const IntentionPermission = z.object({
  action: z.enum(['allow', 'deny']),
  http: z.object({
    pathExact: z.string().startsWith('/').optional(),
    pathPrefix: z.string().startsWith('/').optional(),
    pathRegex: z.string().optional(),
    methods: z.array(HttpMethod).optional(),
    header: z.array(HeaderMatch).optional()
  }).strict()
}).strict()

export const ServiceIntentions = oneCrd('ServiceIntentions', z.object({
  destination: z.object({ name: z.string().min(1), namespace: z.string().optional() }).strict(),
  sources: z.array(z.object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    peer: z.string().optional(),
    partition: z.string().optional(),
    action: z.enum(['allow', 'deny']).optional(),
    permissions: z.array(IntentionPermission).optional(),
    description: z.string().optional()
  }).strict().refine(s => (s.action === undefined) !== (s.permissions === undefined), 'a source has an action or permissions, not both'))
}).strict().refine(s => new Set(s.sources.map(x => `${x.namespace ?? ''}/${x.name}`)).size === s.sources.length, 'source names must be unique'))

export const ProxyDefaults = oneCrd('ProxyDefaults', z.object({
  mutualTLSMode: z.enum(['', 'strict', 'permissive']).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  accessLogs: z.object({
    enabled: z.boolean().optional(),
    disableListenerLogs: z.boolean().optional(),
    type: z.enum(['stdout', 'stderr', 'file']).optional(),
    path: z.string().optional(),
    jsonFormat: z.string().optional(),
    textFormat: z.string().optional()
  }).strict().optional()
}).strict()).refine(p => p.metadata.name === 'global', { message: 'a ProxyDefaults entry must be named global', path: ['metadata', 'name'] })

export const CONSUL_SCHEMAS: Record<string, z.ZodType> = {
  ServiceRouter,
  ServiceSplitter,
  ServiceResolver,
  ServiceDefaults,
  ServiceIntentions,
  ProxyDefaults
}
