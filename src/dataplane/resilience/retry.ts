/**
 * Retry policy of a route rule (Gateway API GEP-1731 `retry`): the one implementation, compiled by the router
 * (`compile-rule.ts`) and applied by the proxy's exchange (`filters/exchange.ts`) with `isRetryableParts`
 * and `backoffMs`; `runWithRetries` is the same rules as a promise loop for code off the request path.
 *
 * `attempts` is the number of *retries* (GEP-1731: "maximum number of times an individual request …
 * should be retried"), so attempts: 2 means up to 3 tries.
 * Backoff is exponential with full jitter (Envoy, AWS "full jitter"): retry n waits a uniform random
 * time in [0, min(10 × base, base × (2ⁿ − 1))). GEP-1731 calls `backoff` a minimum; like Envoy we treat
 * it as the base interval, so a wait can be shorter than `backoff`.
 * The per-try timeout (`timeouts.backendRequest`, GEP-1742) belongs to the rule, not to this policy.
 */
import { parseDuration } from '../../config/duration.ts'
import type { RouteRule } from '../../config/http-route.ts'
import { DeadlineExceededError } from '../../errors.ts'
import { GRPC_STATUS_NAMES } from '../grpc/status.ts'
import { now as coarseNow } from './clock.ts'
import type { RetryBudget } from './retry-budget.ts'

type RetrySpec = NonNullable<RouteRule['retry']>

export interface RetryPolicy {
  /** Retries after the first try (Gateway API `attempts`). */
  readonly attempts: number
  /** Base interval of the backoff. */
  readonly backoffMs: number
  /** `codes[status] === 1` when that response status is retried. Perf: a flat table indexed by status (0–599). */
  readonly codes: Uint8Array
  /** Retry connect failures and resets before any response byte. */
  readonly onConnectFailure: boolean
  /**
   * `grpcCodes[status] === 1` when that gRPC status (0–16) of a trailers-only response is retried; null when the
   * route retries on no gRPC status. Perf: a flat table, like `codes`.
   */
  readonly grpcCodes: Uint8Array | null
}

/** What one try produced, as far as retrying is concerned. */
export interface RetryOutcome {
  status?: number
  connectFailure?: boolean
  /** Reset/closed before any response byte. */
  reset?: boolean
  /** The per-try timeout fired. */
  timedOut?: boolean
}

/**
 * Compile once per snapshot. Returns null when the rule has no `retry` block or 0 attempts.
 * @example const policy = compileRetryPolicy(rule.retry)
 */
export function compileRetryPolicy (retry: RetrySpec | undefined): RetryPolicy | null {
  if (retry === undefined || retry.attempts <= 0) return null
  const codes = new Uint8Array(600)
  for (const c of retry.codes) if (c >= 400 && c <= 599) codes[c] = 1
  let grpcCodes: Uint8Array | null = null
  if (retry.grpcCodes !== undefined && retry.grpcCodes.length > 0) {
    grpcCodes = new Uint8Array(17)
    for (const name of retry.grpcCodes) grpcCodes[GRPC_STATUS_NAMES.indexOf(name)] = 1
  }
  return Object.freeze({
    attempts: retry.attempts,
    backoffMs: parseDuration(retry.backoff),
    codes,
    onConnectFailure: retry.onConnectFailure,
    grpcCodes
  })
}

/**
 * Whether an outcome may be retried under `policy`:
 * a status in `codes`; a connect failure or a reset before any response byte when `onConnectFailure`;
 * a per-try timeout when `codes` contains 504 (the proxy would answer it as a 504).
 * @example isRetryable(policy, { status: 503 }) === true
 */
export function isRetryable (policy: RetryPolicy, outcome: RetryOutcome): boolean {
  return isRetryableParts(policy, outcome.status ?? 0, outcome.connectFailure === true || outcome.reset === true, outcome.timedOut === true)
}

/** Positional form of `isRetryable`. Perf: no outcome object on the hot path. `status` 0 = no response. */
export function isRetryableParts (policy: RetryPolicy, status: number, connectFailureOrReset: boolean, timedOut: boolean): boolean {
  if (connectFailureOrReset) return policy.onConnectFailure
  if (timedOut) return policy.codes[504] === 1
  return status < 600 && policy.codes[status] === 1
}

