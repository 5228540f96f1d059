import type { GRPCRoute } from '../../config/grpc-route.ts'
import type { HTTPRoute } from '../../config/http-route.ts'
import type { ProxySnapshot } from '../../config/snapshot.ts'
import { SnapshotRejectedError } from '../../errors.ts'
import { AuthorityResolver } from './authority.ts'
import { hostMatches } from './hostnames.ts'
import { buildClusters, type Cluster } from './clusters.ts'
import { compileGrpcRule, compileRule, defaultRule } from './compile-rule.ts'
import { type CompiledGrpcMatch, compareGrpcMatches, compileGrpcMatch, matchesGrpc } from './grpc-match.ts'
import { findKindConflicts, ignoredAttachments, kindParentKey } from './route-kinds.ts'
import { type CompiledMatch, compareMatches, compileMatch, matchesRequest } from './route-match.ts'
import type { CompiledRule, RouteRequest, RouteResult } from './types.ts'

export type RouteMode = 'outbound' | 'gateway'

/** One (route, rule, match) triple, in precedence order inside its bucket. */
interface Entry {
  /** The HTTPRoute match, or `null` for a GRPCRoute entry (then `grpc` is set). */
  match: CompiledMatch | null
  grpc: CompiledGrpcMatch | null
  result: RouteResult
  /** `namespace/name` of the route, then rule and match index: the final tie-breakers. */
  routeKey: string
  ruleIndex: number
  matchIndex: number
}

/**
 * Routing decisions for one listener, compiled once per snapshot.
 *
 * @example
 * const table = compileRouteTable(snapshot, 'outbound')
 * table.match({ method: 'GET', authority: 'reviews:9080', path: '/reviews/0', query: '', headers: [] })
 * // { service: 'reviews', route: 'reviews-canary', rule: { pickBackend, … } }
 */
export interface RouteTable {
  readonly mode: RouteMode
  readonly clusters: Map<string, Cluster>
  /** The route for a request, or `null` (no service / host / match): the proxy answers MESH_ERR_NO_ROUTE. */
  match (req: RouteRequest): RouteResult | null
}

/** A route of either kind, as the tables see it. */
type AnyRoute = { kind: 'HTTPRoute', route: HTTPRoute } | { kind: 'GRPCRoute', route: GRPCRoute }

/**
 * Tie-break when precedence is equal. Gateway API says "oldest route first, then alphabetical
 * `namespace/name`"; snapshots carry no creation time, so routes are ordered alphabetically by
 * `namespace/name`, then by rule order, then by match order inside the rule. A bucket holds one kind of
 * route (see `route-kinds.ts`); were both there, GRPCRoute entries would come first (GEP-1294's order).
 */
function compareEntries (a: Entry, b: Entry): number {
  let c: number
  if (a.grpc !== null && b.grpc !== null) c = compareGrpcMatches(a.grpc, b.grpc)
  else if (a.match !== null && b.match !== null) c = compareMatches(a.match, b.match)
  else c = a.grpc !== null ? -1 : 1
  if (c !== 0) return c
  if (a.routeKey !== b.routeKey) return a.routeKey < b.routeKey ? -1 : 1
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex
  return a.matchIndex - b.matchIndex
}

function routeKey (r: AnyRoute): string {
  return `${r.route.metadata.namespace}/${r.route.metadata.name}`
}

/** Service of the heaviest backend of a rule (first on ties), or `fallback` for a redirect-only rule. */
function primaryService (rule: { backendRefs: { name: string, weight: number }[] }, clusters: Map<string, Cluster>, fallback: string): string {
  let best: { name: string, weight: number } | null = null
  for (const b of rule.backendRefs) if (best === null || b.weight > best.weight) best = b
  if (best === null) return fallback
  return clusters.get(best.name)?.service ?? best.name
}

/**
 * Expand the routes attached to one parent into entries. Compiled rules are shared between parents
 * (one CompiledRule per route rule per table) so per-rule state keyed on the object stays single.
 */
function entriesOf (r: AnyRoute, compiled: CompiledRule[], service: (ruleIndex: number) => string): Entry[] {
  const out: Entry[] = []
  const key = routeKey(r)
  const name = r.route.metadata.name
  if (r.kind === 'HTTPRoute') {
    r.route.spec.rules.forEach((rule, ri) => {
      const result: RouteResult = Object.freeze({ service: service(ri), route: name, rule: compiled[ri] })
      rule.matches.forEach((m, mi) => {
        const match = rejectInvalid(r, `spec.rules[${ri}].matches[${mi}]`, () => compileMatch(m))
        out.push({ match, grpc: null, result, routeKey: key, ruleIndex: ri, matchIndex: mi })
      })
    })
    return out
  }
  r.route.spec.rules.forEach((rule, ri) => {
    const result: RouteResult = Object.freeze({ service: service(ri), route: name, rule: compiled[ri] })
    // GRPCRoute: a rule without matches matches every request.
    const matches = rule.matches.length > 0 ? rule.matches : [{}]
    matches.forEach((m, mi) => {
      const grpc = rejectInvalid(r, `spec.rules[${ri}].matches[${mi}]`, () => compileGrpcMatch(m))
      out.push({ match: null, grpc, result, routeKey: key, ruleIndex: ri, matchIndex: mi })
    })
  })
  return out
}

