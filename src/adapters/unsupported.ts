/**
 * A field of a Meshwork resource that a target mesh cannot express (or expresses only approximately).
 * Translators never drop a field silently: each one they cannot carry over becomes one of these.
 *
 * @example
 * { mesh: 'linkerd', resource: 'FaultInjection/default/ratings-delay', path: 'spec.delay', reason: 'Linkerd has no fault injection' }
 */
export interface Unsupported {
  mesh: 'istio' | 'linkerd' | 'consul' | 'meshwork'
  /** `Kind/namespace/name` of the source resource. */
  resource: string
  /** Path inside the source resource, e.g. `spec.rules[0].retry.backoff`. */
  path: string
  reason: string
}

export type Mesh = 'istio' | 'linkerd' | 'consul'

/** Collects warnings for one resource, so each call names only the path and the reason. */
export class UnsupportedLog {
  readonly items: Unsupported[] = []
  constructor (readonly mesh: Unsupported['mesh']) {}
  add (resource: string, path: string, reason: string): void {
    this.items.push({ mesh: this.mesh, resource, path, reason })
  }
}
