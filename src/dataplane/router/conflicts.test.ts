import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findRouteConflicts, matchKey } from './conflicts.ts'
import { parsedRoutes, route } from './test-fixtures.ts'

const svc = [{ kind: 'Service', name: 'reviews' }]
const to = [{ name: 'reviews' }]

test('two routes claiming the same match on one service conflict; the alphabetically first wins', () => {
  const conflicts = findRouteConflicts(parsedRoutes([
    route('zz-canary', { parentRefs: svc, rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/api/' }, headers: [{ name: 'X-User', value: 'a' }] }], backendRefs: to }] }),
    route('aa-main', { parentRefs: svc, rules: [{ matches: [{ headers: [{ name: 'x-user', value: 'a' }], path: { type: 'PathPrefix', value: '/api' } }], backendRefs: to }] })
  ]))
  assert.equal(conflicts.length, 1)
  const c = conflicts[0]
  assert.deepEqual(c.routes.map(r => r.name), ['aa-main', 'zz-canary'])
  assert.equal(c.parent, 'Service/reviews')
  assert.equal(c.hostname, null)
  assert.equal(c.path, 'spec.rules[0].matches[0]')
  assert.equal(typeof c.reason, 'string')
})

test('two rules of one route with the default match conflict', () => {
  const conflicts = findRouteConflicts(parsedRoutes([route('r', { parentRefs: svc, rules: [{ backendRefs: to }, { backendRefs: [{ name: 'ratings' }] }] })]))
  assert.equal(conflicts.length, 1)
  assert.deepEqual(conflicts[0].routes.map(r => [r.name, r.rule]), [['r', 0], ['r', 1]])
})

test('different matches, parents, ports or hostnames do not conflict', () => {
  const conflicts = findRouteConflicts(parsedRoutes([
    route('a', { parentRefs: svc, rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: to }] }),
    route('b', { parentRefs: svc, rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], backendRefs: to }] }),
    route('c', { parentRefs: svc, rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' }, method: 'GET' }], backendRefs: to }] }),
    route('d', { parentRefs: [{ kind: 'Service', name: 'ratings' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: to }] }),
    route('e', { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], hostnames: ['a.example.com'], rules: [{ backendRefs: to }] }),
    route('f', { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], hostnames: ['b.example.com'], rules: [{ backendRefs: to }] }),
    route('g', { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], rules: [{ backendRefs: to }] }),
    route('h', { parentRefs: [{ kind: 'Service', name: 'reviews', port: 9080 }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: to }] })
  ]))
  assert.deepEqual(conflicts, [])
})

test('gateway routes sharing a hostname conflict for that hostname', () => {
  const gw = [{ kind: 'Gateway', name: 'ingress' }]
  const conflicts = findRouteConflicts(parsedRoutes([
    route('a', { parentRefs: gw, hostnames: ['shop.example.com', 'x.example.com'], rules: [{ backendRefs: to }] }),
    route('b', { parentRefs: gw, hostnames: ['Shop.Example.com'], rules: [{ backendRefs: to }] })
  ]))
  assert.equal(conflicts.length, 1)
  assert.equal(conflicts[0].parent, 'Gateway/ingress')
  assert.equal(conflicts[0].hostname, 'shop.example.com')
})

test('match keys ignore header order, header-name case and a trailing slash', () => {
  assert.equal(
    matchKey({ path: { type: 'PathPrefix', value: '/a/' }, headers: [{ type: 'Exact', name: 'B', value: '2' }, { type: 'Exact', name: 'a', value: '1' }] }),
    matchKey({ path: { type: 'PathPrefix', value: '/a' }, headers: [{ type: 'Exact', name: 'a', value: '1' }, { type: 'Exact', name: 'b', value: '2' }] })
  )
  assert.notEqual(matchKey({ queryParams: [{ type: 'Exact', name: 'A', value: '1' }] }), matchKey({ queryParams: [{ type: 'Exact', name: 'a', value: '1' }] }))
  assert.notEqual(matchKey({ path: { type: 'Exact', value: '/a/' } }), matchKey({ path: { type: 'Exact', value: '/a' } }))
  assert.equal(matchKey({}), matchKey({ path: { type: 'PathPrefix', value: '/' } }))
})
