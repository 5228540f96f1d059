import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DestinationPolicySpec } from '../../config/destination-policy.ts'
import { CircuitOpenError } from '../../errors.ts'
import { CircuitBreaker, circuitOpenError } from './circuit-breaker.ts'

test('refuses requests beyond maxRequests until one is released', () => {
  const cb = new CircuitBreaker({ maxRequests: 2 })
  assert.equal(cb.tryAcquire(), true)
  assert.equal(cb.tryAcquire(), true)
  assert.equal(cb.tryAcquire(), false)
  assert.equal(cb.overflowRequests, 1)
  cb.release()
  assert.equal(cb.tryAcquire(), true)
  assert.equal(cb.requests, 2)
})

test('limits connections and pending requests separately', () => {
  const cb = new CircuitBreaker({ maxConnections: 1, maxPendingRequests: 1 })
  assert.equal(cb.tryAcquireConnection(), true)
  assert.equal(cb.tryAcquireConnection(), false)
  assert.equal(cb.tryEnterPending(), true)
  assert.equal(cb.tryEnterPending(), false)
  assert.equal(cb.overflowConnections, 1)
  assert.equal(cb.overflowPending, 1)
  cb.leavePending()
  cb.releaseConnection()
  assert.equal(cb.tryAcquireConnection(), true)
  assert.equal(cb.tryEnterPending(), true)
})

test('maxPendingRequests 0 refuses every request that would wait for a connection', () => {
  const cb = new CircuitBreaker({ maxPendingRequests: 0 })
  assert.equal(cb.tryEnterPending(), false)
})

test('limits left out of the policy are unlimited', () => {
  const cb = CircuitBreaker.fromPolicy(undefined)
  for (let i = 0; i < 10_000; i++) assert.equal(cb.tryAcquire() && cb.tryAcquireConnection() && cb.tryEnterPending(), true)
  const fromSpec = CircuitBreaker.fromPolicy(DestinationPolicySpec.parse({ targetRef: { name: 'x' }, connectionPool: { maxRequests: 7 } }).connectionPool)
  assert.equal(fromSpec.maxRequests, 7)
  assert.equal(fromSpec.maxConnections, Infinity)
})

test('release without acquire does not make counters negative', () => {
  const cb = new CircuitBreaker({ maxRequests: 1 })
  cb.release(); cb.releaseConnection(); cb.leavePending()
  assert.equal(cb.requests + cb.connections + cb.pending, 0)
  assert.equal(cb.tryAcquire(), true)
  assert.equal(cb.tryAcquire(), false)
})

test('an overflow is answered with MESH_ERR_CIRCUIT_OPEN (503)', () => {
  const err = circuitOpenError('pending', 'reviews')
  assert.ok(err instanceof CircuitOpenError)
  assert.equal(err.code, 'MESH_ERR_CIRCUIT_OPEN')
  assert.equal(err.status, 503)
})

test('withLimits keeps the counters: what the old breaker holds counts against the new limits and releases into them', () => {
  const old = new CircuitBreaker({ maxRequests: 3 })
  assert.ok(old.tryAcquire())
  assert.ok(old.tryAcquire())
  const next = old.withLimits({ maxRequests: 2 })
  assert.equal(next.tryAcquire(), false, 'two in flight on the old breaker fill the new limit')
  old.release()
  assert.equal(next.requests, 1)
  assert.ok(next.tryAcquire())
  assert.equal(old.requests, 2, 'one counter set, seen from both')
})
