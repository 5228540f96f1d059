import { z } from 'zod'
import { BenchOptionInvalidError } from '../../errors.ts'

/**
 * What one load run does. Validated once at the edge (`parseLoadOptions`); workers trust it.
 * `rate` > 0 is open loop (constant rate, latency from the scheduled send time, as wrk2);
 * `rate` = 0 is closed loop (each connection sends its next request as soon as the previous answered).
 */
export const LoadOptions = z.object({
  url: z.url({ protocol: /^https?$/ }),
  method: z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method').default('GET'),
  /** Extra request headers; `host` overrides the URL's authority. */
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  /** `grpc`: unary gRPC calls over h2 (the URL's path is the method, e.g. `/bench.Echo/Unary`); see grpc-client.ts. */
  protocol: z.enum(['http1', 'h2', 'grpc']).default('http1'),
  /** gRPC only: bytes of the message each call sends (the 5-byte gRPC prefix not included). */
  messageSize: z.number().int().min(0).max(64 * 1024 * 1024).default(100),
  connections: z.number().int().min(1).max(10_000).default(16),
  /** Worker threads; default: min(2, connections). */
  threads: z.number().int().min(1).max(64).optional(),
  /** Requests per second across all connections; 0 = closed loop (max throughput). */
  rate: z.number().finite().min(0).max(10_000_000).default(0),
  /** Measured phase length in ms (ignored when `requests` is set, except as an upper bound). */
  durationMs: z.number().int().min(1).max(24 * 3600_000).default(10_000),
  /** Measured phase as a request count instead of a duration. */
  requests: z.number().int().min(1).optional(),
  /** Warm-up before the measured phase; its requests are sent but not recorded. */
  warmupMs: z.number().int().min(0).max(3600_000).default(1000),
  /** Per-request timeout; a request that overruns it is counted as an error and its connection reopened. */
  timeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** Connect timeout per connection attempt. */
  connectTimeoutMs: z.number().int().min(1).max(60_000).default(3000),
  /** Stop with MESH_ERR_BENCH_TARGET_ERRORS when more than this share of requests failed or was non-2xx. */
  maxErrorRatio: z.number().min(0).max(1).default(0.05),
  tls: z.object({
    /** Skip server certificate verification (self-signed targets). */
    insecure: z.boolean().default(false),
    caPem: z.string().optional(),
    certPem: z.string().optional(),
    keyPem: z.string().optional(),
    servername: z.string().optional()
  }).strict().default({ insecure: false })
}).strict()
export type LoadOptions = z.infer<typeof LoadOptions>
export type LoadOptionsInput = z.input<typeof LoadOptions>

/**
 * Validate load options; throws `MESH_ERR_BENCH_OPTION_INVALID` naming each bad field.
 * @example const opts = parseLoadOptions({ url: 'http://127.0.0.1:8080/', rate: 1000, durationMs: 5000 })
 */
export function parseLoadOptions (input: unknown): LoadOptions {
  const r = LoadOptions.safeParse(input)
  if (!r.success) {
    const msg = r.error.issues.map(i => `${i.path.join('.') || '<options>'}: ${i.message}`).join('; ')
    throw new BenchOptionInvalidError(msg)
  }
  const o = r.data
  if (o.protocol === 'h2' && o.url.startsWith('http:') === false && o.url.startsWith('https:') === false) {
    throw new BenchOptionInvalidError('url: h2 needs an http: (h2c) or https: URL')
  }
  if (o.protocol === 'grpc') {
    if (!/^\/[^/]+\/[^/]+$/.test(new URL(o.url).pathname)) throw new BenchOptionInvalidError('url: gRPC needs the method as the path, e.g. http://host:50051/package.Service/Method')
    if (o.body !== undefined) throw new BenchOptionInvalidError('body: gRPC calls send --message-size bytes, not a body')
  }
  if (o.rate > 0 && o.rate / o.connections > 1_000_000) {
    throw new BenchOptionInvalidError('rate: more than 1,000,000 requests per second per connection cannot be scheduled')
  }
  return o
}

/** Threads actually used: never more than connections. */
export function threadCount (o: LoadOptions): number {
  return Math.max(1, Math.min(o.threads ?? 2, o.connections))
}
