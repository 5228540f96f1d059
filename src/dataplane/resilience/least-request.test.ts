import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ep, runBalancerSuite } from './balancer.case.test.ts'
import { EndpointSet } from './endpoint-state.ts'
import { LeastRequestBalancer } from './least-request.ts'

runBalancerSuite('LeastRequest', () => new LeastRequestBalancer())

test('least request never picks the most loaded endpoint and favours idle ones', () => {
  const s = new EndpointSet([ep('busy'), ep('some'), ep('idle')])
  for (let i = 0; i < 20; i++) s.get('busy')!.onStart()
  for (let i = 0; i < 5; i++) s.get('some')!.onStart()
  const lb = new LeastRequestBalancer()
  const counts: Record<string, number> = { busy: 0, some: 0, idle: 0 }
  for (let i = 0; i < 3000; i++) counts[lb.pick(s.states, 0)!.id]++
  assert.equal(counts.busy, 0, 'P2C draws two distinct endpoints, so the most loaded never wins')
  assert.ok(counts.idle > counts.some * 1.5, JSON.stringify(counts))
})

test('least request balances a stream of overlapping requests evenly', () => {
  const s = new EndpointSet([ep('a'), ep('b'), ep('c'), ep('d')])
  const lb = new LeastRequestBalancer()
  const open = []
  for (let i = 0; i < 400; i++) {
    const p = lb.pick(s.states, 0)!
    p.onStart()
    open.push(p)
  }
  const loads = s.states.map(x => x.inflight)
  assert.ok(Math.max(...loads) - Math.min(...loads) <= 3, `inflight ${loads}`)
})
