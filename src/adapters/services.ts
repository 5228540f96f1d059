import type { Resource, Workload } from '../config/index.ts'

/** A backend or target name resolved to a service and, for `reviews-v2`, a version subset. */
export interface ServiceRef { service: string, subset?: string, namespace?: string }

/**
 * Resolves Meshwork names (`reviews`, `reviews-v2`) to service + subset. Workloads in the input are the
 * truth (service `reviews`, version `v2` → `reviews-v2`); without them a trailing `-v<digits>` is read as
 * a version, which is the Meshwork naming convention.
 */
export class ServiceIndex {
  readonly #subsets = new Map<string, ServiceRef>()
  readonly #services = new Set<string>()
  readonly #ports = new Map<string, number>()
  readonly #h2 = new Set<string>()
  readonly #grpc = new Set<string>()

  constructor (resources: readonly Resource[]) {
    for (const r of resources) {
      if (r.kind !== 'Workload') continue
      const w = r as Workload
      this.#services.add(w.spec.service)
      this.#ports.set(w.spec.service, w.spec.port)
      this.#subsets.set(`${w.spec.service}-${w.spec.version}`, { service: w.spec.service, subset: w.spec.version })
      if (w.spec.protocol === 'h2') this.#h2.add(w.spec.service)
    }
    // A service a GRPCRoute attaches to or sends to is a gRPC service.
    for (const r of resources) {
      if (r.kind !== 'GRPCRoute') continue
      for (const p of r.spec.parentRefs) if (p.kind === 'Service') this.#grpc.add(this.resolve(p.name).service)
      for (const rule of r.spec.rules) for (const b of rule.backendRefs) this.#grpc.add(this.resolve(b.name).service)
    }
  }

  /** What a service speaks: `grpc` (a GRPCRoute attaches to or sends to it), `http2` (an h2 Workload), else `http`. */
  protocol (service: string): 'grpc' | 'http2' | 'http' {
    if (this.#grpc.has(service)) return 'grpc'
    return this.#h2.has(service) ? 'http2' : 'http'
  }

  resolve (name: string, namespace?: string): ServiceRef {
    if (this.#services.has(name)) return withNs({ service: name }, namespace)
    const known = this.#subsets.get(name)
    if (known !== undefined) return withNs({ ...known }, namespace)
    const m = /^(.+)-(v[0-9][a-z0-9]*)$/.exec(name)
    if (m !== null) return withNs({ service: m[1], subset: m[2] }, namespace)
    return withNs({ service: name }, namespace)
  }

  /** Port of a service as declared by its Workload, else the Workload default (80). */
  port (service: string): number {
    return this.#ports.get(service) ?? 80
  }
}

function withNs (ref: ServiceRef, namespace: string | undefined): ServiceRef {
  if (namespace !== undefined) ref.namespace = namespace
  return ref
}

/** SPIFFE ID → its parts. `spiffe://cluster.local/ns/default/sa/productpage` */
export function parseSpiffe (id: string): { trustDomain: string, namespace: string, serviceAccount: string } | null {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id)
  if (m === null) return null
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] }
}

/** Label key the Kubernetes manifests use to select a service's pods (the `app` convention of Bookinfo). */
export const APP_LABEL = 'app'
export const VERSION_LABEL = 'version'