function compileRules (r: AnyRoute, clusters: Map<string, Cluster>): CompiledRule[] {
  if (r.kind === 'HTTPRoute') return r.route.spec.rules.map((rule, i) => rejectInvalid(r, `spec.rules[${i}]`, () => compileRule(rule, i, clusters)))
  return r.route.spec.rules.map((rule, i) => rejectInvalid(r, `spec.rules[${i}]`, () => compileGrpcRule(rule, i, clusters)))
}

/** A regular expression the schema let through but JavaScript cannot compile rejects the snapshot, naming where. */
function rejectInvalid<T> (r: AnyRoute, path: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
    throw new SnapshotRejectedError(`${r.kind}/${r.route.metadata.name}: ${path}: invalid regular expression: ${err.message}`, { cause: err })
  }
}

function scan (entries: Entry[], req: RouteRequest): RouteResult | null {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]
    // Perf: one null check picks the matcher; a bucket holds one route kind, so the branch is predictable.
    if (e.grpc === null ? matchesRequest(e.match!, req) : matchesGrpc(e.grpc, req)) return e.result
  }
  return null
}

/**
 * Both route kinds of the snapshot, and which (parent, route) attachments the Gateway API's kind rules drop
 * (`route-kinds.ts`). Perf: no GRPCRoutes (the common snapshot) → nothing to compute.
 */
function routesOf (snapshot: ProxySnapshot, clusters: Map<string, Cluster>): { routes: AnyRoute[], ignored: (parent: string, r: AnyRoute) => boolean } {
  const routes: AnyRoute[] = snapshot.routes.map(route => ({ kind: 'HTTPRoute' as const, route }))
  if (snapshot.grpcRoutes.length === 0) return { routes, ignored: () => false }
  for (const route of snapshot.grpcRoutes) routes.push({ kind: 'GRPCRoute', route })
  const set = ignoredAttachments(findKindConflicts(snapshot.routes, snapshot.grpcRoutes, name => clusters.get(name)?.port))
  return { routes, ignored: (parent, r) => set.size > 0 && set.has(`${parent}\n${r.kind}/${r.route.metadata.namespace}/${r.route.metadata.name}`) }
}

/**
 * Compile the route table of a listener from a (validated) snapshot: its HTTPRoutes and GRPCRoutes (a GRPCRoute
 * matches the `:path` `/<Service>/<Method>` and headers; see `route-kinds.ts` for a parent that has both kinds).
 *
 * - `outbound` (GAMMA, east-west): the authority names a cluster (`reviews`, `reviews:9080`,
 *   `reviews-v2`, `reviews.default.svc.cluster.local`…). HTTPRoutes whose parentRef is
 *   `{ kind: Service, name: <that cluster> }` decide; a request matching none of them gets `null`.
 *   A cluster no route attaches to gets a default rule sending everything to itself (route `"default"`).
 * - `gateway`: HTTPRoutes whose parentRef is `{ kind: Gateway, name: gatewayName }`, filtered by their
 *   `hostnames` (exact, or `*.example.com` suffix wildcard; none = any host). A more specific hostname
 *   wins before any path precedence (exact, then longer wildcards, then routes without hostnames).
 *   No default: unmatched → `null`.
 *
 * @example
 * compileRouteTable(snapshot, 'gateway', 'ingress').match({ method: 'GET', authority: 'bookinfo.local', path: '/productpage', query: '', headers: [] })
 */
export function compileRouteTable (snapshot: ProxySnapshot, mode: RouteMode, gatewayName?: string): RouteTable {
  const clusters = buildClusters(snapshot)
  if (mode === 'outbound') return new OutboundTable(snapshot, clusters)
  if (gatewayName === undefined) throw new TypeError('compileRouteTable: gateway mode needs a gatewayName')
  return new GatewayTable(snapshot, clusters, gatewayName)
}

class OutboundTable implements RouteTable {
  readonly mode = 'outbound' as const
  readonly clusters: Map<string, Cluster>
  readonly #resolver: AuthorityResolver
  /** Per cluster: sorted entries when routes attach to it, else its default result. */
  readonly #byCluster = new Map<string, Entry[] | RouteResult>()

