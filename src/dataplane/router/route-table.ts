import type { HTTPRoute } from '../../config/http-route.ts'
import type { ProxySnapshot } from '../../config/snapshot.ts'
import { SnapshotRejectedError } from '../../errors.ts'
import { AuthorityResolver } from './authority.ts'
import { buildClusters, type Cluster } from './clusters.ts'
import { compileRule, defaultRule } from './compile-rule.ts'
import { type CompiledMatch, compareMatches, compileMatch, matchesRequest } from './route-match.ts'
import type { CompiledRule, RouteRequest, RouteResult } from './types.ts'

export type RouteMode = 'outbound' | 'gateway'

/** One (route, rule, match) triple, in precedence order inside its bucket. */
interface Entry {
  match: CompiledMatch
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

/**
 * Tie-break when precedence is equal. Gateway API says "oldest route first, then alphabetical
 * `namespace/name`"; snapshots carry no creation time, so routes are ordered alphabetically by
 * `namespace/name`, then by rule order, then by match order inside the rule.
 */
function compareEntries (a: Entry, b: Entry): number {
  const c = compareMatches(a.match, b.match)
  if (c !== 0) return c
  if (a.routeKey !== b.routeKey) return a.routeKey < b.routeKey ? -1 : 1
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex
  return a.matchIndex - b.matchIndex
}

function routeKey (r: HTTPRoute): string {
  return `${r.metadata.namespace}/${r.metadata.name}`
}

/** Service of the heaviest backend of a rule (first on ties), or `fallback` for a redirect-only rule. */
function primaryService (rule: HTTPRoute['spec']['rules'][number], clusters: Map<string, Cluster>, fallback: string): string {
  let best: { name: string, weight: number } | null = null
  for (const b of rule.backendRefs) if (best === null || b.weight > best.weight) best = b
  if (best === null) return fallback
  return clusters.get(best.name)?.service ?? best.name
}

/**
 * Expand the routes attached to one parent into entries. Compiled rules are shared between parents
 * (one CompiledRule per HTTPRoute rule per table) so per-rule state keyed on the object stays single.
 */
function entriesOf (route: HTTPRoute, compiled: CompiledRule[], service: (ruleIndex: number) => string): Entry[] {
  const out: Entry[] = []
  const key = routeKey(route)
  route.spec.rules.forEach((rule, ri) => {
    const result: RouteResult = Object.freeze({ service: service(ri), route: route.metadata.name, rule: compiled[ri] })
    rule.matches.forEach((m, mi) => {
      const match = rejectInvalid(route, `spec.rules[${ri}].matches[${mi}]`, () => compileMatch(m))
      out.push({ match, result, routeKey: key, ruleIndex: ri, matchIndex: mi })
    })
  })
  return out
}

function compileRules (route: HTTPRoute, clusters: Map<string, Cluster>): CompiledRule[] {
  return route.spec.rules.map((r, i) => rejectInvalid(route, `spec.rules[${i}]`, () => compileRule(r, i, clusters)))
}

/** A regular expression the schema let through but JavaScript cannot compile rejects the snapshot, naming where. */
function rejectInvalid<T> (route: HTTPRoute, path: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err
    throw new SnapshotRejectedError(`HTTPRoute/${route.metadata.name}: ${path}: invalid regular expression: ${err.message}`, { cause: err })
  }
}

function scan (entries: Entry[], req: RouteRequest): RouteResult | null {
  for (let i = 0; i < entries.length; i++) {
    if (matchesRequest(entries[i].match, req)) return entries[i].result
  }
  return null
}

/**
 * Compile the route table of a listener from a (validated) snapshot.
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
    for (const route of snapshot.routes) {
      let compiled: CompiledRule[] | null = null
      const seen = new Set<string>()
      for (const p of route.spec.parentRefs) {
        if (p.kind !== 'Service') continue
        const target = clusters.get(p.name)
        // A parentRef to a service this proxy does not know, to another port, or repeated: nothing to route.
        if (target === undefined || seen.has(p.name)) continue
        if (p.port !== undefined && p.port !== target.port) continue
        seen.add(p.name)
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

/** Gateway API hostname match: exact, or `*.example.com` for any host with one or more labels before `.example.com`. */
export function hostMatches (pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host
  const suffix = pattern.slice(1)
  return host.length > suffix.length && host.endsWith(suffix)
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
    for (const route of snapshot.routes) {
      const attached = route.spec.parentRefs.some(p => p.kind === 'Gateway' && p.name === gatewayName &&
        (gw === undefined || (p.namespace ?? route.metadata.namespace) === gw.metadata.namespace))
      if (!attached) continue
      const compiled = compileRules(route, clusters)
      const entries = entriesOf(route, compiled, ri => primaryService(route.spec.rules[ri], clusters, gatewayName))
      const hostnames = route.spec.hostnames ?? []
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
