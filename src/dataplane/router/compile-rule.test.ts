import assert from 'node:assert/strict'
import { test } from 'node:test'
import { NoRouteError } from '../../errors.ts'
import { buildClusters } from './clusters.ts'
import { backendPick, compileRule, makePicker } from './compile-rule.ts'
import { route, snapshot } from './test-fixtures.ts'

const clusters = buildClusters(snapshot())

function ruleOf (rule: Record<string, unknown>) {
  const snap = snapshot([route('r', { parentRefs: [{ name: 'reviews' }], rules: [rule] })])
  return compileRule(snap.routes[0].spec.rules[0], 0, clusters)
}

test('a plain rule stores null for every absent feature', () => {
  const r = ruleOf({ backendRefs: [{ name: 'reviews' }] })
  assert.equal(r.requestHeaders, null)
  assert.equal(r.responseHeaders, null)
  assert.equal(r.redirect, null)
  assert.equal(r.rewrite, null)
  assert.equal(r.mirrors, null)
  assert.equal(r.timeoutMs, null)
  assert.equal(r.perTryTimeoutMs, null)
  assert.equal(r.retry, null)
  assert.deepEqual(r.pickBackend(), { cluster: 'reviews', service: 'reviews', version: null })
})

test('splits a subset backend into service and version', () => {
  const r = ruleOf({ backendRefs: [{ name: 'reviews-v2', port: 9080 }] })
  assert.deepEqual(r.pickBackend(), { cluster: 'reviews-v2', service: 'reviews', version: 'v2', port: 9080 })
})

test('weighted pick follows the cumulative weights at the boundaries', () => {
  const v1 = backendPick('reviews-v1', clusters)
  const v2 = backendPick('reviews-v2', clusters)
  const pick = makePicker([{ pick: v1, weight: 90 }, { pick: v2, weight: 10 }])
  assert.equal(pick(0), v1)
  assert.equal(pick(0.8999), v1)
  assert.equal(pick(0.9), v2)
  assert.equal(pick(0.99999), v2)
})

test('zero-weight backends are never picked', () => {
  const a = backendPick('reviews-v1', clusters)
  const zero = backendPick('reviews-v2', clusters)
  const b = backendPick('reviews-v3', clusters)
  for (const list of [
    [{ pick: zero, weight: 0 }, { pick: a, weight: 1 }, { pick: zero, weight: 0 }, { pick: b, weight: 1 }, { pick: zero, weight: 0 }],
    // Above 8 backends the picker switches to a binary search.
    Array.from({ length: 12 }, (_, i) => ({ pick: i % 3 === 0 ? a : zero, weight: i % 3 === 0 ? 5 : 0 }))
  ]) {
    const pick = makePicker(list)
    for (let i = 0; i < 1000; i++) assert.notEqual(pick(i / 1000), zero)
  }
})

test('the binary-search picker gives each backend its share', () => {
  const picks = Array.from({ length: 10 }, (_, i) => ({ pick: backendPick(`b${i}`, clusters), weight: i + 1 }))
  const pick = makePicker(picks)
  const counts = new Map<string, number>()
  const n = 5500
  for (let i = 0; i < n; i++) {
    const c = pick((i + 0.5) / n).cluster
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  // Deterministic rand sweep: backend i gets exactly (i + 1) / 55 of the range.
  for (let i = 0; i < 10; i++) assert.equal(counts.get(`b${i}`), (i + 1) * 100, `b${i}`)
})

test('the linear picker gives each backend its share', () => {
  const picks = Array.from({ length: 4 }, (_, i) => ({ pick: backendPick(`b${i}`, clusters), weight: i + 1 }))
  const pick = makePicker(picks)
  const counts = new Map<string, number>()
  for (let i = 0; i < 1000; i++) {
    const c = pick((i + 0.5) / 1000).cluster
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  assert.deepEqual([0, 1, 2, 3].map(i => counts.get(`b${i}`)), [100, 200, 300, 400])
})

test('a rule without live backends throws MESH_ERR_NO_ROUTE when picked', () => {
  const pick = makePicker([])
  assert.throws(() => pick(), (err: unknown) => err instanceof NoRouteError && err.code === 'MESH_ERR_NO_ROUTE')
})

test('compiles timeouts, and a zero timeout disables it', () => {
  const r = ruleOf({ backendRefs: [{ name: 'reviews' }], timeouts: { request: '1m30s', backendRequest: '250ms' } })
  assert.equal(r.timeoutMs, 90_000)
  assert.equal(r.perTryTimeoutMs, 250)
  const z = ruleOf({ backendRefs: [{ name: 'reviews' }], timeouts: { request: '0s' } })
  assert.equal(z.timeoutMs, null)
})

test('compiles retry codes into a lookup table', () => {
  const r = ruleOf({ backendRefs: [{ name: 'reviews' }], retry: { attempts: 3, backoff: '100ms', codes: [503, 429] } })
  assert.equal(r.retry!.attempts, 3)
  assert.equal(r.retry!.backoffMs, 100)
  assert.equal(r.retry!.onConnectFailure, true)
  assert.equal(r.retry!.codes[503], 1)
  assert.equal(r.retry!.codes[429], 1)
  assert.equal(r.retry!.codes[500], 0)
  assert.equal(ruleOf({ backendRefs: [{ name: 'reviews' }], retry: { attempts: 0 } }).retry, null)
})

test('compiles mirrors and skips a 0 % mirror', () => {
  const r = ruleOf({
    backendRefs: [{ name: 'reviews-v1' }],
    filters: [
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v2' }, percent: 10 } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews-v3' }, percent: 0 } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'ratings' } } }
    ]
  })
  assert.deepEqual(r.mirrors, [{ cluster: 'reviews-v2', percent: 10 }, { cluster: 'ratings', percent: 100 }])
})

test('compiles header modifiers for requests and responses separately', () => {
  const r = ruleOf({
    backendRefs: [{ name: 'reviews' }],
    filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Route', value: 'canary' }] } },
      { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['Server'] } }
    ]
  })
  assert.deepEqual(r.requestHeaders, { set: ['x-route', 'canary'], add: null, remove: null })
  assert.deepEqual(r.responseHeaders, { set: null, add: null, remove: ['server'] })
})

test('a redirect rule compiles a redirect using its match prefix', () => {
  const r = ruleOf({
    matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
    filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' }, statusCode: 301 } }]
  })
  assert.deepEqual(r.redirect!({ method: 'GET', authority: 'reviews', path: '/old/a', query: 'b=1', headers: [] }), { status: 301, location: 'http://reviews/new/a?b=1' })
})