  constructor (snapshot: ProxySnapshot, clusters: Map<string, Cluster>) {
    this.clusters = clusters
    this.#resolver = new AuthorityResolver(clusters, snapshot.node.namespace)
    const attached = new Map<string, Entry[]>()
    const { routes, ignored } = routesOf(snapshot, clusters)
    for (const route of routes) {
      let compiled: CompiledRule[] | null = null
      const seen = new Set<string>()
      for (const p of route.route.spec.parentRefs) {
        if (p.kind !== 'Service') continue
        const target = clusters.get(p.name)
        // A parentRef to a service this proxy does not know, to another port, or repeated: nothing to route.
        if (target === undefined || seen.has(p.name)) continue
        if (p.port !== undefined && p.port !== target.port) continue
        seen.add(p.name)
        // A GRPCRoute on this service makes it ignore its HTTPRoutes (GEP-1294).
        if (ignored(kindParentKey(p, route.route.metadata.namespace), route)) continue
        compiled ??= compileRules(route, clusters)
        let list = attached.get(p.name)
        if (list === undefined) attached.set(p.name, list = [])
        list.push(...entriesOf(route, compiled, () => target.service))
      }
    }
    for (const [name, c] of clusters) {
      const list = attached.get(name)
      if (list !== undefined) this.#byCluster.set(name, list.sort(compareEntries))
      else this.#byCluster.set(name, Object.freeze({ service: c.service, route: 'default', rule: defaultRule(name, clusters) }))
    }
  }

  match (req: RouteRequest): RouteResult | null {
    const cluster = this.#resolver.resolve(req.authority)
    if (cluster === null) return null
    const target = this.#byCluster.get(cluster.name)!
    // Perf: a service without routes answers with its precompiled default, no scan.
    if (!Array.isArray(target)) return target
    return scan(target, req)
  }
}

/** `Host` → its lower-cased hostname without port (brackets of an IPv6 literal kept). */
function hostOf (authority: string): string {
  let end = authority.length
  const close = authority.lastIndexOf(']')
  const colon = authority.lastIndexOf(':')
  if (colon > close) end = colon
  let host = authority.slice(0, end).toLowerCase()
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host
}

class GatewayTable implements RouteTable {
  readonly mode = 'gateway' as const
  readonly clusters: Map<string, Cluster>
  readonly #exact = new Map<string, Entry[]>()
  /** `*.example.com` → suffix `.example.com`, longest suffix first. */
  readonly #wildcards: { suffix: string, entries: Entry[] }[] = []
  readonly #any: Entry[] = []
  // Perf: the candidate list (exact ++ wildcards ++ any) is built once per authority and cached (bounded).
  readonly #candidates = new Map<string, Entry[]>()
  readonly #maxCache = 4096
  /** Hostnames the Gateway's listeners accept, or `null` when one listener accepts any host. */
  readonly #listenerHosts: string[] | null = null

  constructor (snapshot: ProxySnapshot, clusters: Map<string, Cluster>, gatewayName: string) {
    this.clusters = clusters
    const gw = snapshot.gateways.find(g => g.metadata.name === gatewayName)
    if (gw?.spec.listeners.every(l => l.hostname !== undefined && l.hostname !== '')) {
      this.#listenerHosts = gw.spec.listeners.map(l => l.hostname!.toLowerCase())
    }
    const wildcards = new Map<string, Entry[]>()
    const { routes, ignored } = routesOf(snapshot, clusters)
    for (const route of routes) {
      const ns = route.route.metadata.namespace
      const ref = route.route.spec.parentRefs.find(p => p.kind === 'Gateway' && p.name === gatewayName &&
        (gw === undefined || (p.namespace ?? ns) === gw.metadata.namespace))
      // An HTTPRoute and a GRPCRoute sharing hostnames on this Gateway: only one is accepted (GRPCRouteSpec).
      if (ref === undefined || ignored(kindParentKey(ref, ns), route)) continue
      const compiled = compileRules(route, clusters)
      const rules = route.route.spec.rules
      const entries = entriesOf(route, compiled, ri => primaryService(rules[ri], clusters, gatewayName))
      const hostnames = route.route.spec.hostnames ?? []
      if (hostnames.length === 0) { this.#any.push(...entries); continue }
      for (const raw of new Set(hostnames.map(h => h.toLowerCase()))) {
        const bucket = raw.startsWith('*.') ? wildcards : this.#exact
        const key = raw.startsWith('*.') ? raw.slice(1) : raw
        let list = bucket.get(key)
        if (list === undefined) bucket.set(key, list = [])
        list.push(...entries)
      }
    }
    for (const list of this.#exact.values()) list.sort(compareEntries)
    for (const [suffix, list] of wildcards) this.#wildcards.push({ suffix, entries: list.sort(compareEntries) })
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length)
    this.#any.sort(compareEntries)
  }

  match (req: RouteRequest): RouteResult | null {
    let entries = this.#candidates.get(req.authority)
    if (entries === undefined) {
      entries = this.#collect(hostOf(req.authority))
      if (this.#candidates.size < this.#maxCache) this.#candidates.set(req.authority, entries)
    }
    return scan(entries, req)
  }

  #collect (host: string): Entry[] {
    const out: Entry[] = []
    // A Gateway whose every listener names a hostname serves no other host (Gateway API Listener.hostname).
    if (this.#listenerHosts !== null && !this.#listenerHosts.some(h => hostMatches(h, host))) return out
    const exact = this.#exact.get(host)
    if (exact !== undefined) out.push(...exact)
    // `*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com` (Gateway API).
    for (const w of this.#wildcards) {
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) out.push(...w.entries)
    }
    out.push(...this.#any)
    return out
  }
}
