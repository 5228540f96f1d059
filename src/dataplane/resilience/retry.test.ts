import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HTTPRoute } from '../../config/http-route.ts'
import { backoffMs, compileRetryPolicy, isRetryable, type RetryOutcome, type RetryPolicy, runWithRetries } from './retry.ts'
import { RetryBudget } from './retry-budget.ts'

function ruleOf (rule: Record<string, unknown>) {
  return HTTPRoute.parse({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r' },
    spec: { parentRefs: [{ name: 'reviews' }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }], ...rule }] }
  }).spec.rules[0]
}

function policy (retry: Record<string, unknown> = {}): RetryPolicy {
  return compileRetryPolicy(ruleOf({ retry: { backoff: '0ms', ...retry } }).retry)!
}

/** A fake clock that tries advance. */
function fakeClock (start = 1000) {
  const c = { t: start, now: () => c.t }
  return c
}

test('compiles the route retry block with Gateway API defaults', () => {
  const rule = ruleOf({ retry: {} })
  const p = compileRetryPolicy(rule.retry)!
  assert.equal(p.attempts, 2)
  assert.equal(p.backoffMs, 25)
  assert.equal(p.onConnectFailure, true)
  assert.deepEqual([502, 503, 504].map(c => p.codes[c]), [1, 1, 1])
  assert.equal(p.codes[500], 0)
})

test('no retry block or zero attempts compiles to no policy', () => {
  assert.equal(compileRetryPolicy(ruleOf({}).retry), null)
  assert.equal(compileRetryPolicy(ruleOf({ retry: { attempts: 0 } }).retry), null)
})

test('retries the configured codes, connect failures and resets, and per-try timeouts only with 504', () => {
  const p = policy({ codes: [503] })
  assert.equal(isRetryable(p, { status: 503 }), true)
  assert.equal(isRetryable(p, { status: 502 }), false)
  assert.equal(isRetryable(p, { status: 200 }), false)
  assert.equal(isRetryable(p, { connectFailure: true }), true)
  assert.equal(isRetryable(p, { reset: true }), true)
  assert.equal(isRetryable(p, { timedOut: true }), false)
  assert.equal(isRetryable(policy({ codes: [504] }), { timedOut: true }), true)
  const noConnect = policy({ onConnectFailure: false })
  assert.equal(isRetryable(noConnect, { connectFailure: true }), false)
  assert.equal(isRetryable(noConnect, { reset: true }), false)
})

test('backoff is fully jittered, grows exponentially and is capped at 10 × base', () => {
  assert.equal(backoffMs(1, 25, 0), 0)
  assert.equal(backoffMs(1, 25, 0.9999), 24)
  assert.equal(backoffMs(2, 25, 0.9999), 74)
  assert.equal(backoffMs(3, 25, 0.9999), 174)
  assert.equal(backoffMs(10, 25, 0.9999), 249)
  assert.equal(backoffMs(100, 25, 0.9999), 249)
  assert.equal(backoffMs(1, 0, 0.5), 0)
  for (let i = 0; i < 1000; i++) {
    const b = backoffMs(2, 10)
    assert.ok(b >= 0 && b < 30)
  }
})

test('retries a 503 until it succeeds', async () => {
  const answers = [503, 503, 200]
  const seen: number[] = []
  const r = await runWithRetries(async n => { seen.push(n); return { status: answers[n] } }, { policy: policy({ attempts: 3 }) })
  assert.equal(r.outcome.status, 200)
  assert.equal(r.tries, 3)
  assert.equal(r.stop, 'success')
  assert.deepEqual(seen, [0, 1, 2])
})

test('stops after the configured number of retries', async () => {
  let calls = 0
  const r = await runWithRetries(async () => { calls++; return { status: 503 } }, { policy: policy({ attempts: 2 }) })
  assert.equal(calls, 3)
  assert.equal(r.stop, 'attempts')
  assert.equal(r.outcome.status, 503)
})

