import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DestinationPolicySpec } from '../../config/destination-policy.ts'
import { ep } from './balancer.case.test.ts'
import { EndpointSet, type EndpointState } from './endpoint-state.ts'
import { countEjected, MAX_EJECTION_MS, OutlierDetector } from './outlier-detector.ts'

function detector (over: Partial<ConstructorParameters<typeof OutlierDetector>[0]> = {}): OutlierDetector {
  return new OutlierDetector({ consecutive5xx: 5, consecutiveConnectFailures: 2, intervalMs: 5000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 50, ...over })
}

function fail (od: OutlierDetector, e: EndpointState, set: EndpointSet, now: number, times: number, status = 503): boolean {
  let ejected = false
  for (let i = 0; i < times; i++) {
    e.onStart()
    e.end(status, false, 1, now)
    ejected = od.observe(e, set.states, now) || ejected
  }
  return ejected
}

test('ejects an endpoint after 5 consecutive 5xx and returns it after the ejection time', () => {
  const set = new EndpointSet([ep('a'), ep('b'), ep('c')])
  const a = set.get('a')!
  const od = detector()
  assert.equal(fail(od, a, set, 1000, 4), false)
  assert.equal(a.isAvailable(1000), true)
  assert.equal(fail(od, a, set, 1000, 1), true)
  assert.equal(a.isAvailable(1000), false)
  assert.equal(a.isAvailable(1000 + 15_000 - 1), false)
  assert.equal(a.isAvailable(1000 + 15_000), true)
  assert.equal(a.ejections, 1)
  assert.equal(a.consecutive5xx, 0, 'counters restart after an ejection')
})

test('a success between failures resets the consecutive 5xx count', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const a = set.get('a')!
  const od = detector()
  fail(od, a, set, 0, 4)
  fail(od, a, set, 0, 1, 200)
  assert.equal(fail(od, a, set, 0, 4), false)
  assert.equal(a.isAvailable(0), true)
})

test('4xx answers do not count toward ejection', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const od = detector()
  assert.equal(fail(od, set.get('a')!, set, 0, 20, 404), false)
})

test('ejects after consecutive connect failures', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const a = set.get('a')!
  const od = detector()
  a.onStart(); a.end(0, true, 1, 0)
  assert.equal(od.observe(a, set.states, 0), false)
  a.onStart(); a.end(0, true, 1, 0)
  assert.equal(od.observe(a, set.states, 0), true)
  assert.equal(a.isAvailable(0), false)
})

test('never ejects more than maxEjectionPercent of the set', () => {
  const set = new EndpointSet([ep('a'), ep('b'), ep('c'), ep('d')])
  const od = detector({ maxEjectionPercent: 50 })
  for (const e of set.states) fail(od, e, set, 0, 5)
  assert.equal(countEjected(set.states, 0), 2)
})

test('ejects one endpoint even when maxEjectionPercent rounds down to zero, if the set has more than one', () => {
  const set = new EndpointSet([ep('a'), ep('b'), ep('c')])
  const od = detector({ maxEjectionPercent: 10 })
  assert.equal(od.maxEjected(3), 1)
  for (const e of set.states) fail(od, e, set, 0, 5)
  assert.equal(countEjected(set.states, 0), 1)
})

test('never ejects the only endpoint of a set, and maxEjectionPercent 0 disables ejection', () => {
  const one = new EndpointSet([ep('a')])
  assert.equal(fail(detector(), one.get('a')!, one, 0, 10), false)
  const two = new EndpointSet([ep('a'), ep('b')])
  assert.equal(fail(detector({ maxEjectionPercent: 0 }), two.get('a')!, two, 0, 10), false)
})

test('an ejected endpoint that comes back frees its slot in the ejection cap', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const od = detector({ maxEjectionPercent: 50, baseEjectionTimeMs: 1000 })
  assert.equal(fail(od, set.get('a')!, set, 0, 5), true)
  assert.equal(fail(od, set.get('b')!, set, 0, 5), false, 'cap: one of two')
  assert.equal(fail(od, set.get('b')!, set, 1000, 5), true, 'a is back at 1000, so b may go')
})

test('ejection time grows with each ejection and is forgiven after the endpoint stays well', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const a = set.get('a')!
  const od = detector({ baseEjectionTimeMs: 1000, intervalMs: 5000 })
  fail(od, a, set, 0, 5)
  assert.equal(a.ejectedUntil, 1000)
  fail(od, a, set, 1000, 5)
  assert.equal(a.ejectedUntil, 1000 + 2000)
  fail(od, a, set, 3000, 5)
  assert.equal(a.ejectedUntil, 3000 + 3000)
  // Back at 6000; two intervals (10 s) well forgive two ejections: next is 3 - 2 + 1 = 2 × base.
  fail(od, a, set, 16_000, 5)
  assert.equal(a.ejectedUntil, 16_000 + 2000)
})

test('ejection time grows by baseEjectionTime per ejection up to the cap', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const a = set.get('a')!
  const od = detector({ baseEjectionTimeMs: 100_000 })
  const durations: number[] = []
  let t = 0
  for (let i = 0; i < 5; i++) {
    fail(od, a, set, t, 5)
    durations.push(a.ejectedUntil - t)
    t = a.ejectedUntil // fails again the moment it is back: nothing forgiven
  }
  assert.deepEqual(durations, [100_000, 200_000, MAX_EJECTION_MS, MAX_EJECTION_MS, MAX_EJECTION_MS])
})

test('onEject is called with the endpoint and the time it comes back', () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  const seen: Array<[string, number]> = []
  const od = detector({ onEject: (e, until) => { seen.push([e.id, until]) } })
  fail(od, set.get('b')!, set, 50, 5)
  assert.deepEqual(seen, [['b', 50 + 15_000]])
})

test('fromPolicy reads the policy durations and returns null without an outlierDetection block', () => {
  const spec = DestinationPolicySpec.parse({ targetRef: { name: 'reviews' }, outlierDetection: { baseEjectionTime: '30s', consecutive5xx: 3 } })
  const od = OutlierDetector.fromPolicy(spec.outlierDetection)!
  assert.equal(od.baseEjectionTimeMs, 30_000)
  assert.equal(od.intervalMs, 5000)
  assert.equal(od.consecutive5xx, 3)
  assert.equal(od.maxEjectionPercent, 50)
  assert.equal(OutlierDetector.fromPolicy(undefined), null)
})
