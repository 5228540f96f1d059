/**
 * Outlier detection (Envoy "consecutive 5xx" / "consecutive gateway failure" ejection).
 *
 *   ep.end(...) ─► detector.observe(ep, set.states, now)
 *                    consecutive5xx ≥ N5xx  or  consecutiveConnectFailures ≥ Nconnect
 *                    and the ejection cap allows it
 *                    └─► ejectedUntil = now + baseEjectionTime × ejections, counters reset, onEject(ep)
 *   time passes ─► ep.isAvailable(now) is true again (no timer: un-ejection is a comparison)
 *
 * Ejection cap: at most floor(maxEjectionPercent × size / 100) endpoints ejected at once, but always
 * at least one when the set has more than one endpoint and maxEjectionPercent > 0 (as Envoy: a small
 * set still loses its one bad endpoint). A set of one endpoint is never ejected (there is nowhere else
 * to send the traffic), and maxEjectionPercent 0 disables ejection.
 * The multiplier `ejections` decreases by one for every `interval` the endpoint stays back without
 * being ejected, so a flapping endpoint is kept out longer and a recovered one is forgiven.
 */
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import type { EndpointState } from './endpoint-state.ts'

/** Upper bound of one ejection (Envoy `max_ejection_time` default). */
export const MAX_EJECTION_MS = 300_000

export interface OutlierDetectorOptions {
  consecutive5xx: number
  consecutiveConnectFailures: number
  intervalMs: number
  baseEjectionTimeMs: number
  maxEjectionPercent: number
  /** Called when an endpoint is ejected (metrics: `ejections_total`, logs). */
  onEject?: (ep: EndpointState, untilMs: number) => void
}

type OutlierDetectionSpec = NonNullable<DestinationPolicy['spec']['outlierDetection']>

/**
 * @example
 * const od = OutlierDetector.fromPolicy(policy.spec.outlierDetection, { onEject })
 * ep.end(status, false, latency, preciseNow()); od?.observe(ep, set.states, now())
 */
export class OutlierDetector {
  readonly consecutive5xx: number
  readonly consecutiveConnectFailures: number
  readonly intervalMs: number
  readonly baseEjectionTimeMs: number
  readonly maxEjectionPercent: number
  onEject: ((ep: EndpointState, untilMs: number) => void) | null

  constructor (opts: OutlierDetectorOptions) {
    this.consecutive5xx = opts.consecutive5xx
    this.consecutiveConnectFailures = opts.consecutiveConnectFailures
    this.intervalMs = opts.intervalMs
    this.baseEjectionTimeMs = opts.baseEjectionTimeMs
    this.maxEjectionPercent = opts.maxEjectionPercent
    this.onEject = opts.onEject ?? null
  }

  /** `null` when the policy has no outlierDetection block. */
  static fromPolicy (spec: OutlierDetectionSpec | undefined, hooks?: { onEject?: OutlierDetectorOptions['onEject'] }): OutlierDetector | null {
    if (spec === undefined) return null
    return new OutlierDetector({
      consecutive5xx: spec.consecutive5xx,
      consecutiveConnectFailures: spec.consecutiveConnectFailures,
      intervalMs: parseDuration(spec.interval),
      baseEjectionTimeMs: parseDuration(spec.baseEjectionTime),
      maxEjectionPercent: spec.maxEjectionPercent,
      onEject: hooks?.onEject
    })
  }

  /**
   * Check `ep` after its counters were updated by `ep.end()/onEnd()`. Returns true if it was ejected now.
   * Perf: two comparisons on the common path; the set is scanned only when a threshold is reached.
   */
  observe (ep: EndpointState, eps: readonly EndpointState[], now: number): boolean {
    if (ep.consecutive5xx < this.consecutive5xx && ep.consecutiveConnectFailures < this.consecutiveConnectFailures) return false
    if (ep.ejectedUntil > now) return false // already out (a late response of a request started before)
    if (!this.#mayEject(eps, now)) return false
    this.eject(ep, now)
    return true
  }

  /** Eject unconditionally (also used by tests and an admin action). */
  eject (ep: EndpointState, now: number): void {
    // Forgive one ejection per interval spent back in service since the last ejection ended.
    if (ep.ejections > 0 && ep.ejectedUntil > 0 && this.intervalMs > 0 && now > ep.ejectedUntil) {
      const forgiven = Math.floor((now - ep.ejectedUntil) / this.intervalMs)
      ep.ejections = forgiven >= ep.ejections ? 0 : ep.ejections - forgiven
    }
    ep.ejections++
    let ms = this.baseEjectionTimeMs * ep.ejections
    const cap = Math.max(this.baseEjectionTimeMs, MAX_EJECTION_MS)
    if (ms > cap) ms = cap
    ep.ejectedUntil = now + ms
    ep.consecutive5xx = 0
    ep.consecutiveConnectFailures = 0
    if (this.onEject !== null) this.onEject(ep, ep.ejectedUntil)
  }

  /** How many endpoints of a set of `size` may be ejected at once. */
  maxEjected (size: number): number {
    if (size <= 1 || this.maxEjectionPercent <= 0) return 0
    const n = Math.floor(size * this.maxEjectionPercent / 100)
    return Math.max(n, 1)
  }

  #mayEject (eps: readonly EndpointState[], now: number): boolean {
    const limit = this.maxEjected(eps.length)
    if (limit === 0) return false
    let ejected = 0
    for (let i = 0; i < eps.length; i++) if (eps[i].ejectedUntil > now) ejected++
    return ejected < limit
  }
}

/** Count of endpoints ejected at `now` (metrics gauge). */
export function countEjected (eps: readonly EndpointState[], now: number): number {
  let n = 0
  for (let i = 0; i < eps.length; i++) if (eps[i].ejectedUntil > now) n++
  return n
}
