/**
 * Gateway API route status: for each parentRef of an HTTPRoute / GRPCRoute, the `Accepted` and `ResolvedRefs`
 * conditions with the spec's reasons, computed from the served config (no status is stored: it is a function
 * of the resources, recomputed when listed). Shown by `GET /v1/routes` and `meshwork get routes -o yaml`.
 *
 * Accepted: True `Accepted`; False `NoMatchingParent` (no such Gateway/Service, or no listener with the
 * parentRef's sectionName/port), `NotAllowedByListeners` (allowedRoutes), `NoMatchingListenerHostname`.
 * ResolvedRefs: True `ResolvedRefs`; False `BackendNotFound` (no such service), `InvalidKind` (a backendRef
 * kind other than Service).
 */
import type { GRPCRoute } from '../config/grpc-route.ts'
import type { HTTPRoute } from '../config/http-route.ts'
import { attachToGateway, refersToGateway } from './gateway-attachment.ts'
import { type MeshView, resolveServiceName } from './mesh-view.ts'

export const CONTROLLER_NAME = 'meshwork.dev/gateway-controller'

export interface RouteCondition {
  type: 'Accepted' | 'ResolvedRefs'
  status: 'True' | 'False'
  reason: string
  message: string
}

export interface RouteParentStatus {
  parentRef: { group: string, kind: string, name: string, namespace: string, sectionName?: string, port?: number }
  controllerName: string
  conditions: RouteCondition[]
}

export interface RouteStatus { parents: RouteParentStatus[] }

type AnyRoute = HTTPRoute | GRPCRoute

/** ResolvedRefs of a route (the same for every parent: it is about the backends). */
function resolvedRefs (view: MeshView, route: AnyRoute): RouteCondition {
  for (const rule of route.spec.rules) {
    for (const b of rule.backendRefs) {
      const kind = (b as { kind?: string }).kind ?? 'Service'
      if (kind !== 'Service') return { type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind', message: `backendRef ${b.name} has kind ${kind}; Meshwork routes to Services` }
      if (resolveServiceName(view, b.name) === undefined) return { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound', message: `backendRef ${b.name}: no such service` }
    }
  }
  return { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'every backendRef resolves' }
}

/**
 * The status of one route.
 *
 * @example routeStatus(view, 'HTTPRoute', route).parents[0].conditions.find(c => c.type === 'Accepted')?.reason // 'Accepted'
 */
export function routeStatus (view: MeshView, kind: 'HTTPRoute' | 'GRPCRoute', route: AnyRoute): RouteStatus {
  const refs = resolvedRefs(view, route)
  const parents = route.spec.parentRefs.map((ref): RouteParentStatus => {
    const ns = ref.namespace ?? route.metadata.namespace
    const parentRef = {
      group: ref.kind === 'Gateway' ? 'gateway.networking.k8s.io' : '',
      kind: ref.kind,
      name: ref.name,
      namespace: ns,
      ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
      ...(ref.port !== undefined ? { port: ref.port } : {})
    }
    let accepted: RouteCondition
    if (ref.kind === 'Gateway') {
      const gw = view.gateways.find(g => refersToGateway(ref, route.metadata.namespace, g))
      if (gw === undefined) {
        accepted = { type: 'Accepted', status: 'False', reason: 'NoMatchingParent', message: `no Gateway ${ns}/${ref.name}` }
      } else {
        const a = attachToGateway(route, kind, ref, gw)
        accepted = a.accepted
          ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: `attached to listener${a.listeners.length > 1 ? 's' : ''} ${a.listeners.map(l => l.name).join(', ')}` }
          : { type: 'Accepted', status: 'False', reason: a.reason, message: a.message }
      }
    } else {
      const svc = view.services.get(ref.name) ?? (resolveServiceName(view, ref.name) !== undefined ? view.services.get(resolveServiceName(view, ref.name)!.service) : undefined)
      if (svc === undefined) accepted = { type: 'Accepted', status: 'False', reason: 'NoMatchingParent', message: `no service ${ref.name}` }
      else if (ref.port !== undefined && ref.port !== svc.port) accepted = { type: 'Accepted', status: 'False', reason: 'NoMatchingParent', message: `service ${ref.name} is on port ${svc.port}, not ${ref.port}` }
      else accepted = { type: 'Accepted', status: 'True', reason: 'Accepted', message: `applies to calls to ${ref.name}` }
    }
    return { parentRef, controllerName: CONTROLLER_NAME, conditions: [accepted, refs] }
  })
  return { parents }
}
