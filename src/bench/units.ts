import { BenchOptionInvalidError } from '../errors.ts'

/**
 * `10s`, `500ms`, `1m`, `1.5s`, or a bare number of seconds → ms. Throws MESH_ERR_BENCH_OPTION_INVALID.
 * @example parseDurationMs('2s', '--duration') // 2000
 */
export function parseDurationMs (s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim())
  if (m === null) throw new BenchOptionInvalidError(`${flag}: "${s}" is not a duration (e.g. 500ms, 10s, 1m)`)
  const n = Number(m[1])
  const mult = m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 1000
  return Math.round(n * mult)
}

/** A request rate: a non-negative number, or `max` / `0` for closed loop. */
export function parseRate (s: string, flag = '--rate'): number {
  if (s.trim().toLowerCase() === 'max') return 0
  const n = Number(s)
  if (s.trim() === '' || !Number.isFinite(n) || n < 0) throw new BenchOptionInvalidError(`${flag}: "${s}" is not a rate (requests per second ≥ 0, or "max")`)
  return n
}

/** A positive integer flag. */
export function parsePositiveInt (s: string, flag: string): number {
  const n = Number(s)
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n < 1) throw new BenchOptionInvalidError(`${flag}: "${s}" is not a positive integer`)
  return n
}

/** `8,16,32,100` → [8, 16, 32, 100]. */
export function parseIntList (s: string, flag: string): number[] {
  return s.split(',').map(x => parsePositiveInt(x, flag))
}

/** `Name: value` header lines → record (later ones win). */
export function parseHeaders (lines: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const l of lines) {
    const i = l.indexOf(':')
    if (i <= 0) throw new BenchOptionInvalidError(`--header: "${l}" is not "Name: value"`)
    const name = l.slice(0, i).trim()
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new BenchOptionInvalidError(`--header: "${name}" is not a valid header name`)
    out[name] = l.slice(i + 1).trim()
  }
  return out
}

/** `k=v` labels → record. */
export function parseLabels (lines: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const l of lines) {
    const i = l.indexOf('=')
    if (i <= 0) throw new BenchOptionInvalidError(`--label: "${l}" is not key=value`)
    out[l.slice(0, i)] = l.slice(i + 1)
  }
  return out
}
