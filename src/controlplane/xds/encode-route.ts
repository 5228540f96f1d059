/**
 * RDS: the virtual host of one Meshwork cluster (`reviews`), compiled from the HTTPRoutes and GRPCRoutes whose
 * parentRef is that Service (GRPCRoute method matches become `:path` conditions, see {@link grpcToRouteMatch}), in the data plane's own precedence order (`compareMatches`, then `namespace/name`, rule,
 * match: Envoy and gRPC take the first route that matches, so the order *is* the precedence).
 * A cluster no route attaches to gets one route: everything to itself (as the sidecar's `default` route).
 *
 * | HTTPRoute                         | xDS Route                                                       |
 * |-----------------------------------|-----------------------------------------------------------------|
 * | path Exact / RegularExpression    | `path` / `safe_regex` (RE2: no look-around, no back-references)  |
 * | path PathPrefix `/a`              | `safe_regex` `/a(/.*)?` (segment boundary, as Meshwork); `/` → `prefix: /` |
 * | headers, method                   | `headers[].string_match` (names lower-cased), `:method`          |
 * | queryParams                       | `query_parameters` (Envoy); gRPC calls have no query: route left out for gRPC |
 * | backendRefs                       | `cluster` / `weighted_clusters`                                  |
 * | timeouts.request (else MeshConfig defaultTimeout) | Envoy `timeout`; gRPC `max_stream_duration` (A31) |
 * | timeouts.backendRequest           | `retry_policy.per_try_timeout` (Envoy)                           |
 * | retry                             | `retry_policy`: `retriable-status-codes` + codes, `connect-failure,reset`, gRPC names (A44) |
 * | header modifiers, mirror, rewrite | `request/response_headers_to_add/remove`, `request_mirror_policies`, `prefix_rewrite`/`regex_rewrite`/`host_rewrite_literal` (Envoy; gRPC ignores them) |
 * | RequestRedirect                   | `redirect` (Envoy); left out for gRPC (no redirect action)       |
 * | FaultInjection on the backend (endpoints `app` only) | `typed_per_filter_config["envoy.filters.http.fault"]` (A33) |
 *
 * With endpoints `inbound` the target's own sidecar applies its FaultInjections (as for Meshwork callers),
 * so none is sent: a fault is never applied twice.
 */
import { parseDuration } from '../../config/duration.ts'
import type { FaultInjection } from '../../config/fault-injection.ts'
import type { GRPCRoute, GrpcRouteMatch } from '../../config/grpc-route.ts'
import type { HeaderModifier, HTTPRoute, RouteMatch, RouteRule } from '../../config/http-route.ts'
import { grpcStatusForHttpStatus } from '../../dataplane/grpc/status.ts'
import { compareGrpcMatches, compileGrpcMatch } from '../../dataplane/router/grpc-match.ts'
import { findKindConflicts, ignoredAttachments, kindParentKey } from '../../dataplane/router/route-kinds.ts'
import { compareMatches, type CompiledMatch, compileMatch } from '../../dataplane/router/route-match.ts'
import { packAny } from './protos.ts'
import { duration, escapeRe2, fractionalPercent, u32 } from './proto-values.ts'
import type { XdsClientKind } from './xds-node.ts'

export const FAULT_FILTER = 'envoy.filters.http.fault'
const HTTP_FAULT = 'envoy.extensions.filters.http.fault.v3.HTTPFault'

export interface RouteTarget {
  /** Cluster the virtual host is for: `reviews` or `reviews-v2`. */
  name: string
  /** The service behind it (`reviews` for `reviews-v2`). */
  service: string
  port: number
  namespace: string
}

export interface RouteContext {
  kind: XdsClientKind
  /** MeshConfig `defaultTimeout` in ms (a route without `timeouts.request` gets it, as on the sidecar). */
  defaultTimeoutMs: number
  /** FaultInjections the client applies itself (endpoints `app`), else empty. */
  faults: readonly FaultInjection[]
  /** `reviews-v2` → `reviews`: the service a backend or policy target names. */
  serviceOf: (cluster: string) => string | undefined
}

