/**
 * Deadline propagation. Each hop forwards the *remaining* budget of the caller in `meshwork-timeout`,
 * written like gRPC's `grpc-timeout`: 1–8 digits and a unit (H hours, M minutes, S seconds,
 * m milliseconds, u microseconds, n nanoseconds).
 *
 *   deadlineAt = receivedAt + min(header, route timeout) − offset      (callers shorten, never extend)
 *   remaining  = deadlineAt − now;  ≤ 0 → 504 MESH_ERR_DEADLINE_EXCEEDED without calling upstream
 *   upstream gets meshwork-timeout: formatTimeoutHeader(remaining)
 *
 * No header and no route timeout → deadlineAt = Infinity (no deadline).
 */

/** Header name (lower case, as the parser normalises names). */
export const TIMEOUT_HEADER = 'meshwork-timeout'

/**
 * Milliseconds of a `meshwork-timeout` value, or null when absent or malformed (a malformed header is
 * ignored, not an error: the route timeout still applies).
 * Perf: hand parser, no regex, no allocation.
 * @example parseTimeoutHeader('250m') === 250; parseTimeoutHeader('2S') === 2000; parseTimeoutHeader('x') === null
 */
export function parseTimeoutHeader (v: string | null | undefined): number | null {
  if (typeof v !== 'string') return null
  const len = v.length
  if (len < 2 || len > 9) return null
  let n = 0
  for (let i = 0; i < len - 1; i++) {
    const c = v.charCodeAt(i) - 48
    if (c < 0 || c > 9) return null
    n = n * 10 + c
  }
  switch (v.charCodeAt(len - 1)) {
    case 72: return n * 3_600_000 // H
    case 77: return n * 60_000 // M
    case 83: return n * 1000 // S
    case 109: return n // m
    case 117: return n / 1000 // u
    case 110: return n / 1_000_000 // n
    default: return null
  }
}

/**
 * Header value for a remaining budget in ms, rounded down (never extends the budget), in the finest unit
 * whose value fits in 8 digits (as grpc-go): n below 100 ms, u below 100 s, then m, S, M, H.
 * A budget ≤ 0 formats as `0n` (callers should have answered 504 already).
 * @example formatTimeoutHeader(250) === '250000u'; formatTimeoutHeader(0.25) === '250000n'; formatTimeoutHeader(1e6) === '1000000m'
 */
export function formatTimeoutHeader (ms: number): string {
  if (!(ms > 0)) return '0n'
  if (ms < 100) return Math.floor(ms * 1_000_000) + 'n'
  if (ms < 100_000) return Math.floor(ms * 1000) + 'u'
  if (ms < 100_000_000) return Math.floor(ms) + 'm'
  const s = Math.floor(ms / 1000)
  if (s < 100_000_000) return s + 'S'
  const m = Math.floor(ms / 60_000)
  if (m < 100_000_000) return m + 'M'
  const h = Math.floor(ms / 3_600_000)
  return (h < 100_000_000 ? h : 99_999_999) + 'H'
}

export interface DeadlineInput {
  /** Coarse-clock time the request head arrived. */
  receivedAt: number
  /** Parsed `meshwork-timeout` of the caller, or null/undefined. */
  headerMs?: number | null
  /** This hop's route timeout (`timeouts.request`), or null/undefined. */
  routeTimeoutMs?: number | null
  /** Subtracted for transit and processing (ms). */
  offsetMs?: number
}

/**
 * Absolute deadline (same clock as `receivedAt`), or Infinity when nothing bounds the request.
 * @example const deadlineAt = computeDeadline({ receivedAt: now(), headerMs: parseTimeoutHeader(h), routeTimeoutMs: 2000 })
 */
export function computeDeadline (input: DeadlineInput): number {
  const h = input.headerMs
  const r = input.routeTimeoutMs
  let budget = Infinity
  if (h !== null && h !== undefined && h >= 0) budget = h
  if (r !== null && r !== undefined && r > 0 && r < budget) budget = r
  if (budget === Infinity) return Infinity
  return input.receivedAt + budget - (input.offsetMs ?? 1)
}

/**
 * Milliseconds left before `deadlineAt` (Infinity without a deadline; ≤ 0 = spent).
 * @example if (remaining(deadlineAt, now()) <= 0) throw new DeadlineExceededError('budget spent')
 */
export function remaining (deadlineAt: number, now: number): number {
  return deadlineAt - now
}
