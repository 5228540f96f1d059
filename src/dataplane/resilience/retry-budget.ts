/**
 * Retry budget (Linkerd / Finagle): retries may add at most `ratio` of the requests seen in the last
 * `ttl`, plus a floor of `minRetriesPerSecond × ttl` so low-traffic services can still retry.
 *
 *   allowed retries in window = ratio × requests(window) + minRetriesPerSecond × ttlSeconds
 *
 * The window slides over BUCKETS slots of ttl/BUCKETS ms each (ring buffer of counters, running sums):
 *
 *   slot:   [ 0 ][ 1 ][ 2 ] … [ 9 ]      cursor = floor(now / slotMs) % BUCKETS
 *   on advance, every slot passed over is subtracted from the sums and zeroed.
 *
 * Only original requests are deposited (`recordRequest`, once per request, whether or not its route
 * retries); each retry withdraws one (`tryWithdraw`). Perf: fixed typed arrays, no allocation.
 */
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import { now as coarseNow } from './clock.ts'

const BUCKETS = 10

type RetryBudgetSpec = NonNullable<DestinationPolicy['spec']['retryBudget']>

export interface RetryBudgetOptions {
  ratio: number
  minRetriesPerSecond: number
  ttlMs: number
}

/** Linkerd's defaults: 20 % extra load, at least 10 retries per second, over 10 s. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = Object.freeze({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 })

/**
 * @example
 * const budget = RetryBudget.fromPolicy(policy?.spec.retryBudget)
 * budget.recordRequest()              // every request
 * if (budget.tryWithdraw()) retry()   // every retry
 */
export class RetryBudget {
  readonly ratio: number
  readonly reserve: number
  readonly ttlMs: number
  readonly slotMs: number
  readonly #requests = new Float64Array(BUCKETS)
  readonly #retries = new Float64Array(BUCKETS)
  #sumRequests = 0
  #sumRetries = 0
  /** Absolute slot number of the cursor (floor(now / slotMs)). */
  #slot = -1

  constructor (opts: RetryBudgetOptions = DEFAULT_RETRY_BUDGET) {
    this.ratio = opts.ratio
    this.ttlMs = opts.ttlMs > 0 ? opts.ttlMs : 1000
    this.slotMs = this.ttlMs / BUCKETS
    this.reserve = opts.minRetriesPerSecond * (this.ttlMs / 1000)
  }

  static fromPolicy (spec: RetryBudgetSpec | undefined): RetryBudget {
    if (spec === undefined) return new RetryBudget()
    return new RetryBudget({ ratio: spec.ratio, minRetriesPerSecond: spec.minRetriesPerSecond, ttlMs: parseDuration(spec.ttl) })
  }

  /** Deposit: one original request was sent. */
  recordRequest (now = coarseNow()): void {
    this.#advance(now)
    this.#requests[this.#slot % BUCKETS]++
    this.#sumRequests++
  }

  /** Withdraw one retry if the budget allows it. */
  tryWithdraw (now = coarseNow()): boolean {
    this.#advance(now)
    if (this.#sumRetries + 1 > this.ratio * this.#sumRequests + this.reserve) return false
    this.#retries[this.#slot % BUCKETS]++
    this.#sumRetries++
    return true
  }

  /** Retries still allowed in the current window (metrics, tests). */
  available (now = coarseNow()): number {
    this.#advance(now)
    const left = Math.floor(this.ratio * this.#sumRequests + this.reserve - this.#sumRetries)
    return Math.max(left, 0)
  }

  #advance (now: number): void {
    const slot = Math.floor(now / this.slotMs)
    if (slot <= this.#slot) return
    if (this.#slot < 0 || slot - this.#slot >= BUCKETS) {
      this.#requests.fill(0)
      this.#retries.fill(0)
      this.#sumRequests = 0
      this.#sumRetries = 0
    } else {
      for (let s = this.#slot + 1; s <= slot; s++) {
        const i = s % BUCKETS
        this.#sumRequests -= this.#requests[i]
        this.#sumRetries -= this.#retries[i]
        this.#requests[i] = 0
        this.#retries[i] = 0
      }
    }
    this.#slot = slot
  }
}
