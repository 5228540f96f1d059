/**
 * How a compiled snapshot names services across namespaces (the proxy's view, Kubernetes DNS style): a
 * service of the proxy's own namespace by its name (`details`), one of another namespace as
 * `<name>.<namespace>` (`details.team-a`). A version subset puts the version on the name part:
 * `details-v1`, `details-v1.team-a`. Zod-free: the proxy and the control plane share it.
 */

/** `details` (same namespace as the viewer) or `details.team-a`. */
export function qualifiedName (name: string, namespace: string, viewerNamespace: string): string {
  return namespace === viewerNamespace ? name : `${name}.${namespace}`
}

/** `details` + `v1` → `details-v1`; `details.team-a` + `v1` → `details-v1.team-a`. */
export function subsetName (service: string, version: string): string {
  const dot = service.indexOf('.')
  return dot === -1 ? `${service}-${version}` : `${service.slice(0, dot)}-${version}${service.slice(dot)}`
}

/** `namespace/name`: how the control plane keys services. */
export function serviceKey (namespace: string, name: string): string {
  return `${namespace}/${name}`
}