interface Entry { match: RouteMatch, compiled: CompiledMatch, rule: RouteRule, routeName: string, routeKey: string, ruleIndex: number, matchIndex: number }

/** Every host form the sidecar's outbound listener accepts for this cluster (see router/authority.ts). */
export function domainsOf (t: RouteTarget): string[] {
  // `details.team-a`: a service of another namespace than the client's is already qualified (config/service-names.ts).
  const full = t.name.includes('.') ? t.name : `${t.name}.${t.namespace}`
  const hosts = [...(full === t.name ? [] : [t.name]), full, `${full}.svc`, `${full}.svc.cluster.local`]
  const ports = t.port === 80 ? [80] : [t.port, 80]
  return [...hosts, ...hosts.flatMap(h => ports.map(p => `${h}:${p}`))]
}

/** The routes of both kinds a virtual host compiles (the snapshot's `routes` and `grpcRoutes`). */
export interface RouteSet { http: readonly HTTPRoute[], grpc: readonly GRPCRoute[] }

const tieBreak = (a: Entry, b: Entry): number => (a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0) || a.ruleIndex - b.ruleIndex || a.matchIndex - b.matchIndex

/**
 * The rules attached to this cluster, in precedence order. A Service both kinds attach to keeps the kind the
 * data plane keeps (`route-kinds.ts`: GRPCRoute wins), so the two never mix in one virtual host.
 */
function entriesFor (routes: RouteSet, t: RouteTarget): Entry[] {
  const ignored = ignoredAttachments(findKindConflicts(routes.http, routes.grpc, () => t.port))
  const parent = kindParentKey({ kind: 'Service', name: t.name }, t.namespace)
  const attached = (r: HTTPRoute | GRPCRoute): boolean =>
    r.spec.parentRefs.some(p => p.kind === 'Service' && p.name === t.name && (p.port === undefined || p.port === t.port)) &&
    !ignored.has(`${parent}\n${r.kind}/${r.metadata.namespace}/${r.metadata.name}`)
  const http: Entry[] = []
  for (const r of routes.http) {
    if (!attached(r)) continue
    r.spec.rules.forEach((rule, ri) => rule.matches.forEach((m, mi) => {
      http.push({ match: m, compiled: compileMatch(m), rule, routeName: r.metadata.name, routeKey: `${r.metadata.namespace}/${r.metadata.name}`, ruleIndex: ri, matchIndex: mi })
    }))
  }
  const grpc: (Entry & { g: ReturnType<typeof compileGrpcMatch> })[] = []
  for (const r of routes.grpc) {
    if (!attached(r)) continue
    r.spec.rules.forEach((rule, ri) => rule.matches.forEach((m, mi) => {
      const match = grpcToRouteMatch(m)
      // GRPCRoute filters are a subset of HTTPRoute's (ExtensionRef is refused by the schema's rules).
      const asRule = { ...rule, matches: [match], filters: rule.filters?.filter(f => f.type !== 'ExtensionRef') } as RouteRule
      grpc.push({ match, compiled: compileMatch(match), g: compileGrpcMatch(m), rule: asRule, routeName: r.metadata.name, routeKey: `${r.metadata.namespace}/${r.metadata.name}`, ruleIndex: ri, matchIndex: mi })
    }))
  }
  http.sort((a, b) => compareMatches(a.compiled, b.compiled) || tieBreak(a, b))
  grpc.sort((a, b) => compareGrpcMatches(a.g, b.g) || tieBreak(a, b))
  return [...grpc, ...http]
}

/**
 * GRPCRouteMatch → the same request condition on `:path` `/<service>/<method>`: both Exact → an exact path;
 * otherwise an RE2 regex with the absent part as one path segment (`[^/]+`); no method match → every path.
 */
