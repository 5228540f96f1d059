/** Gateway API hostname semantics shared by the route tables and the route-kind rules. */

/** Gateway API hostname match: exact, or `*.example.com` for any host with one or more labels before `.example.com`. */
export function hostMatches (pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host
  const suffix = pattern.slice(1)
  return host.length > suffix.length && host.endsWith(suffix)
}

/** Do two hostname lists share a host? An empty list is every host (Gateway API). */
export function hostnamesIntersect (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || a.length === 0 || b === undefined || b.length === 0) return true
  for (const x of a) {
    for (const y of b) {
      const p = x.toLowerCase()
      const q = y.toLowerCase()
      if (p === q) return true
      if (p.startsWith('*.') && q.startsWith('*.')) { if (p.endsWith(q.slice(1)) || q.endsWith(p.slice(1))) return true; continue }
      if (hostMatches(p, q) || hostMatches(q, p)) return true
    }
  }
  return false
}
