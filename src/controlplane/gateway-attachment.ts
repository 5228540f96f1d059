/**
 * Gateway API route attachment: which listeners of a Gateway a route's parentRef attaches to (sectionName,
 * port, allowedRoutes namespaces and kinds, hostname intersection), and the hostnames the route then serves
 * on that Gateway. One implementation for the gateway snapshots (compile.ts) and the route status
 * (route-status.ts), so what a user reads in `meshwork get routes -o yaml` is what the gateway does.
 *
 * Spec: gateway-api `ParentReference` (sectionName, port), `AllowedRoutes`, `HTTPRouteSpec.hostnames`
 * ("hostname intersection": a route attaches to a listener when some hostname of each matches the other).
 */
import type { Gateway, GatewayListener } from '../config/gateway.ts'
import type { GRPCRoute } from '../config/grpc-route.ts'
import type { HTTPRoute } from '../config/http-route.ts'

type AnyRoute = HTTPRoute | GRPCRoute
type ParentRef = HTTPRoute['spec']['parentRefs'][number]

export type AttachmentRefusal = 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname'

export type Attachment =
  | { accepted: true, listeners: GatewayListener[], /** `undefined`: any host. */ hostnames: string[] | undefined }
  | { accepted: false, reason: AttachmentRefusal, message: string }

/** Kinds a listener of this protocol takes when `allowedRoutes.kinds` is not set. */
const DEFAULT_KINDS: Record<string, string[]> = { HTTP: ['HTTPRoute', 'GRPCRoute'], HTTPS: ['HTTPRoute', 'GRPCRoute'] }

/** The host names both `a` and `b` match (Gateway API hostname intersection); `*.x` stands for its subdomains. */
export function intersectHostname (a: string, b: string): string | null {
  const p = a.toLowerCase()
  const q = b.toLowerCase()
  if (p === q) return p
  const under = (host: string, wildcard: string): boolean => host.endsWith(wildcard.slice(1)) && host.length > wildcard.length - 1
  if (p.startsWith('*.') && !q.startsWith('*.')) return under(q, p) ? q : null
  if (q.startsWith('*.') && !p.startsWith('*.')) return under(p, q) ? p : null
  if (p.startsWith('*.') && q.startsWith('*.')) return p.endsWith(q.slice(1)) ? p : q.endsWith(p.slice(1)) ? q : null
  return null
}

/** Is a parentRef (of a route in `routeNamespace`) about this Gateway? */
export function refersToGateway (ref: ParentRef, routeNamespace: string, gw: Gateway): boolean {
  return ref.kind === 'Gateway' && ref.name === gw.metadata.name && (ref.namespace ?? routeNamespace) === gw.metadata.namespace
}

/**
 * Attach one parentRef of a route to its Gateway.
 *
 * @example attachToGateway(route, 'HTTPRoute', route.spec.parentRefs[0], gateway) // { accepted: true, listeners: [...], hostnames: ['foo.bar.com'] }
 */
export function attachToGateway (route: AnyRoute, kind: 'HTTPRoute' | 'GRPCRoute', ref: ParentRef, gw: Gateway): Attachment {
  let candidates = gw.spec.listeners
  if (ref.sectionName !== undefined) candidates = candidates.filter(l => l.name === ref.sectionName)
  if (ref.port !== undefined) candidates = candidates.filter(l => l.port === ref.port)
  if (candidates.length === 0) {
    const what = [ref.sectionName !== undefined ? `sectionName "${ref.sectionName}"` : '', ref.port !== undefined ? `port ${ref.port}` : ''].filter(Boolean).join(' and ')
    return { accepted: false, reason: 'NoMatchingParent', message: `Gateway ${gw.metadata.namespace}/${gw.metadata.name} has no listener with ${what}` }
  }
  const ns = route.metadata.namespace
  const allowed = candidates.filter(l => {
    const from = l.allowedRoutes?.namespaces?.from ?? 'Same'
    // Selector needs Namespace labels, which Meshwork does not have: it admits no namespace (docs/control-plane.md).
    const nsOk = from === 'All' || (from === 'Same' && ns === gw.metadata.namespace)
    const kinds = l.allowedRoutes?.kinds?.map(k => k.kind) ?? DEFAULT_KINDS[l.protocol] ?? []
    return nsOk && kinds.includes(kind)
  })
  if (allowed.length === 0) {
    return { accepted: false, reason: 'NotAllowedByListeners', message: `no listener of Gateway ${gw.metadata.namespace}/${gw.metadata.name} allows a ${kind} from namespace ${ns}` }
  }
  const own = route.spec.hostnames ?? []
  const listeners: GatewayListener[] = []
  const hostnames = new Set<string>()
  let anyHost = false
  for (const l of allowed) {
    const lh = l.hostname === undefined || l.hostname === '' ? null : l.hostname
    if (own.length === 0) {
      listeners.push(l)
      if (lh === null) anyHost = true
      else hostnames.add(lh.toLowerCase())
      continue
    }
    if (lh === null) {
      listeners.push(l)
      for (const h of own) hostnames.add(h.toLowerCase())
      continue
    }
    const shared = own.map(h => intersectHostname(h, lh)).filter((h): h is string => h !== null)
    if (shared.length === 0) continue
    listeners.push(l)
    for (const h of shared) hostnames.add(h)
  }
  if (listeners.length === 0) {
    return { accepted: false, reason: 'NoMatchingListenerHostname', message: `no hostname of the route (${own.join(', ')}) matches a listener hostname of Gateway ${gw.metadata.namespace}/${gw.metadata.name}` }
  }
  return { accepted: true, listeners, hostnames: anyHost ? undefined : [...hostnames] }
}

/**
 * The routes a Gateway serves, each as it applies there: only the routes with an accepted attachment, their
 * `hostnames` narrowed to the intersection with the listeners they attach to (a listener `*.bar.com` and a
 * route without hostnames → `[*.bar.com]`). Routes needing no change are returned as they are (same object).
 *
 * @example compileGateway uses gatewayRoutes(view.routes, 'HTTPRoute', gateways)
 */
export function gatewayRoutes<R extends AnyRoute> (routes: readonly R[], kind: 'HTTPRoute' | 'GRPCRoute', gateways: readonly Gateway[]): R[] {
  const out: R[] = []
  for (const r of routes) {
    let anyHost = false
    const hosts = new Set<string>()
    let attached = false
    for (const gw of gateways) {
      for (const ref of r.spec.parentRefs) {
        if (!refersToGateway(ref, r.metadata.namespace, gw)) continue
        const a = attachToGateway(r, kind, ref, gw)
        if (!a.accepted) continue
        attached = true
        if (a.hostnames === undefined) anyHost = true
        else for (const h of a.hostnames) hosts.add(h)
      }
    }
    if (!attached) continue
    const own = r.spec.hostnames ?? []
    const narrowed = anyHost ? (own.length === 0 ? undefined : own) : [...hosts]
    const same = narrowed === undefined ? own.length === 0 : narrowed.length === own.length && narrowed.every((h, i) => h === own[i].toLowerCase())
    out.push(same ? r : { ...r, spec: { ...r.spec, hostnames: narrowed } })
  }
  return out
}