export function grpcToRouteMatch (m: GrpcRouteMatch): RouteMatch {
  const type = m.method?.type ?? 'Exact'
  const service = m.method?.service || undefined
  const method = m.method?.method || undefined
  const headers = m.headers?.map(h => ({ type: h.type, name: h.name, value: h.value }))
  const out: RouteMatch = headers !== undefined && headers.length > 0 ? { headers } : {}
  if (service === undefined && method === undefined) return { ...out, path: { type: 'PathPrefix', value: '/' } }
  if (type === 'Exact' && service !== undefined && method !== undefined) return { ...out, path: { type: 'Exact', value: `/${service}/${method}` } }
  const part = (v: string | undefined): string => (v === undefined ? '[^/]+' : type === 'Exact' ? escapeRe2(v) : `(?:${v})`)
  return { ...out, path: { type: 'RegularExpression', value: `/${part(service)}/${part(method)}` } }
}

/** @example encodeVirtualHost(routes, { name: 'reviews', service: 'reviews', port: 9080, namespace: 'default' }, ctx) */
export function encodeVirtualHost (routes: RouteSet, t: RouteTarget, ctx: RouteContext): Record<string, unknown> {
  const entries = entriesFor(routes, t)
  const xdsRoutes: Record<string, unknown>[] = []
  if (entries.length === 0) {
    const rule: RouteRule = { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ kind: 'Service', name: t.name, weight: 1 }] }
    xdsRoutes.push(...encodeEntry({ match: rule.matches[0], compiled: compileMatch(rule.matches[0]), rule, routeName: 'default', routeKey: '', ruleIndex: 0, matchIndex: 0 }, ctx))
  } else {
    for (const e of entries) xdsRoutes.push(...encodeEntry(e, ctx))
  }
  return { name: t.name, domains: domainsOf(t), routes: xdsRoutes }
}

/** One Meshwork (rule, match) → xDS routes: split per conditional fault first, then the plain route. */
function encodeEntry (e: Entry, ctx: RouteContext): Record<string, unknown>[] {
  const grpc = ctx.kind === 'grpc'
  const redirect = e.rule.filters?.find(f => f.type === 'RequestRedirect')
  // gRPC calls carry no query string and gRPC clients have no redirect action: such routes never apply to them.
  if (grpc && ((e.match.queryParams?.length ?? 0) > 0 || redirect !== undefined || e.rule.backendRefs.every(b => b.weight === 0))) return []
  const name = `${e.routeName}.${e.ruleIndex}.${e.matchIndex}`
  const base = routeBody(e.rule, ctx)
  const plainFaults = faultsFor(e.rule, ctx, null)
  const out: Record<string, unknown>[] = []
  ctx.faults.forEach((f, fi) => {
    if (f.spec.matches === undefined || f.spec.matches.length === 0) return
    if (!e.rule.backendRefs.some(b => targets(f, b.name, ctx))) return
    f.spec.matches.forEach((fm, mi) => {
      const merged = mergeMatches(e.match, fm)
      if (merged === null) return // the conjunction cannot be expressed (or never matches): see docs/control-plane.md
      out.push({ name: `${name}.fault-${fi}.${mi}`, match: encodeMatch(merged), ...withFaults(base, faultsFor(e.rule, ctx, f), ctx.kind) })
    })
  })
  out.push({ name, match: encodeMatch(e.match), ...withFaults(base, plainFaults, ctx.kind) })
  return out
}

/**
 * Does a fault apply to calls sent to `cluster`? A fault on the service (`reviews`) applies to every version's
 * cluster (each version's sidecar would apply it); one on a subset (`reviews-v2`) only to that subset's cluster
 * (a call to the whole `reviews` cluster may land on any version, which the client cannot know in advance).
 */
