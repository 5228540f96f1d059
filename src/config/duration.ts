/**
 * Gateway API durations (GEP-2257) without zod: the data plane converts them to milliseconds on its hot
 * setup paths, and the proxy process must not load zod (bench/README.md "Where a proxy's memory goes").
 */

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }

/** Milliseconds of a Gateway API duration. @example parseDuration('1m30s') === 90000 */
export function parseDuration (s: string): number {
  let total = 0
  const re = /([0-9]+)(ms|h|m|s)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) total += Number(m[1]) * UNIT_MS[m[2]]
  return total
}
