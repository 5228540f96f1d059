/**
 * The status assertions of an upstream test (its calls into the suite's `kubernetes.` helpers), checked
 * against the route status the control plane reports (controlplane/route-status.ts). Assertions the runner
 * does not know fail, naming the call: nothing is passed unchecked.
 */
import type { LoadedResource } from '../config/load.ts'
import { attachToGateway, refersToGateway } from '../controlplane/gateway-attachment.ts'
import { buildMeshView, type MeshView } from '../controlplane/mesh-view.ts'
import { type RouteCondition, routeStatus } from '../controlplane/route-status.ts'
import type { UpstreamTest } from './cases.ts'

type NN = { Name: string, Namespace?: string }
type Check = { name: string, ok: boolean, error?: string }

/** Helpers that check nothing about Meshwork (namespaces exist here by construction). */
const NOT_CHECKS = new Set(['kubernetes.NamespacesMustBeReady', 'kubernetes.NewGatewayRef'])

function isNN (v: unknown): v is NN {
  return typeof v === 'object' && v !== null && typeof (v as NN).Name === 'string'
}

const STATUS: Record<string, string> = { 'metav1.ConditionTrue': 'True', 'metav1.ConditionFalse': 'False' }

function conditionsOf (view: MeshView, route: NN, parent: NN | undefined, sectionNames: string[] = []): RouteCondition[] | string {
  const r = view.routes.find(x => x.metadata.name === route.Name && x.metadata.namespace === (route.Namespace ?? 'default'))
  const g = r ?? view.grpcRoutes.find(x => x.metadata.name === route.Name && x.metadata.namespace === (route.Namespace ?? 'default'))
  if (g === undefined) return `no route ${route.Namespace}/${route.Name}`
  const status = routeStatus(view, r !== undefined ? 'HTTPRoute' : 'GRPCRoute', g)
  const parents = status.parents.filter(p => parent === undefined || (p.parentRef.name === parent.Name && p.parentRef.namespace === (parent.Namespace ?? 'default')))
  // NewGatewayRef(gw, "listener-1"): the parentRefs naming those listeners, else every parentRef to the Gateway.
  const named = parents.filter(p => p.parentRef.sectionName !== undefined && sectionNames.includes(p.parentRef.sectionName))
  const scoped = named.length > 0 ? named : parents
  if (scoped.length === 0) return `route ${route.Name} has no status for parent ${parent?.Name ?? '(any)'}`
  return scoped.flatMap(p => p.conditions)
}

function want (conds: RouteCondition[] | string, type: string, status: string, reason?: string): string | null {
  if (typeof conds === 'string') return conds
  const c = conds.filter(x => x.type === type)
  if (c.length === 0) return `no ${type} condition`
  const bad = c.find(x => x.status !== status || (reason !== undefined && x.reason !== reason))
  return bad === undefined ? null : `expected ${type}=${status}${reason ? ` (${reason})` : ''}, got ${bad.status} (${bad.reason}: ${bad.message})`
}

/**
 * @example checkStatusAssertions(cp.resources(), test).every(c => c.ok)
 */