function targets (f: FaultInjection, cluster: string, ctx: RouteContext): boolean {
  const t = f.spec.targetRef.name
  return t === cluster || t === ctx.serviceOf(cluster)
}

/** Per backend: the fault it gets (`conditional` for the split route of that fault, else the first unconditional one). */
function faultsFor (rule: RouteRule, ctx: RouteContext, conditional: FaultInjection | null): (FaultInjection | null)[] {
  return rule.backendRefs.map(b => {
    if (conditional !== null && targets(conditional, b.name, ctx)) return conditional
    return ctx.faults.find(f => (f.spec.matches === undefined || f.spec.matches.length === 0) && targets(f, b.name, ctx)) ?? null
  })
}

function routeBody (rule: RouteRule, ctx: RouteContext): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  const redirect = rule.filters?.find(f => f.type === 'RequestRedirect')
  if (redirect !== undefined) {
    const r = redirect.requestRedirect
    const codes: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' }
    body.redirect = {
      ...(r.scheme ? { scheme_redirect: r.scheme } : {}),
      ...(r.hostname ? { host_redirect: r.hostname } : {}),
      ...(r.port ? { port_redirect: r.port } : {}),
      ...(r.path?.type === 'ReplaceFullPath' ? { path_redirect: r.path.replaceFullPath } : r.path?.type === 'ReplacePrefixMatch' ? { prefix_rewrite: r.path.replacePrefixMatch } : {}),
      response_code: codes[r.statusCode] ?? 'FOUND'
    }
  } else if (rule.backendRefs.every(b => b.weight === 0)) {
    // The sidecar answers MESH_ERR_NO_ROUTE (404) for a rule without a backend to send to.
    body.direct_response = { status: 404, body: { inline_string: 'MESH_ERR_NO_ROUTE: the rule has no backend with a weight above 0\n' } }
  } else {
    body.route = routeAction(rule, ctx)
  }
  addHeaderOps(body, rule, ctx)
  return body
}

function routeAction (rule: RouteRule, ctx: RouteContext): Record<string, unknown> {
  const grpc = ctx.kind === 'grpc'
  const action: Record<string, unknown> = rule.backendRefs.length === 1
    ? { cluster: rule.backendRefs[0].name }
    : { weighted_clusters: { clusters: rule.backendRefs.map(b => ({ name: b.name, weight: u32(b.weight) })) } }
  const timeoutMs = rule.timeouts?.request !== undefined ? parseDuration(rule.timeouts.request) : ctx.defaultTimeoutMs
  // Envoy's own default is 15 s; Meshwork's "no timeout" (0s) must be said explicitly as 0.
  if (grpc) { if (timeoutMs > 0) action.max_stream_duration = { max_stream_duration: duration(timeoutMs) } } else action.timeout = duration(timeoutMs)
  const retry = rule.retry
  if (retry !== undefined && retry.attempts > 0) {
    const on = [
      ...(retry.codes.length > 0 ? ['retriable-status-codes'] : []),
      ...(retry.onConnectFailure ? ['connect-failure', 'reset'] : []),
      ...(retry.grpcCodes ?? [])
    ]
    if (on.length > 0) {
      const backoff = Math.max(1, parseDuration(retry.backoff))
      action.retry_policy = {
        retry_on: on.join(','),
        num_retries: u32(retry.attempts),
        retriable_status_codes: retry.codes,
        retry_back_off: { base_interval: duration(backoff), max_interval: duration(backoff * 10) },
        ...(rule.timeouts?.backendRequest !== undefined && parseDuration(rule.timeouts.backendRequest) > 0 ? { per_try_timeout: duration(parseDuration(rule.timeouts.backendRequest)) } : {})
      }
    }
  }
  if (!grpc) {
    for (const f of rule.filters ?? []) {
      if (f.type === 'RequestMirror') {
        const list = (action.request_mirror_policies ??= []) as unknown[]
        if (f.requestMirror.percent > 0) list.push({ cluster: f.requestMirror.backendRef.name, runtime_fraction: { default_value: fractionalPercent(f.requestMirror.percent) } })
      } else if (f.type === 'URLRewrite') {
        const u = f.urlRewrite
        if (u.hostname) action.host_rewrite_literal = u.hostname
        if (u.path?.type === 'ReplacePrefixMatch') action.prefix_rewrite = u.path.replacePrefixMatch
        else if (u.path?.type === 'ReplaceFullPath') action.regex_rewrite = { pattern: { regex: '.*' }, substitution: u.path.replaceFullPath }
      }
    }
  }
  return action
}

