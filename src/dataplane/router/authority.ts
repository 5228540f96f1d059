import type { Cluster } from './clusters.ts'

/** Names a resolver accepts for a cluster `<name>` in namespace `<ns>`, besides `<name>` itself. */
const SVC = '.svc'
const SVC_CLUSTER_LOCAL = '.svc.cluster.local'

/**
 * Resolves the authority of an outbound call (`Host` header or absolute-form target) to the cluster it
 * names. Accepted, case-insensitive, each with or without `:port`: `reviews`, `reviews-v2`,
 * `reviews.<ns>`, `reviews.<ns>.svc`, `reviews.<ns>.svc.cluster.local` (a trailing dot is ignored).
 * A port must be the service's port or 80 (the port a client leaves implicit). IPv6 literals, IP
 * addresses and unknown hosts resolve to `null`.
 *
 * @example
 * const resolve = new AuthorityResolver(buildClusters(snapshot), 'default')
 * resolve.resolve('reviews.default.svc.cluster.local:9080')?.name // 'reviews'
 */
export class AuthorityResolver {
  readonly #clusters: Map<string, Cluster>
  readonly #namespace: string
  readonly #maxCache: number
  // Perf: a Map hit on the raw authority skips all parsing; pre-seeded with the forms apps use most.
  readonly #cache = new Map<string, Cluster | null>()

  constructor (clusters: Map<string, Cluster>, namespace = 'default', maxCache = 4096) {
    this.#clusters = clusters
    this.#namespace = namespace.toLowerCase()
    this.#maxCache = maxCache
    for (const c of clusters.values()) {
      this.#cache.set(c.name, c)
      this.#cache.set(`${c.name}:${c.port}`, c)
    }
  }

  /** The cluster an authority names, or `null`. */
  resolve (authority: string): Cluster | null {
    const hit = this.#cache.get(authority)
    if (hit !== undefined) return hit
    const found = this.#parse(authority)
    // Bounded: arbitrary Host headers must not grow memory without limit.
    if (this.#cache.size < this.#maxCache) this.#cache.set(authority, found)
    return found
  }

  #parse (authority: string): Cluster | null {
    let host = authority.toLowerCase()
    if (host.length === 0 || host.charCodeAt(0) === 91 /* [ */) return null // IPv6 literal
    let port = -1
    const colon = host.indexOf(':')
    if (colon !== -1) {
      if (host.indexOf(':', colon + 1) !== -1) return null // bare IPv6
      const p = host.slice(colon + 1)
      if (!/^[0-9]{1,5}$/.test(p)) return null
      port = Number(p)
      host = host.slice(0, colon)
    }
    if (host.endsWith('.')) host = host.slice(0, -1)
    const name = this.#stripNamespace(host)
    if (name === null) return null
    // `details.team-a` (another namespace) is a cluster name of its own (config/service-names.ts).
    const cluster = this.#clusters.get(name)
    if (cluster === undefined) return null
    if (port !== -1 && port !== cluster.port && port !== 80) return null
    return cluster
  }

  /**
   * `reviews.<own ns>.svc.cluster.local` → `reviews`; `reviews.<other ns>[.svc[.cluster.local]]` → `reviews.<other ns>`
   * (how a snapshot names a service of another namespace); a name without dots is returned as is.
   */
  #stripNamespace (host: string): string | null {
    const dot = host.indexOf('.')
    if (dot === -1) return host
    let rest = host.slice(dot + 1)
    if (rest.endsWith(SVC_CLUSTER_LOCAL)) rest = rest.slice(0, -SVC_CLUSTER_LOCAL.length)
    else if (rest.endsWith(SVC)) rest = rest.slice(0, -SVC.length)
    if (rest === this.#namespace) return host.slice(0, dot)
    return rest.length > 0 && rest.indexOf('.') === -1 ? `${host.slice(0, dot)}.${rest}` : null
  }
}
