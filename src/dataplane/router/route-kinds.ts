/**
 * What happens when an HTTPRoute and a GRPCRoute attach to the same parent (the Gateway API's rules; routes of
 * different kinds are never merged):
 *
 * - Service parent (GAMMA, GEP-1294 "Route types"): GRPCRoute is more specific than HTTPRoute, so when any
 *   GRPCRoute attaches to a service, every HTTPRoute on that service is ignored there.
 * - Gateway parent (GRPCRouteSpec.hostnames): an HTTPRoute and a GRPCRoute whose hostnames intersect (no
 *   hostnames = every host) cannot both be accepted: the older one wins, and as snapshots carry no creation time,
 *   the alphabetically first `namespace/name` (a GRPCRoute before an HTTPRoute of the same name).
 *
 * One implementation for the router (which drops the ignored routes from its tables) and `meshwork check` /
 * the control plane (which refuse such config and say which route would be ignored).
 */
import type { GRPCRoute } from '../../config/grpc-route.ts'
import type { HTTPRoute } from '../../config/http-route.ts'
import { hostnamesIntersect } from './hostnames.ts'

export type RouteKind = 'HTTPRoute' | 'GRPCRoute'

export interface KindedRouteRef { kind: RouteKind, namespace: string, name: string }

export interface KindConflict {
  /** `Service/reviews`, `Gateway/ingress` (`Gateway/<ns>/<name>` outside `default`). */
  parent: string
  accepted: KindedRouteRef
  ignored: KindedRouteRef
  /** Index of the ignored route's parentRef naming `parent`. */
  parentRefIndex: number
  reason: string
}

type AnyRoute = HTTPRoute | GRPCRoute

function parentOf (p: AnyRoute['spec']['parentRefs'][number], routeNs: string): string {
  // The router ignores the namespace of Service parents (services carry none); Gateways are namespaced.
  if (p.kind === 'Service') return `Service/${p.name}`
  const ns = p.namespace ?? routeNs
  return `Gateway/${ns === 'default' ? '' : `${ns}/`}${p.name}`
}

interface Attached { route: AnyRoute, kind: RouteKind, key: string, ref: number }

/**
 * Every route a parent ignores because a route of the other kind is attached there. `servicePort` (when given)
 * drops Service parentRefs to another port than the service's, which attach to nothing.
 *
 * @example
 * findKindConflicts([httpRouteOnStars], [grpcRouteOnStars])[0].ignored // { kind: 'HTTPRoute', name: 'stars', … }
 */
export function findKindConflicts (http: readonly HTTPRoute[], grpc: readonly GRPCRoute[], servicePort?: (service: string) => number | undefined): KindConflict[] {
  if (grpc.length === 0 || http.length === 0) return []
  const byParent = new Map<string, Attached[]>()
  const add = (route: AnyRoute, kind: RouteKind): void => {
    const ns = route.metadata.namespace ?? 'default'
    const seen = new Set<string>()
    route.spec.parentRefs.forEach((p, i) => {
      if (p.kind === 'Service' && p.port !== undefined && servicePort !== undefined) {
        const port = servicePort(p.name)
        if (port !== undefined && port !== p.port) return
      }
      const parent = parentOf(p, ns)
      if (seen.has(parent)) return
      seen.add(parent)
      let list = byParent.get(parent)
      if (list === undefined) byParent.set(parent, list = [])
      list.push({ route, kind, key: `${ns}/${route.metadata.name}`, ref: i })
    })
  }
  for (const r of http) add(r, 'HTTPRoute')
  for (const r of grpc) add(r, 'GRPCRoute')
  const out: KindConflict[] = []
  const refOf = (a: Attached): KindedRouteRef => ({ kind: a.kind, namespace: a.route.metadata.namespace ?? 'default', name: a.route.metadata.name })
  for (const [parent, list] of byParent) {
    const grpcs = list.filter(a => a.kind === 'GRPCRoute')
    if (grpcs.length === 0 || grpcs.length === list.length) continue
    list.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : a.kind === b.kind ? 0 : a.kind === 'GRPCRoute' ? -1 : 1)
    if (parent.startsWith('Service/')) {
      const winner = grpcs.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)[0]
      for (const a of list) {
        if (a.kind !== 'HTTPRoute') continue
        out.push({
          parent,
          accepted: refOf(winner),
          ignored: refOf(a),
          parentRefIndex: a.ref,
          reason: `GRPCRoute/${winner.route.metadata.name} is attached to ${parent}, so HTTPRoute/${a.route.metadata.name} is ignored there ` +
            '(Gateway API GEP-1294: on one Service, GRPCRoute takes precedence over HTTPRoute); route those calls with GRPCRoute rules instead'
        })
      }
      continue
    }
    const accepted: Attached[] = []
    for (const a of list) {
      const clash = accepted.find(b => b.kind !== a.kind && hostnamesIntersect(a.route.spec.hostnames, b.route.spec.hostnames))
      if (clash === undefined) { accepted.push(a); continue }
      out.push({
        parent,
        accepted: refOf(clash),
        ignored: refOf(a),
        parentRefIndex: a.ref,
        reason: `${a.kind}/${a.route.metadata.name} and ${clash.kind}/${clash.route.metadata.name} share hostnames on ${parent}, and an HTTPRoute and a GRPCRoute ` +
          `cannot both serve a host: ${clash.kind}/${clash.route.metadata.name} wins (alphabetically first), ${a.kind}/${a.route.metadata.name} is ignored there; give them distinct hostnames`
      })
    }
  }
  return out
}

/** `parent\nkind/namespace/name` of every ignored (route, parent) pair, for the route tables. */
export function ignoredAttachments (conflicts: readonly KindConflict[]): Set<string> {
  const out = new Set<string>()
  for (const c of conflicts) out.add(`${c.parent}\n${c.ignored.kind}/${c.ignored.namespace}/${c.ignored.name}`)
  return out
}

export { parentOf as kindParentKey }
