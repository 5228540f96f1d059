import { parseDuration } from '../config/index.ts'

/**
 * Meshwork durations are Gateway API durations (`1m30s`, `250ms`). Target meshes mostly want one unit:
 * Istio and Consul take protobuf/Go durations, where `90s` and `250ms` are always safe.
 * @example toSecondsOrMs('1m30s') === '90s'
 */
export function toSecondsOrMs (d: string): string {
  return formatMs(parseDuration(d))
}

export function formatMs (ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/**
 * Go / protobuf duration (`0.5s`, `1m`, `1h30m`, `250ms`, `1.5s`) → milliseconds, or null when it is not one.
 * @example parseGoDuration('0.5s') === 500
 */
export function parseGoDuration (s: string): number | null {
  const re = /([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/gy
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 }
  let total = 0
  let matched = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]]
    matched = re.lastIndex
  }
  if (matched !== s.length || s.length === 0) return null
  return total
}

/** Milliseconds → a Meshwork (Gateway API) duration, rounding up to whole milliseconds. */
export function toMeshworkDuration (ms: number): string {
  let rest = Math.ceil(ms)
  if (rest === 0) return '0s'
  let out = ''
  const parts: [string, number][] = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]]
  for (const [u, size] of parts) {
    const n = Math.floor(rest / size)
    if (n > 0) { out += `${n}${u}`; rest -= n * size }
  }
  return out
}
