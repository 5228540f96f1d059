import assert from 'node:assert/strict'
import { test } from 'node:test'
import { computeDeadline, formatTimeoutHeader, parseTimeoutHeader, remaining } from './deadline.ts'

test('parses every grpc-timeout unit into milliseconds', () => {
  assert.equal(parseTimeoutHeader('2H'), 7_200_000)
  assert.equal(parseTimeoutHeader('3M'), 180_000)
  assert.equal(parseTimeoutHeader('2S'), 2000)
  assert.equal(parseTimeoutHeader('250m'), 250)
  assert.equal(parseTimeoutHeader('1500u'), 1.5)
  assert.equal(parseTimeoutHeader('2000000n'), 2)
  assert.equal(parseTimeoutHeader('0m'), 0)
  assert.equal(parseTimeoutHeader('99999999m'), 99_999_999)
})

test('ignores malformed timeout headers', () => {
  for (const v of ['', 'm', '10', '123456789m', '10s', '-5m', ' 5m', '5 m', '1.5S', '5mm', 'abc', '١m']) {
    assert.equal(parseTimeoutHeader(v), null, JSON.stringify(v))
  }
  assert.equal(parseTimeoutHeader(undefined), null)
  assert.equal(parseTimeoutHeader(null), null)
})

test('formats a budget rounded down in the finest unit that fits 8 digits', () => {
  assert.equal(formatTimeoutHeader(1234.9), '1234900u')
  assert.equal(formatTimeoutHeader(0.25), '250000n')
  assert.equal(formatTimeoutHeader(99.9999999), '99999999n')
  assert.equal(formatTimeoutHeader(250_000), '250000m')
  assert.equal(formatTimeoutHeader(0), '0n')
  assert.equal(formatTimeoutHeader(-3), '0n')
  assert.equal(formatTimeoutHeader(200_000_000), '200000S')
  assert.equal(formatTimeoutHeader(Infinity), '99999999H')
  for (const ms of [1, 7.7, 999, 65_000, 123_456_789_000]) {
    const back = parseTimeoutHeader(formatTimeoutHeader(ms))!
    assert.ok(back <= ms && back > ms * 0.99 - 1, `${ms} → ${formatTimeoutHeader(ms)} → ${back}`)
  }
})

test('the deadline is the shorter of the caller budget and the route timeout, minus the offset', () => {
  assert.equal(computeDeadline({ receivedAt: 1000, headerMs: 300, routeTimeoutMs: 2000 }), 1299)
  assert.equal(computeDeadline({ receivedAt: 1000, headerMs: 5000, routeTimeoutMs: 2000 }), 2999, 'a caller cannot extend the route timeout')
  assert.equal(computeDeadline({ receivedAt: 1000, headerMs: 300, routeTimeoutMs: 2000, offsetMs: 5 }), 1295)
  assert.equal(computeDeadline({ receivedAt: 1000, headerMs: null, routeTimeoutMs: 2000 }), 2999)
  assert.equal(computeDeadline({ receivedAt: 1000, headerMs: 40 }), 1039)
  assert.equal(computeDeadline({ receivedAt: 1000 }), Infinity)
  assert.equal(computeDeadline({ receivedAt: 1000, routeTimeoutMs: 0 }), Infinity, 'timeout 0 = none (Gateway API)')
})

test('a zero budget from the caller is already spent', () => {
  const d = computeDeadline({ receivedAt: 1000, headerMs: parseTimeoutHeader('0m'), routeTimeoutMs: 2000 })
  assert.ok(remaining(d, 1000) <= 0)
})

test('remaining is the time left before the deadline, Infinity without one', () => {
  assert.equal(remaining(1500, 1200), 300)
  assert.equal(remaining(Infinity, 1200), Infinity)
  assert.ok(remaining(1000, 1200) < 0)
})
