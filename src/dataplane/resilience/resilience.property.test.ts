/**
 * Invariants checked on random inputs (fast-check): a propagated budget never grows, a retry budget
 * never pays out more than its formula, a token bucket never serves more than burst + rate × time,
 * and no balancer ever returns an endpoint that is not available.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ep } from './balancer.case.test.ts'
import { createBalancer } from './balancer.ts'
import { computeDeadline, formatTimeoutHeader, parseTimeoutHeader } from './deadline.ts'
import { EndpointSet } from './endpoint-state.ts'
import { TokenBucket } from './rate-limiter.ts'
import { RetryBudget } from './retry-budget.ts'

test('a formatted budget parses back to at most the original and loses less than one unit of the finest unit that fits (< 0.001 % of it)', () => {
  fc.assert(fc.property(fc.double({ min: 0.001, max: 1e13, noNaN: true }), ms => {
    const back = parseTimeoutHeader(formatTimeoutHeader(ms))
    assert.ok(back !== null)
    assert.ok(back <= ms, `${ms} → ${back}`)
    assert.ok(ms - back <= ms * 1e-5 + 1e-6, `${ms} → ${back}`)
  }))
})

test('every well-formed header value parses and every other short string is ignored', () => {
  fc.assert(fc.property(fc.string({ maxLength: 10 }), v => {
    const ok = /^\d{1,8}[HMSmun]$/.test(v)
    assert.equal(parseTimeoutHeader(v) !== null, ok, JSON.stringify(v))
  }))
})

test('a hop never extends the deadline beyond its route timeout or the caller budget', () => {
  fc.assert(fc.property(fc.nat(1e9), fc.option(fc.nat(1e8)), fc.option(fc.nat(1e8)), (at, h, r) => {
    const d = computeDeadline({ receivedAt: at, headerMs: h, routeTimeoutMs: r })
    if (h !== null) assert.ok(d <= at + h)
    if (r !== null && r > 0) assert.ok(d <= at + r)
  }))
})

test('a retry budget grants a retry exactly when the window has room for it under ratio × requests + reserve', () => {
  const op = fc.record({ dt: fc.nat(700), kind: fc.constantFrom('req', 'retry') })
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), fc.double({ min: 0, max: 2, noNaN: true }), fc.nat(5), (ops, ratio, minPerSec) => {
    const ttlMs = 2000
    const b = new RetryBudget({ ratio, minRetriesPerSecond: minPerSec, ttlMs })
    const slot = ttlMs / 10
    let t = 0
    const reqAt: number[] = []
    const retryAt: number[] = []
    for (const o of ops) {
      t += o.dt
      if (o.kind === 'req') { b.recordRequest(t); reqAt.push(t); continue }
      // The window is the current slot and the 9 before it.
      const from = (Math.floor(t / slot) - 9) * slot
      const reqs = reqAt.filter(x => x >= from).length
      const allowance = ratio * reqs + minPerSec * ttlMs / 1000
      const before = retryAt.filter(x => x >= from).length
      if (b.tryWithdraw(t)) {
        retryAt.push(t)
        // (Later, requests leaving the window may put earlier grants above the allowance: that is fine.)
        assert.ok(before + 1 <= allowance + 1e-9, `granted at t=${t}: retries=${before + 1} reqs=${reqs}`)
      } else {
        assert.ok(before + 1 > allowance - 1e-9, `refused at t=${t}: retries=${before} reqs=${reqs}`)
      }
    }
  }))
})

test('a token bucket never serves more than burst + rate × elapsed', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.nat(50), { maxLength: 300 }), (rate, burst, gaps) => {
    const b = new TokenBucket(rate, burst, 0)
    let t = 0
    let served = 0
    for (const g of gaps) {
      t += g
      if (b.tryTake(t)) served++
      assert.ok(served <= burst + rate * t / 1000 + 1e-9)
    }
  }))
})

test('no balancer returns an unavailable endpoint, and each returns one whenever one is available', () => {
  const state = fc.record({ ejected: fc.boolean(), unhealthy: fc.boolean(), inflight: fc.nat(20), latency: fc.nat(500) })
  fc.assert(fc.property(fc.constantFrom('RoundRobin', 'LeastRequest', 'PeakEWMA' as const), fc.array(state, { maxLength: 12 }), fc.nat(12),
    (type, specs, exIndex) => {
      const set = new EndpointSet(specs.map((_, i) => ep(`e${i}`)), 0)
      specs.forEach((s, i) => {
        const e = set.states[i]
        e.observeLatency(s.latency, 0)
        for (let k = 0; k < s.inflight; k++) e.onStart()
        if (s.ejected) e.ejectedUntil = 2000
        if (s.unhealthy) e.setProbeHealthy(false)
      })
      const available = set.states.filter(e => e.isAvailable(1000))
      const exclude = set.states[exIndex] ?? null
      const lb = createBalancer(type)
      for (let k = 0; k < 20; k++) {
        const p = lb.pick(set.states, 1000, exclude)
        if (available.length === 0) { assert.equal(p, null); continue }
        assert.ok(p?.isAvailable(1000))
        if (available.length > 1 || available[0] !== exclude) assert.notEqual(p, exclude)
      }
    }))
})
