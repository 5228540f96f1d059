/**
 * `checkProxySnapshot`: the proxy's snapshot validation, with the same answers as `checkSnapshot`
 * (`../snapshot.ts`) — schema, defaults, error text, consistency, deep freeze — without zod.
 *
 * Perf: the proxy process must not load zod: importing it (even zod/mini or zod/v4/core) costs 8–12 MB of
 * RSS in a ~65 MB sidecar (bench/README.md "Where a proxy's memory goes"). The schema is the zod
 * `ProxySnapshot` compiled at build time into `snapshot-schema.generated.ts` (regenerate with
 * `npm run gen:snapshot-schema`; a test fails when it is stale), interpreted by `interpret.ts`.
 *
 * @example const snap = checkProxySnapshot(JSON.parse(text), 'snap.json') // frozen ProxySnapshot, or throws MESH_ERR_SNAPSHOT_REJECTED
 */
import { checkConsistency, deepFreeze, rejectIssues } from '../snapshot-consistency.ts'
import type { ProxySnapshot } from '../snapshot.ts'
import { compileSchema } from './interpret.ts'
import { SNAPSHOT_SCHEMA } from './snapshot-schema.generated.ts'

const validate = compileSchema(SNAPSHOT_SCHEMA)

/**
 * Validate a snapshot against the generated schema, check it is consistent and freeze it. Throws
 * SnapshotRejectedError (`<source>: <path>: <reason>`, first 5 issues).
 */
export function checkProxySnapshot (value: unknown, source = '<snapshot>'): ProxySnapshot {
  const r = validate(value)
  if (!r.ok) throw rejectIssues(r.issues, source)
  const snap = r.value as ProxySnapshot
  checkConsistency(snap, source)
  return deepFreeze(snap)
}

/** Schema issues only (no consistency check), for tests that compare with zod. */
export function parseProxySnapshot (value: unknown): ReturnType<typeof validate> {
  return validate(value)
}