/** Whether a trailers-only response's gRPC status (-1: none) is one the policy retries (`grpcCodes`). */
export function retriesGrpcStatus (policy: RetryPolicy, grpcStatus: number): boolean {
  return grpcStatus > 0 && policy.grpcCodes !== null && policy.grpcCodes[grpcStatus] === 1
}

/**
 * Wait before retry number `attempt` (1 = first retry): uniform in [0, min(10·base, base·(2^attempt − 1))).
 * @example backoffMs(1, 25) // 0–25 ms; backoffMs(3, 25) // 0–175 ms
 */
export function backoffMs (attempt: number, baseMs: number, rand: number = Math.random()): number {
  if (baseMs <= 0 || attempt <= 0) return 0
  const cap = 10 * baseMs
  const exp = attempt >= 30 ? cap : baseMs * (2 ** attempt - 1)
  return Math.floor(rand * Math.min(exp, cap))
}

export interface RunWithRetriesOptions {
  policy: RetryPolicy | null
  /** Withdrawn from for each retry (the caller deposits each request with `recordRequest`). */
  budget?: RetryBudget | null
  /** Absolute deadline on the `now` clock; Infinity/undefined = none. */
  deadlineAt?: number
  now?: () => number
  /** A retry is started only if at least this much time is left after its backoff (default 1 ms). */
  minTryMs?: number
  /** Injectable random source for the backoff jitter. */
  rand?: () => number
}

export type RetryStop = 'success' | 'not-retryable' | 'attempts' | 'budget' | 'deadline'

export interface RetryResult<O extends RetryOutcome> {
  outcome: O
  /** Tries made (1 = no retry). */
  tries: number
  /** Why the loop stopped. */
  stop: RetryStop
}

/**
 * Run `attempt(n, remainingMs)` (n = 0 for the first try), retrying retryable outcomes while the policy,
 * the budget and the deadline allow. Never starts a try that cannot fit in the remaining deadline: the
 * backoff plus `minTryMs` must end before it. Throws DeadlineExceededError if even the first try cannot
 * start. Errors thrown by `attempt` are not retried (turn failures into outcomes to retry them).
 *
 * Not for the per-request hot path of the proxy (one promise per try and per backoff); the proxy's
 * pipeline can use `isRetryableParts`, `backoffMs` and the budget directly.
 *
 * @example
 * const r = await runWithRetries(n => callUpstream(n), { policy, budget, deadlineAt })
 */
export async function runWithRetries<O extends RetryOutcome> (
  attempt: (n: number, remainingMs: number) => Promise<O>,
  opts: RunWithRetriesOptions
): Promise<RetryResult<O>> {
  const clock = opts.now ?? coarseNow
  const deadlineAt = opts.deadlineAt ?? Infinity
  const minTryMs = opts.minTryMs ?? 1
  const rand = opts.rand ?? Math.random
  const policy = opts.policy
  let t = clock()
  if (deadlineAt - t < minTryMs) throw new DeadlineExceededError('deadline spent before the first try')
  let outcome = await attempt(0, deadlineAt - t)
  let tries = 1
  for (;;) {
    if (policy === null || !isRetryable(policy, outcome)) {
      return { outcome, tries, stop: isFailure(outcome) ? 'not-retryable' : 'success' }
    }
    if (tries > policy.attempts) return { outcome, tries, stop: 'attempts' }
    const wait = backoffMs(tries, policy.backoffMs, rand())
    t = clock()
    if (deadlineAt - t - wait < minTryMs) return { outcome, tries, stop: 'deadline' }
    if (opts.budget && !opts.budget.tryWithdraw(t)) return { outcome, tries, stop: 'budget' }
    if (wait > 0) await sleep(wait)
    t = clock()
    if (deadlineAt - t < minTryMs) return { outcome, tries, stop: 'deadline' }
    outcome = await attempt(tries, deadlineAt - t)
    tries++
  }
}

function isFailure (o: RetryOutcome): boolean {
  return o.connectFailure === true || o.reset === true || o.timedOut === true || (o.status !== undefined && o.status >= 500)
}

// A backoff is rare (only before a retry) and must keep the process alive like any pending request,
// so it uses a plain ref'd setTimeout rather than the unref'd coarse tick.
function sleep (ms: number): Promise<void> {
  return new Promise<void>(resolve => { setTimeout(resolve, ms) })
}
