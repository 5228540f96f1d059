import { DEFAULT_MESH_CONFIG, type MeshConfigSpec } from '../config/mesh-config.ts'
import type { LoadedResource } from '../config/load.ts'
import type { ResourceOf } from '../config/resource.ts'
import { serviceKey } from '../config/service-names.ts'

/** What one Workload version of a service declares. */
export interface VersionInfo {
  version: string
  serviceAccount: string
  readinessPath: string
  protocol: 'http1' | 'h2'
  replicas: number
  /** `Workload/<ns>/<name>` */
  workload: string
}

export interface ServiceInfo {
  name: string
  namespace: string
  /** Port the service is addressed on (`reviews:9080`). */
  port: number
  versions: Map<string, VersionInfo>
}

/**
 * The mesh's config at one generation, indexed once for the compiler: resources by kind and the services
 * declared by Workloads. Built from validated resources; never mutated after construction.
 */
export interface MeshView {
  resources: readonly LoadedResource[]
  meshConfig: MeshConfigSpec
  /** Keyed `namespace/name` (config/service-names.ts `serviceKey`): two namespaces may each have a `details`. */
  services: ReadonlyMap<string, ServiceInfo>
  workloads: ResourceOf<'Workload'>[]
  routes: ResourceOf<'HTTPRoute'>[]
  grpcRoutes: ResourceOf<'GRPCRoute'>[]
  gateways: ResourceOf<'Gateway'>[]
  destinationPolicies: ResourceOf<'DestinationPolicy'>[]
  authorizationPolicies: ResourceOf<'AuthorizationPolicy'>[]
  faultInjections: ResourceOf<'FaultInjection'>[]
  rateLimitPolicies: ResourceOf<'RateLimitPolicy'>[]
  referenceGrants: ResourceOf<'ReferenceGrant'>[]
}

/** @example const view = buildMeshView(await loadResourceFiles(['mesh.yaml'])) */
export function buildMeshView (resources: readonly LoadedResource[]): MeshView {
  const view: MeshView = {
    resources,
    meshConfig: DEFAULT_MESH_CONFIG,
    services: new Map(),
    workloads: [],
    routes: [],
    grpcRoutes: [],
    gateways: [],
    destinationPolicies: [],
    authorizationPolicies: [],
    faultInjections: [],
    rateLimitPolicies: [],
    referenceGrants: []
  }
  const services = view.services as Map<string, ServiceInfo>
  for (const { resource: r } of resources) {
    switch (r.kind) {
      case 'MeshConfig': view.meshConfig = r.spec; break
      case 'Workload': {
        view.workloads.push(r)
        const key = serviceKey(r.metadata.namespace, r.spec.service)
        let svc = services.get(key)
        if (svc === undefined) {
          svc = { name: r.spec.service, namespace: r.metadata.namespace, port: r.spec.port, versions: new Map() }
          services.set(key, svc)
        }
        svc.versions.set(r.spec.version, {
          version: r.spec.version,
          serviceAccount: r.spec.serviceAccount ?? r.spec.service,
          readinessPath: r.spec.readinessPath,
          protocol: r.spec.protocol,
          replicas: r.spec.replicas,
          workload: `Workload/${r.metadata.namespace}/${r.metadata.name}`
        })
        break
      }
      case 'HTTPRoute': view.routes.push(r); break
      case 'GRPCRoute': view.grpcRoutes.push(r); break
      case 'Gateway': view.gateways.push(r); break
      case 'DestinationPolicy': view.destinationPolicies.push(r); break
      case 'AuthorizationPolicy': view.authorizationPolicies.push(r); break
      case 'FaultInjection': view.faultInjections.push(r); break
      case 'RateLimitPolicy': view.rateLimitPolicies.push(r); break
      case 'ReferenceGrant': view.referenceGrants.push(r); break
    }
  }
  return view
}

/** The service `name` of `namespace`, if a Workload declares it. */
export function serviceIn (view: MeshView, namespace: string, name: string): ServiceInfo | undefined {
  return view.services.get(serviceKey(namespace, name))
}

/**
 * A reference name in a namespace: `reviews-v2` → `{ service: 'reviews', version: 'v2', info }` when the mesh
 * declares that version there, `reviews` → the service; else undefined.
 */
export function resolveServiceName (view: MeshView, name: string, namespace = 'default'): { service: string, version?: string, info: ServiceInfo } | undefined {
  const own = serviceIn(view, namespace, name)
  if (own !== undefined) return { service: name, info: own }
  for (const svc of view.services.values()) {
    if (svc.namespace !== namespace || !name.startsWith(`${svc.name}-`)) continue
    const version = name.slice(svc.name.length + 1)
    if (svc.versions.has(version)) return { service: svc.name, version, info: svc }
  }
  return undefined
}

/** Services of one namespace, or of all (`undefined`). */
export function servicesOf (view: MeshView, namespace?: string): ServiceInfo[] {
  const out: ServiceInfo[] = []
  for (const s of view.services.values()) if (namespace === undefined || s.namespace === namespace) out.push(s)
  return out
}

/** `spiffe://<trust-domain>/ns/<ns>/sa/<sa>` */
export function spiffeId (trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`
}