test('does not retry an outcome the policy does not name', async () => {
  let calls = 0
  const r = await runWithRetries(async () => { calls++; return { status: 500 } }, { policy: policy() })
  assert.equal(calls, 1)
  assert.equal(r.stop, 'not-retryable')
  const none = await runWithRetries(async () => ({ status: 503 }), { policy: null })
  assert.equal(none.tries, 1)
})

test('stops retrying when the retry budget is empty', async () => {
  const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1000 }) // one retry per second
  const clock = fakeClock()
  let calls = 0
  const r1 = await runWithRetries(async () => { calls++; return { status: 503 } }, { policy: policy({ attempts: 5 }), budget, now: clock.now })
  assert.equal(calls, 2)
  assert.equal(r1.stop, 'budget')
  const r2 = await runWithRetries(async () => ({ status: 503 }), { policy: policy({ attempts: 5 }), budget, now: clock.now })
  assert.equal(r2.tries, 1)
  assert.equal(r2.stop, 'budget')
})

test('never starts a retry that cannot fit in the remaining deadline', async () => {
  const clock = fakeClock(1000)
  const remainingSeen: number[] = []
  const r = await runWithRetries<RetryOutcome>(async (_n, rem) => {
    remainingSeen.push(rem)
    clock.t += 60 // each try takes 60 ms
    return { status: 503 }
  }, { policy: policy({ attempts: 5 }), deadlineAt: 1150, now: clock.now, minTryMs: 10 })
  // tries at 1000 (150 left) and 1060 (90 left); at 1120 only 30 left ≥ 10 → third try; at 1180 none left.
  assert.deepEqual(remainingSeen, [150, 90, 30])
  assert.equal(r.stop, 'deadline')
})

test('does not withdraw from the budget for a retry the deadline forbids', async () => {
  const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 10_000 })
  const clock = fakeClock(0)
  const before = budget.available(0)
  await runWithRetries(async () => { clock.t += 100; return { status: 503 } }, { policy: policy(), budget, deadlineAt: 50, now: clock.now })
  assert.equal(budget.available(100), before)
})

test('a backoff that would cross the deadline stops the retries', async () => {
  const clock = fakeClock(0)
  let calls = 0
  const r = await runWithRetries(async () => { calls++; return { status: 503 } },
    { policy: policy({ backoff: '1s' }), deadlineAt: 500, now: clock.now, rand: () => 0.9 })
  assert.equal(calls, 1)
  assert.equal(r.stop, 'deadline')
})

test('waits the jittered backoff between tries', async () => {
  const t0 = performance.now()
  const r = await runWithRetries(async n => ({ status: n < 1 ? 503 : 200 }), { policy: policy({ backoff: '100ms' }), rand: () => 0.6 })
  assert.equal(r.tries, 2)
  assert.ok(performance.now() - t0 >= 55, 'waited ~60 ms')
})

test('throws MESH_ERR_DEADLINE_EXCEEDED when even the first try cannot start', async () => {
  let called = false
  await assert.rejects(
    runWithRetries(async () => { called = true; return { status: 200 } }, { policy: policy(), deadlineAt: 999, now: () => 1000 }),
    (err: { code?: string }) => err.code === 'MESH_ERR_DEADLINE_EXCEEDED'
  )
  assert.equal(called, false)
})

test('an error thrown by a try is not retried', async () => {
  let calls = 0
  await assert.rejects(runWithRetries(async () => { calls++; throw Object.assign(new Error('boom'), { code: 'X' }) }, { policy: policy() }),
    (err: { code?: string }) => err.code === 'X')
  assert.equal(calls, 1)
})

test('compiles gRPC retry names (Istio retryOn spelling) into a table indexed by grpc-status', () => {
  const p = compileRetryPolicy({ attempts: 2, backoff: '1ms', codes: [], onConnectFailure: true, grpcCodes: ['unavailable', 'cancelled'] })!
  assert.equal(p.grpcCodes![14], 1)
  assert.equal(p.grpcCodes![1], 1)
  assert.equal(p.grpcCodes![4], 0)
  assert.equal(p.grpcCodes![0], 0)
  assert.equal(compileRetryPolicy({ attempts: 2, backoff: '1ms', codes: [503], onConnectFailure: true })!.grpcCodes, null)
})
