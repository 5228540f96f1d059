import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RateLimitPolicySpec } from '../../config/rate-limit-policy.ts'
import { TokenBucket } from './rate-limiter.ts'

test('serves a full burst at once and refuses the next request', () => {
  const b = new TokenBucket(10, 5, 0)
  for (let i = 0; i < 5; i++) assert.equal(b.tryTake(0), true)
  assert.equal(b.tryTake(0), false)
})

test('refills at the configured rate without exceeding the burst', () => {
  const b = new TokenBucket(10, 5, 0)
  for (let i = 0; i < 5; i++) b.tryTake(0)
  assert.equal(b.tryTake(50), false, 'half a token after 50 ms')
  assert.equal(b.tryTake(100), true, 'one token after 100 ms')
  assert.equal(b.tryTake(100), false)
  let n = 0
  while (b.tryTake(60_000)) n++
  assert.equal(n, 5)
})

test('a clock that goes backwards does not add or remove tokens', () => {
  const b = new TokenBucket(1, 1, 1000)
  assert.equal(b.tryTake(1000), true)
  assert.equal(b.tryTake(500), false)
  assert.equal(b.tryTake(2000), true)
})

test('fromPolicy converts per-minute limits and defaults the burst to requestsPerUnit', () => {
  const spec = RateLimitPolicySpec.parse({ targetRef: { name: 'ratings' }, local: { requestsPerUnit: 120, unit: 'minute' } })
  const b = TokenBucket.fromPolicy(spec)
  assert.equal(b.burst, 120)
  assert.equal(b.ratePerMs, 2 / 1000)
  const withBurst = TokenBucket.fromPolicy(RateLimitPolicySpec.parse({ targetRef: { name: 'r' }, local: { requestsPerUnit: 100, burst: 3 } }))
  assert.equal(withBurst.burst, 3)
})