function addHeaderOps (body: Record<string, unknown>, rule: RouteRule, ctx: RouteContext): void {
  if (ctx.kind === 'grpc') return
  const req: HeaderModifier[] = []
  const res: HeaderModifier[] = []
  for (const f of rule.filters ?? []) {
    if (f.type === 'RequestHeaderModifier') req.push(f.requestHeaderModifier)
    else if (f.type === 'ResponseHeaderModifier') res.push(f.responseHeaderModifier)
  }
  const add = (mods: HeaderModifier[]): unknown[] => mods.flatMap(m => [
    ...(m.set ?? []).map(h => ({ header: { key: h.name.toLowerCase(), value: h.value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...(m.add ?? []).map(h => ({ header: { key: h.name.toLowerCase(), value: h.value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' }))
  ])
  const remove = (mods: HeaderModifier[]): string[] => mods.flatMap(m => (m.remove ?? []).map(n => n.toLowerCase()))
  if (req.length > 0) { body.request_headers_to_add = add(req); body.request_headers_to_remove = remove(req) }
  if (res.length > 0) { body.response_headers_to_add = add(res); body.response_headers_to_remove = remove(res) }
}

/** Attach fault configs: on the route (one backend) or on each weighted cluster. */
function withFaults (base: Record<string, unknown>, faults: (FaultInjection | null)[], kind: XdsClientKind): Record<string, unknown> {
  if (faults.every(f => f === null) || base.route === undefined) return base
  const route = base.route as Record<string, unknown>
  if (route.cluster !== undefined) return { ...base, typed_per_filter_config: { [FAULT_FILTER]: httpFault(faults[0]!, kind) } }
  const wc = route.weighted_clusters as { clusters: Record<string, unknown>[] }
  const clusters = wc.clusters.map((c, i) => faults[i] === null ? c : { ...c, typed_per_filter_config: { [FAULT_FILTER]: httpFault(faults[i]!, kind) } })
  return { ...base, route: { ...route, weighted_clusters: { ...wc, clusters } } }
}

/** FaultInjection → HTTPFault (A33: gRPC clients turn `grpc_status` into the call's status). */
function httpFault (f: FaultInjection, kind: XdsClientKind): unknown {
  const s = f.spec
  const delayMs = s.delay ? parseDuration(s.delay.fixedDelay) : 0
  return packAny(HTTP_FAULT, {
    ...(s.delay && delayMs > 0 ? { delay: { fixed_delay: duration(delayMs), percentage: fractionalPercent(s.delay.percentage) } } : {}),
    ...(s.abort ? { abort: { ...(kind === 'grpc' ? { grpc_status: grpcStatusForHttpStatus(s.abort.httpStatus) } : { http_status: s.abort.httpStatus }), percentage: fractionalPercent(s.abort.percentage) } } : {})
  })
}

/** Empty HTTPFault: the filter's top-level config in the HTTP connection manager (faults come per route). */
export function emptyHttpFault (): unknown {
  return packAny(HTTP_FAULT, {})
}

/** Route match → xDS RouteMatch. */
export function encodeMatch (m: RouteMatch): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const type = m.path?.type ?? 'PathPrefix'
  const value = m.path?.value ?? '/'
  if (type === 'Exact') out.path = value
  else if (type === 'RegularExpression') out.safe_regex = { regex: value }
  else {
    const prefix = value.endsWith('/') ? value.slice(0, -1) : value
    if (prefix === '') out.prefix = '/'
    else out.safe_regex = { regex: `${escapeRe2(prefix)}(/.*)?` }
  }
  const headers: Record<string, unknown>[] = []
  const seen = new Set<string>()
  for (const h of m.headers ?? []) {
    const name = h.name.toLowerCase()
    if (seen.has(name)) continue // Gateway API: only the first entry for a name counts
    seen.add(name)
    headers.push({ name, string_match: h.type === 'RegularExpression' ? { safe_regex: { regex: h.value } } : { exact: h.value } })
  }
  if (m.method !== undefined) headers.push({ name: ':method', string_match: { exact: m.method } })
  if (headers.length > 0) out.headers = headers
  if (m.queryParams !== undefined && m.queryParams.length > 0) {
    const qs = new Set<string>()
    out.query_parameters = m.queryParams.filter(q => !qs.has(q.name) && qs.add(q.name)).map(q => ({ name: q.name, string_match: q.type === 'RegularExpression' ? { safe_regex: { regex: q.value } } : { exact: q.value } }))
  }
  return out
}

/**
 * The conjunction of a route match and a fault's match, when one xDS RouteMatch can say it: paths must be
 * equal, one absent (or `/`), or one PathPrefix inside the other; a method or header named by both must agree.
 */
export function mergeMatches (a: RouteMatch, b: RouteMatch): RouteMatch | null {
  const isRoot = (m: RouteMatch): boolean => m.path === undefined || (m.path.type === 'PathPrefix' && (m.path.value === '/' || m.path.value === ''))
  let path = a.path
  if (isRoot(a)) path = b.path
  else if (!isRoot(b)) {
    const pa = a.path!
    const pb = b.path!
    if (pa.type === pb.type && pa.value === pb.value) path = pa
    else if (pa.type === 'PathPrefix' && pb.type === 'PathPrefix') {
      const strip = (v: string): string => (v.endsWith('/') ? v.slice(0, -1) : v)
      const [x, y] = [strip(pa.value), strip(pb.value)]
      if (y === x || y.startsWith(`${x}/`)) path = pb
      else if (x.startsWith(`${y}/`)) path = pa
      else return null
    } else if (pb.type === 'Exact' && pa.type === 'PathPrefix') {
      const x = pa.value.endsWith('/') ? pa.value.slice(0, -1) : pa.value
      if (pb.value === x || pb.value.startsWith(`${x}/`)) path = pb
      else return null
    } else if (pa.type === 'Exact' && pb.type === 'PathPrefix') {
      const y = pb.value.endsWith('/') ? pb.value.slice(0, -1) : pb.value
      if (pa.value === y || pa.value.startsWith(`${y}/`)) path = pa
      else return null
    } else return null
  }
  if (a.method !== undefined && b.method !== undefined && a.method !== b.method) return null
  const headers = [...(a.headers ?? [])]
  for (const h of b.headers ?? []) {
    const same = headers.find(x => x.name.toLowerCase() === h.name.toLowerCase())
    if (same === undefined) headers.push(h)
    else if (same.type !== h.type || same.value !== h.value) return null
  }
  const queryParams = [...(a.queryParams ?? []), ...(b.queryParams ?? [])]
  return {
    ...(path !== undefined ? { path } : {}),
    ...(headers.length > 0 ? { headers } : {}),
    ...(queryParams.length > 0 ? { queryParams } : {}),
    ...(a.method ?? b.method ? { method: a.method ?? b.method } : {})
  }
}

/** RouteConfiguration named `name` with the given virtual hosts. */
export function encodeRouteConfiguration (name: string, virtualHosts: Record<string, unknown>[]): Record<string, unknown> {
  return { name, virtual_hosts: virtualHosts, validate_clusters: { value: false } }
}

