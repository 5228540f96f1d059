import type { GRPCRoute, GrpcRouteMatch } from '../../config/grpc-route.ts'
import type { HTTPRoute, RouteMatch } from '../../config/http-route.ts'
import { grpcMatchKey } from './grpc-match.ts'

/** One rule's match inside an HTTPRoute or a GRPCRoute. */
export interface RouteMatchRef {
  name: string
  namespace: string
  rule: number
  match: number
}

/**
 * Two rules attached to the same parent claim an identical match, so one silently wins: `routes[0]`
 * wins (same tie-break as the route table: alphabetical `namespace/name`, then rule order),
 * `routes[1]` never gets those requests.
 */
export interface RouteConflict {
  /** Both routes are of this kind: HTTPRoute matches and GRPCRoute matches never claim the same requests. */
  kind: 'HTTPRoute' | 'GRPCRoute'
  routes: [RouteMatchRef, RouteMatchRef]
  /** `Service/reviews`, `Gateway/ingress` (with `:port` / `#section` when the parentRef names one). */
  parent: string
  /** Hostname both claim (gateway routes), `null` when neither route lists hostnames. */
  hostname: string | null
  /** The match as written in the losing rule. */
  match: RouteMatch | GrpcRouteMatch
  /** Where the losing match is: `spec.rules[1].matches[0]`. */
  path: string
  reason: string
}

function parentKey (p: (HTTPRoute | GRPCRoute)['spec']['parentRefs'][number], routeNs: string): string {
  const ns = p.namespace ?? routeNs
  let key = `${p.kind}/${ns === 'default' ? '' : `${ns}/`}${p.name}`
  if (p.port !== undefined) key += `:${p.port}`
  if (p.sectionName !== undefined) key += `#${p.sectionName}`
  return key
}

/**
 * Canonical text of a match: same key ⇔ same requests. PathPrefix ignores a trailing slash (`/foo/` ≡
 * `/foo`), header names are case-insensitive, header and query order is irrelevant, and only the first
 * condition per header/param name counts (Gateway API).
 */
export function matchKey (m: RouteMatch): string {
  const type = m.path?.type ?? 'PathPrefix'
  let value = m.path?.value ?? '/'
  if (type === 'PathPrefix' && value.length > 1 && value.endsWith('/')) value = value.slice(0, -1)
  const conds = (list: { type?: string, name: string, value: string }[] | undefined, lower: boolean): string => {
    const seen = new Map<string, string>()
    for (const c of list ?? []) {
      const name = lower ? c.name.toLowerCase() : c.name
      if (!seen.has(name)) seen.set(name, `${c.type ?? 'Exact'}:${JSON.stringify(name)}=${JSON.stringify(c.value)}`)
    }
    return [...seen.values()].sort().join(',')
  }
  return `${type} ${JSON.stringify(value)} ${m.method ?? '*'} h[${conds(m.headers, true)}] q[${conds(m.queryParams, false)}]`
}

/**
 * Find rules that claim an identical match on the same parent (and, for routes with hostnames, the same
 * hostname). Used by `meshwork check` and the control plane before accepting config.
 *
 * @example
 * findRouteConflicts([routeA, routeB])
 * // [{ kind: 'HTTPRoute', routes: [{ name: 'a', … }, { name: 'b', … }], parent: 'Service/reviews', match: { path: … }, reason: '…' }]
 */
export function findRouteConflicts (routes: HTTPRoute[]): RouteConflict[] {
  return conflictsOf('HTTPRoute', routes, rule => rule.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }], matchKey)
}

/**
 * The same for GRPCRoutes: two rules on one parent (and hostname) with identical method and header matches
 * (a rule without matches claims every request).
 *
 * @example findGrpcRouteConflicts([starsA, starsB])[0].reason
 */
export function findGrpcRouteConflicts (routes: GRPCRoute[]): RouteConflict[] {
  return conflictsOf('GRPCRoute', routes, rule => (rule.matches === undefined || rule.matches.length === 0 ? [{}] : rule.matches), grpcMatchKey)
}

interface RouteLike<R> {
  metadata: { name: string, namespace?: string }
  spec: { parentRefs: HTTPRoute['spec']['parentRefs'], hostnames?: string[], rules: R[] }
}

function conflictsOf<R, M extends RouteMatch | GrpcRouteMatch> (kind: RouteConflict['kind'], routes: RouteLike<R>[], matchesOf: (rule: R) => M[], keyOf: (m: M) => string): RouteConflict[] {
  const sorted = routes.slice().sort((a, b) => {
    const ka = `${a.metadata.namespace ?? 'default'}/${a.metadata.name}`
    const kb = `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`
    return ka < kb ? -1 : ka > kb ? 1 : 0
  })
  const claims = new Map<string, RouteMatchRef>()
  const out: RouteConflict[] = []
  for (const route of sorted) {
    const ns = route.metadata.namespace ?? 'default'
    const parents = [...new Set(route.spec.parentRefs.map(p => parentKey(p, ns)))]
    const hosts: (string | null)[] = route.spec.hostnames && route.spec.hostnames.length > 0
      ? [...new Set(route.spec.hostnames.map(h => h.toLowerCase()))]
      : [null]
    route.spec.rules.forEach((rule, ri) => {
      matchesOf(rule).forEach((m, mi) => {
        const key = keyOf(m)
        const ref: RouteMatchRef = { name: route.metadata.name, namespace: ns, rule: ri, match: mi }
        for (const parent of parents) {
          for (const hostname of hosts) {
            const claimKey = `${parent}\n${hostname ?? ''}\n${key}`
            const first = claims.get(claimKey)
            if (first === undefined) { claims.set(claimKey, ref); continue }
            const same = first.name === ref.name && first.namespace === ref.namespace
            const who = same ? `rule ${ri} of ${kind}/${ref.name}` : `${kind}/${ref.name} rule ${ri}`
            out.push({
              kind,
              routes: [first, ref],
              parent,
              hostname,
              match: m,
              path: `spec.rules[${ri}].matches[${mi}]`,
              reason: `${who} claims the same match on ${parent}${hostname === null ? '' : ` for host ${hostname}`} as ` +
                `${same ? `rule ${first.rule}` : `${kind}/${first.name} rule ${first.rule}`}, which wins; ` +
                `requests never reach ${who} through this match`
            })
          }
        }
      })
    })
  }
  return out
}
