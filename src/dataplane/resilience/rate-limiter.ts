/**
 * Token bucket for the local rate limit of a target (one per proxy instance and policy).
 * Refilled lazily on each `tryTake` from the elapsed coarse time; starts full.
 * Perf: two numbers of state, no timer.
 */
import type { RateLimitPolicySpec } from '../../config/rate-limit-policy.ts'
import { now as coarseNow } from './clock.ts'

const UNIT_SECONDS = { second: 1, minute: 60, hour: 3600 } as const

/**
 * @example
 * const bucket = TokenBucket.fromPolicy(policy.spec)
 * if (!bucket.tryTake()) throw new RateLimitedError('reviews: 100 requests per second')
 */
export class TokenBucket {
  readonly ratePerMs: number
  readonly burst: number
  tokens: number
  #last: number

  constructor (ratePerSecond: number, burst = ratePerSecond, now = coarseNow()) {
    this.ratePerMs = ratePerSecond / 1000
    this.burst = burst > 0 ? burst : 1
    this.tokens = this.burst
    this.#last = now
  }

  static fromPolicy (spec: RateLimitPolicySpec): TokenBucket {
    const l = spec.local
    const rate = l.requestsPerUnit / UNIT_SECONDS[l.unit]
    return new TokenBucket(rate, l.burst ?? l.requestsPerUnit)
  }

  /** Take one token; false = over the limit (answer 429 MESH_ERR_RATE_LIMITED). */
  tryTake (now = coarseNow()): boolean {
    if (now > this.#last) {
      const t = this.tokens + (now - this.#last) * this.ratePerMs
      this.tokens = Math.min(t, this.burst)
      this.#last = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
