import { subsetName } from '../../config/service-names.ts'
import type { Endpoint, ProxySnapshot } from '../../config/snapshot.ts'

/**
 * A set of endpoints the proxy can send to: a whole service (`reviews`, every endpoint) or one version
 * subset of it (`reviews-v2`, endpoints whose `version` is `v2`).
 */
export interface Cluster {
  /** `reviews` or `reviews-v2`. */
  name: string
  service: string
  /** `null` for the whole-service cluster. */
  version: string | null
  /** Port the service is addressed on (`reviews:9080`). */
  port: number
  endpoints: Endpoint[]
}

/**
 * Build every cluster of a snapshot: one per service and one per `<service>-<version>` subset (`details-v1.team-a`
 * for a service of another namespace, config/service-names.ts).
 * A real service whose name equals another service's subset name (`reviews-v2` declared as a service)
 * wins over the subset. Endpoints keep their `healthy` flag; balancers skip unhealthy ones.
 *
 * @example
 * buildClusters(snapshot).get('reviews-v2') // { name: 'reviews-v2', service: 'reviews', version: 'v2', port: 9080, endpoints: [...] }
 */
export function buildClusters (snapshot: Pick<ProxySnapshot, 'services'>): Map<string, Cluster> {
  const clusters = new Map<string, Cluster>()
  for (const s of snapshot.services) {
    clusters.set(s.name, { name: s.name, service: s.name, version: null, port: s.port, endpoints: s.endpoints.slice() })
  }
  for (const s of snapshot.services) {
    const byVersion = new Map<string, Endpoint[]>()
    for (const e of s.endpoints) {
      if (e.version === undefined || e.version === '') continue
      let list = byVersion.get(e.version)
      if (list === undefined) byVersion.set(e.version, list = [])
      list.push(e)
    }
    for (const [version, endpoints] of byVersion) {
      const name = subsetName(s.name, version)
      if (clusters.has(name)) continue
      clusters.set(name, { name, service: s.name, version, port: s.port, endpoints })
    }
  }
  return clusters
}
