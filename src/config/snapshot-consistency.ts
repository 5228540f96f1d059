/**
 * What a snapshot must satisfy beyond its schema (every backendRef names a known service or version),
 * and the deep freeze of an accepted snapshot. Zod-free: shared by `checkSnapshot` (zod, control plane and
 * CLI) and `checkProxySnapshot` (the proxy, `snapshot-check/`).
 */
import { SnapshotRejectedError } from '../errors.ts'
import { formatPath } from './path.ts'
import { subsetName } from './service-names.ts'
import type { ProxySnapshot } from './snapshot.ts'

/** Throws SnapshotRejectedError naming the first 5 backendRefs (of HTTPRoutes and GRPCRoutes) to unknown services. */
export function checkConsistency (snap: ProxySnapshot, source: string): void {
  const known = new Set<string>()
  for (const s of snap.services) {
    known.add(s.name)
    for (const e of s.endpoints) if (e.version) known.add(subsetName(s.name, e.version))
    if (s.versions) for (const v of s.versions) known.add(subsetName(s.name, v))
  }
  const missing: string[] = []
  snap.routes.forEach((r, ri) => r.spec.rules.forEach((rule, i) => rule.backendRefs.forEach((b, bi) => {
    if (!known.has(b.name)) missing.push(`${source}: routes[${ri}] (HTTPRoute/${r.metadata.name}): spec.rules[${i}].backendRefs[${bi}].name: unknown service "${b.name}"`)
  })))
  snap.grpcRoutes.forEach((r, ri) => r.spec.rules.forEach((rule, i) => rule.backendRefs.forEach((b, bi) => {
    if (!known.has(b.name)) missing.push(`${source}: grpcRoutes[${ri}] (GRPCRoute/${r.metadata.name}): spec.rules[${i}].backendRefs[${bi}].name: unknown service "${b.name}"`)
  })))
  if (missing.length > 0) throw new SnapshotRejectedError(missing.slice(0, 5).join('\n'))
}

export function deepFreeze<T> (o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o as object)) deepFreeze(v)
  }
  return o
}

/** `<source>: <path>: <reason>` lines of the first 5 schema issues, as one SnapshotRejectedError. */
export function rejectIssues (issues: readonly { path: readonly PropertyKey[], message: string }[], source: string): SnapshotRejectedError {
  const first = issues.slice(0, 5).map(i => `${source}: ${formatPath(i.path) || '<document>'}: ${i.message}`)
  return new SnapshotRejectedError(first.join('\n'))
}
