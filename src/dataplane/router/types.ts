import type { RetryPolicy } from '../resilience/retry.ts'
import type { HeaderOps } from './header-ops.ts'

/**
 * What the router looks at. `path` excludes the query; `query` is the raw text after `?` (no `?`,
 * `''` when absent); `headers` is the flat lower-cased `[name0, value0, …]` array of the parser.
 * `scheme` (default `http`) is only used to build redirect locations.
 */
export interface RouteRequest {
  method: string
  authority: string
  path: string
  query: string
  headers: string[]
  scheme?: string
}

/** Where one try goes: a cluster (`reviews` or `reviews-v2`) and its service/version. */
export interface BackendPick {
  cluster: string
  service: string
  version: string | null
  /** Port from the backendRef, when it named one. */
  port?: number
}

/** The route's retry policy: one implementation, in `resilience/retry.ts` (compiled there, used by the exchange). */
export type { RetryPolicy } from '../resilience/retry.ts'

export interface MirrorTarget {
  cluster: string
  /** 0–100: share of requests copied. */
  percent: number
}

/**
 * One HTTPRoute rule compiled once per snapshot. Empty features are `null` so the proxy core skips them.
 */
export interface CompiledRule {
  /** Rule `name` from the HTTPRoute, or `null`. */
  name: string | null
  /** Position of the rule in its HTTPRoute (`-1` for the default rule). */
  index: number
  /** Weighted pick among the backendRefs; `rand` in [0, 1) (default `Math.random()`). Zero weights are never picked. */
  pickBackend (rand?: number): BackendPick
  requestHeaders: HeaderOps | null
  responseHeaders: HeaderOps | null
  redirect: ((req: RouteRequest) => { status: number, location: string }) | null
  /** `path` is the new request-target: path plus `?query` when the request had one. */
  rewrite: ((req: RouteRequest) => { path: string, authority: string | null }) | null
  mirrors: MirrorTarget[] | null
  timeoutMs: number | null
  perTryTimeoutMs: number | null
  retry: RetryPolicy | null
}

export interface RouteResult {
  /** The called service (outbound), or the service of the rule's heaviest backend (gateway). */
  service: string
  /** HTTPRoute name, or `"default"` for the implicit route of a service without routes. */
  route: string
  rule: CompiledRule
}