export function checkStatusAssertions (resources: readonly LoadedResource[], t: UpstreamTest): Check[] {
  const view = buildMeshView(resources)
  const out: Check[] = []
  // `for _, routeNN := range routes { Assert(routeNN) }` → one assertion per element.
  const expanded = t.assertions.flatMap(a => {
    const i = a.args.findIndex(x => typeof x === 'object' && x !== null && '$each' in x)
    if (i === -1) return [a]
    const each = (a.args[i] as { $each: unknown }).$each
    return (Array.isArray(each) ? each : []).map(v => ({ ...a, args: a.args.map((x, j) => j === i ? v : x) }))
  })
  for (const a of expanded) {
    if (NOT_CHECKS.has(a.call)) continue
    const args = a.args.slice(2).flatMap(x => Array.isArray(x) && x.every(isNN) ? x : [x]) // client, timeout config; `routes...` spread
    const name = `status: ${a.call.replace('kubernetes.', '')} (line ${a.line})`
    let error: string | null = null
    switch (a.call) {
      case 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted':
      case 'kubernetes.GatewayAndRoutesMustBeAccepted': {
        const ref = args[1] as { args?: unknown[] } | undefined
        const gw = ref?.args?.[0]
        const sections = (ref?.args?.slice(1) ?? []).filter((s): s is string => typeof s === 'string')
        if (!isNN(gw)) { error = 'the Gateway of the assertion could not be read'; break }
        for (const route of args.slice(2).filter(isNN)) {
          const conds = conditionsOf(view, route, gw, sections)
          error ??= want(conds, 'Accepted', 'True') ?? want(conds, 'ResolvedRefs', 'True')
        }
        break
      }
      case 'kubernetes.HTTPRouteMustHaveResolvedRefsConditionsTrue':
        error = isNN(args[0]) && isNN(args[1]) ? want(conditionsOf(view, args[0], args[1]), 'ResolvedRefs', 'True') : 'arguments could not be read'
        break
      case 'kubernetes.HTTPRouteMustHaveCondition': {
        const c = args[2] as { Type?: unknown, Status?: unknown, Reason?: unknown } | undefined
        const status = typeof c?.Status === 'string' ? c.Status : STATUS[String((c?.Status as { $ref?: string } | undefined)?.$ref)]
        if (!isNN(args[0]) || !isNN(args[1]) || typeof c?.Type !== 'string' || status === undefined) { error = 'arguments could not be read'; break }
        error = want(conditionsOf(view, args[0], args[1]), c.Type, status, typeof c.Reason === 'string' ? c.Reason : undefined)
        break
      }
      case 'kubernetes.HTTPRouteMustHaveNoAcceptedParents': {
        if (!isNN(args[0])) { error = 'arguments could not be read'; break }
        const conds = conditionsOf(view, args[0], undefined)
        if (typeof conds === 'string') error = conds
        else if (conds.some(c => c.type === 'Accepted' && c.status === 'True')) error = 'a parent accepted the route'
        break
      }
      case 'kubernetes.HTTPRouteMustHaveParents': {
        // args: route, []RouteParentStatus{ ParentRef: parentRefTo(gwNN), Conditions: [...] }, namespaceRequired
        const route = args[0]
        const parents = (Array.isArray(args[1]) ? args[1] : [args[1]]) as { ParentRef?: { args?: unknown[] }, Conditions?: { Type?: string, Status?: unknown, Reason?: string }[] }[]
        if (!isNN(route)) { error = 'arguments could not be read'; break }
        for (const p of parents) {
          const gw = p.ParentRef?.args?.[0]
          if (!isNN(gw)) { error = 'the parentRef of the assertion could not be read'; break }
          const conds = conditionsOf(view, route, gw)
          for (const c of p.Conditions ?? []) {
            const st = typeof c.Status === 'string' ? c.Status : STATUS[String((c.Status as { $ref?: string } | undefined)?.$ref)]
            if (typeof c.Type !== 'string' || st === undefined) { error = 'a condition could not be read'; break }
            error ??= want(conds, c.Type, st, c.Reason)
          }
        }
        break
      }
      case 'kubernetes.GatewayMustHaveZeroRoutes': {
        const gwNN = args[0]
        const gw = isNN(gwNN) ? view.gateways.find(g => g.metadata.name === gwNN.Name && g.metadata.namespace === (gwNN.Namespace ?? 'default')) : undefined
        if (gw === undefined) { error = 'no such Gateway'; break }
        const attached = [...view.routes.map(r => ({ r, kind: 'HTTPRoute' as const })), ...view.grpcRoutes.map(r => ({ r, kind: 'GRPCRoute' as const }))]
          .filter(({ r, kind }) => r.spec.parentRefs.some(p => refersToGateway(p, r.metadata.namespace, gw) && attachToGateway(r, kind, p, gw).accepted))
        if (attached.length > 0) error = `routes attached: ${attached.map(x => x.r.metadata.name).join(', ')}`
        break
      }
      default:
        error = `the runner does not check ${a.call}`
    }
    out.push(error === null ? { name, ok: true } : { name, ok: false, error })
  }
  return out
}
