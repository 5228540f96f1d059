import type { MeshView } from './mesh-view.ts'

/**
 * May a resource of `from.kind` in `from.namespace` refer to the Service `to.name` of `to.namespace`?
 * Gateway API ReferenceGrant semantics (docs/control-plane.md, "Namespaces and ReferenceGrant"):
 * - same namespace: always;
 * - another namespace: only when a ReferenceGrant *in the target's namespace* lists
 *   `{ group: gateway.networking.k8s.io, kind: from.kind, namespace: from.namespace }` in `from` and
 *   `{ group: '', kind: Service }` in `to`, with no `name` (every Service) or `name` = the Service
 *   (a version subset `reviews-v2` is checked as its Service `reviews`).
 * Used for route backendRefs and RequestMirror backendRefs; Service parentRefs (GAMMA consumer routes) need none.
 *
 * @example refPermitted(view, { kind: 'HTTPRoute', namespace: 'default' }, { namespace: 'team-a', name: 'details' })
 */
export function refPermitted (view: MeshView, from: { kind: 'HTTPRoute' | 'GRPCRoute' | 'Gateway', namespace: string }, to: { namespace: string, name: string }): boolean {
  if (from.namespace === to.namespace) return true
  for (const g of view.referenceGrants) {
    if (g.metadata.namespace !== to.namespace) continue
    const fromOk = g.spec.from.some(f => f.group === 'gateway.networking.k8s.io' && f.kind === from.kind && f.namespace === from.namespace)
    if (!fromOk) continue
    if (g.spec.to.some(t => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === to.name))) return true
  }
  return false
}
