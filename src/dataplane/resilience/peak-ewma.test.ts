import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ep, runBalancerSuite } from './balancer.case.test.ts'
import { EndpointSet } from './endpoint-state.ts'
import { PeakEwmaBalancer } from './peak-ewma.ts'

runBalancerSuite('PeakEWMA', () => new PeakEwmaBalancer())

test('peak EWMA avoids an endpoint after it answered slowly', () => {
  const s = new EndpointSet([ep('slow'), ep('fast1'), ep('fast2')], 0)
  const t = 1000
  s.get('slow')!.end(200, false, 250, t)
  s.get('fast1')!.end(200, false, 2, t)
  s.get('fast2')!.end(200, false, 2, t)
  const lb = new PeakEwmaBalancer()
  let slow = 0
  for (let i = 0; i < 3000; i++) if (lb.pick(s.states, t)!.id === 'slow') slow++
  assert.equal(slow, 0)
})

test('peak EWMA sends traffic to a slower endpoint once the fast one has enough requests in flight', () => {
  const s = new EndpointSet([ep('slow'), ep('fast')], 0)
  const slow = s.get('slow')!
  const fast = s.get('fast')!
  for (let t = 0; t <= 60_000; t += 1000) {
    slow.end(200, false, 60, t)
    fast.end(200, false, 10, t)
  }
  assert.ok(fast.ewmaMs < 15, `fast ewma ${fast.ewmaMs}`)
  assert.equal(slow.ewmaMs, 60)
  const lb = new PeakEwmaBalancer()
  assert.equal(lb.pick(s.states, 60_000)!.id, 'fast', 'idle: the fast one (cost ~10 vs 60)')
  for (let i = 0; i < 20; i++) fast.onStart()
  assert.equal(lb.pick(s.states, 60_000)!.id, 'slow', 'cost of fast ~10 × 21 > 60 × 1')
})
