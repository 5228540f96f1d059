import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ep, runBalancerSuite } from './balancer.case.test.ts'
import { createBalancer } from './balancer.ts'
import { EndpointSet } from './endpoint-state.ts'
import { RoundRobinBalancer } from './round-robin.ts'

runBalancerSuite('RoundRobin', () => new RoundRobinBalancer())

test('round robin cycles through endpoints in order and skips an ejected one', () => {
  const s = new EndpointSet([ep('a'), ep('b'), ep('c')])
  const lb = new RoundRobinBalancer()
  assert.deepEqual(Array.from({ length: 6 }, () => lb.pick(s.states, 0)!.id), ['a', 'b', 'c', 'a', 'b', 'c'])
  s.get('b')!.ejectedUntil = 100
  assert.deepEqual(Array.from({ length: 4 }, () => lb.pick(s.states, 0)!.id), ['a', 'c', 'a', 'c'])
})

test('createBalancer builds the balancer named by the policy', () => {
  assert.ok(createBalancer('RoundRobin') instanceof RoundRobinBalancer)
  assert.equal(createBalancer('LeastRequest').constructor.name, 'LeastRequestBalancer')
  assert.equal(createBalancer('PeakEWMA').constructor.name, 'PeakEwmaBalancer')
  assert.equal(createBalancer().constructor.name, 'LeastRequestBalancer')
})
