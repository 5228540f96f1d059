import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Endpoint } from '../../config/snapshot.ts'
import { DEFAULT_RTT_MS, EndpointSet, EndpointState } from './endpoint-state.ts'

function ep (id: string, extra: Partial<Endpoint> = {}): Endpoint {
  return { id, address: '127.0.0.1', port: 9000, tls: false, protocol: 'http1', healthy: true, ...extra }
}

test('EndpointSet.update keeps the state of endpoints whose id is unchanged and drops removed ones', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const a = set.get('a')!
  a.onStart()
  a.ejectedUntil = 1234
  set.update([ep('a', { port: 9100 }), ep('c')])
  assert.equal(set.get('a'), a)
  assert.equal(a.inflight, 1)
  assert.equal(a.ejectedUntil, 1234)
  assert.equal(a.endpoint.port, 9100)
  assert.equal(set.get('b'), undefined)
  assert.deepEqual(set.states.map(s => s.id), ['a', 'c'])
  assert.equal(set.size, 2)
})

test('EndpointSet.update replaces the states array so a pick in progress keeps its view', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const before = set.states
  set.update([ep('a')])
  assert.equal(before.length, 2)
  assert.equal(set.states.length, 1)
})

test('an endpoint is healthy only if both the snapshot and the health check say so', () => {
  const set = new EndpointSet([ep('a')])
  const a = set.get('a')!
  assert.equal(a.isAvailable(0), true)
  a.setProbeHealthy(false)
  assert.equal(a.healthy, false)
  set.update([ep('a')]) // snapshot swap must not forget the probe verdict
  assert.equal(a.healthy, false)
  a.setProbeHealthy(true)
  assert.equal(a.healthy, true)
  set.update([ep('a', { healthy: false })])
  assert.equal(a.isAvailable(0), false)
})

test('counts consecutive 5xx and connect failures and resets them on success', () => {
  const s = new EndpointState(ep('a'))
  for (let i = 0; i < 3; i++) { s.onStart(); s.onEnd({ status: 503, latencyMs: 1 }, i) }
  assert.equal(s.consecutive5xx, 3)
  assert.equal(s.inflight, 0)
  s.onStart(); s.onEnd({ connectFailure: true, latencyMs: 1 }, 5)
  s.onStart(); s.onEnd({ connectFailure: true, latencyMs: 1 }, 6)
  assert.equal(s.consecutiveConnectFailures, 2)
  assert.equal(s.consecutive5xx, 3, 'a connect failure says nothing about 5xx')
  s.onStart(); s.onEnd({ status: 404, latencyMs: 1 }, 7)
  assert.equal(s.consecutive5xx, 0)
  assert.equal(s.consecutiveConnectFailures, 0)
})

test('inflight never goes below zero on an unmatched end', () => {
  const s = new EndpointState(ep('a'))
  s.end(200, false, 1, 0)
  assert.equal(s.inflight, 0)
})

test('peak EWMA jumps to a slower sample at once and forgets it gradually', () => {
  const s = new EndpointState(ep('a'), 0)
  assert.equal(s.ewmaMs, DEFAULT_RTT_MS)
  s.observeLatency(200, 100)
  assert.equal(s.ewmaMs, 200)
  s.observeLatency(1, 1100) // 1 s later: weight of the new sample 1 - e^-0.1 ≈ 0.095
  assert.ok(s.ewmaMs < 200 && s.ewmaMs > 150, `ewma ${s.ewmaMs}`)
  for (let t = 2000; t <= 60_000; t += 1000) s.observeLatency(1, t)
  assert.ok(s.ewmaMs < 5, `ewma ${s.ewmaMs} after a minute of fast responses`)
})

test('cost grows with inflight requests and decays while idle', () => {
  const s = new EndpointState(ep('a'), 0)
  s.observeLatency(100, 0)
  assert.equal(s.cost(0), 100)
  s.onStart(); s.onStart()
  assert.equal(s.cost(0), 300)
  assert.ok(s.cost(10_000) < 300 * 0.4, 'one time constant later the estimate is e^-1 of it')
})

test('fast failures never lower the latency estimate (no black hole for peak EWMA)', () => {
  const s = new EndpointState(ep('a'), 0)
  s.observeLatency(40, 0)
  for (let t = 1000; t <= 30_000; t += 1000) s.end(503, false, 0.2, t)
  assert.equal(s.ewmaMs, 40)
  s.end(0, true, 0.1, 31_000)
  assert.equal(s.ewmaMs, 40)
  s.end(0, false, 0.1, 32_000) // reset before a response
  assert.equal(s.ewmaMs, 40)
  s.end(502, false, 90, 33_000) // a slow failure still raises it
  assert.equal(s.ewmaMs, 90)
  s.end(200, false, 1, 43_000) // a success lowers it as usual
  assert.ok(s.ewmaMs < 90)
})
