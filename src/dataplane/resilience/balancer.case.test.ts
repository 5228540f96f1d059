/**
 * Shared behaviour every balancer must have (hono `common.case.test.ts` style). Each balancer's own test
 * file calls `runBalancerSuite(name, make)`; this file runs no test by itself.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Balancer } from './balancer.ts'
import type { Endpoint } from '../../config/snapshot.ts'
import { EndpointSet, type EndpointState } from './endpoint-state.ts'

/** A plain endpoint for tests. */
export function ep (id: string, extra: Partial<Endpoint> = {}): Endpoint {
  return { id, address: '127.0.0.1', port: 9000, tls: false, protocol: 'http1', healthy: true, ...extra }
}

function setOf (n: number): EndpointSet {
  return new EndpointSet(Array.from({ length: n }, (_, i) => ep(`e${i}`)))
}

export function runBalancerSuite (name: string, make: () => Balancer): void {
  const NOW = 1_000_000

  test(`${name}: returns null for an empty set`, () => {
    assert.equal(make().pick([], NOW), null)
  })

  test(`${name}: returns the only endpoint of a one-endpoint set`, () => {
    const s = setOf(1)
    assert.equal(make().pick(s.states, NOW), s.states[0])
  })

  test(`${name}: returns null when every endpoint is ejected or unhealthy`, () => {
    const s = setOf(3)
    s.states[0].ejectedUntil = NOW + 1
    s.states[1].setProbeHealthy(false)
    s.states[2].ejectedUntil = NOW + 1000
    assert.equal(make().pick(s.states, NOW), null)
  })

  test(`${name}: never picks an ejected or unhealthy endpoint`, () => {
    const s = setOf(6)
    s.states[1].ejectedUntil = NOW + 1
    s.states[3].setProbeHealthy(false)
    s.states[4].ejectedUntil = NOW + 5000
    const lb = make()
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const p = lb.pick(s.states, NOW)
      assert.ok(p !== null)
      seen.add(p.id)
    }
    assert.deepEqual([...seen].sort(), ['e0', 'e2', 'e5'])
  })

  test(`${name}: picks an endpoint again once its ejection time has passed`, () => {
    const s = setOf(2)
    s.states[0].ejectedUntil = NOW + 10
    const lb = make()
    const seen = new Set<string>()
    for (let i = 0; i < 500; i++) seen.add(lb.pick(s.states, NOW + 10)!.id)
    assert.ok(seen.has('e0'))
  })

  test(`${name}: spreads equal load over every available endpoint`, () => {
    const s = setOf(4)
    const lb = make()
    const counts = new Map<string, number>()
    for (let i = 0; i < 4000; i++) {
      const p = lb.pick(s.states, NOW)!
      counts.set(p.id, (counts.get(p.id) ?? 0) + 1)
    }
    assert.equal(counts.size, 4)
    for (const [id, c] of counts) assert.ok(c > 500, `${id} got ${c} of 4000`)
  })

  test(`${name}: avoids the excluded endpoint when another is available`, () => {
    const s = setOf(3)
    const lb = make()
    const ex = s.states[1]
    for (let i = 0; i < 1000; i++) assert.notEqual(lb.pick(s.states, NOW, ex), ex)
  })

  test(`${name}: falls back to the excluded endpoint when it is the only available one`, () => {
    const s = setOf(3)
    s.states[0].ejectedUntil = NOW + 1
    s.states[2].setProbeHealthy(false)
    const only = s.states[1]
    assert.equal(make().pick(s.states, NOW, only), only)
  })

  test(`${name}: keeps working when the set shrinks or grows between picks`, () => {
    const lb = make()
    const big = setOf(5)
    for (let i = 0; i < 4; i++) lb.pick(big.states, NOW)
    const small: readonly EndpointState[] = big.states.slice(0, 2)
    for (let i = 0; i < 10; i++) {
      const p = lb.pick(small, NOW)
      assert.ok(p !== null && small.includes(p))
    }
    for (let i = 0; i < 10; i++) assert.ok(lb.pick(big.states, NOW) !== null)
  })
}
