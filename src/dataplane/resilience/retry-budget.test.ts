import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DestinationPolicySpec } from '../../config/destination-policy.ts'
import { RetryBudget } from './retry-budget.ts'

test('allows minRetriesPerSecond × ttl retries with no traffic, then refuses', () => {
  const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 })
  let ok = 0
  for (let i = 0; i < 150; i++) if (b.tryWithdraw(1000)) ok++
  assert.equal(ok, 100)
})

test('allows ratio × requests retries on top of the reserve', () => {
  const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, ttlMs: 10_000 })
  for (let i = 0; i < 100; i++) b.recordRequest(5000)
  assert.equal(b.available(5000), 20)
  let ok = 0
  for (let i = 0; i < 50; i++) if (b.tryWithdraw(5000)) ok++
  assert.equal(ok, 20)
  assert.equal(b.available(5000), 0)
})

test('requests and retries leave the window after ttl, slot by slot', () => {
  const b = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, ttlMs: 10_000 })
  for (let i = 0; i < 10; i++) b.recordRequest(0) // slot 0
  for (let i = 0; i < 10; i++) b.recordRequest(5000) // slot 5
  assert.equal(b.available(9999), 20)
  assert.equal(b.available(10_000), 10, 'slot 0 expired')
  for (let i = 0; i < 10; i++) assert.equal(b.tryWithdraw(10_000), true)
  assert.equal(b.tryWithdraw(10_000), false)
  assert.equal(b.available(15_000), 0, 'slot 5 requests gone, retries of slot 10 still count')
  assert.equal(b.available(20_000), 0)
  b.recordRequest(20_000)
  assert.equal(b.available(20_000), 1, 'retries of slot 10 expired too')
})

test('a long idle gap clears the whole window', () => {
  const b = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 1, ttlMs: 2000 })
  for (let i = 0; i < 100; i++) b.recordRequest(0)
  assert.equal(b.available(0), 52)
  assert.equal(b.available(1_000_000), 2)
})

test('fromPolicy reads the policy and defaults to Linkerd\'s budget', () => {
  const spec = DestinationPolicySpec.parse({ targetRef: { name: 'x' }, retryBudget: { ratio: 0.1, ttl: '5s', minRetriesPerSecond: 2 } })
  const b = RetryBudget.fromPolicy(spec.retryBudget)
  assert.equal(b.ttlMs, 5000)
  assert.equal(b.available(0), 10)
  const d = RetryBudget.fromPolicy(undefined)
  assert.equal(d.ratio, 0.2)
  assert.equal(d.available(0), 100)
})
