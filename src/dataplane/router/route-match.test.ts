import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileMatch, headerValue, matchesRequest, queryParam } from './route-match.ts'
import { req } from './test-fixtures.ts'

test('PathPrefix matches on segment boundaries', () => {
  const m = compileMatch({ path: { type: 'PathPrefix', value: '/foo' } })
  assert.equal(matchesRequest(m, req('h', '/foo')), true)
  assert.equal(matchesRequest(m, req('h', '/foo/')), true)
  assert.equal(matchesRequest(m, req('h', '/foo/bar')), true)
  assert.equal(matchesRequest(m, req('h', '/foobar')), false)
  assert.equal(matchesRequest(m, req('h', '/fo')), false)
  const slash = compileMatch({ path: { type: 'PathPrefix', value: '/foo/' } })
  assert.equal(matchesRequest(slash, req('h', '/foo')), true)
  assert.equal(matchesRequest(slash, req('h', '/foobar')), false)
})

test('a missing path matches everything', () => {
  const m = compileMatch({})
  assert.equal(matchesRequest(m, req('h', '/')), true)
  assert.equal(matchesRequest(m, req('h', '/any/thing?x')), true)
})

test('Exact path ignores the query', () => {
  const m = compileMatch({ path: { type: 'Exact', value: '/login' } })
  assert.equal(matchesRequest(m, req('h', '/login?next=/')), true)
  assert.equal(matchesRequest(m, req('h', '/login/')), false)
})

test('regular expressions are anchored', () => {
  const m = compileMatch({ path: { type: 'RegularExpression', value: '/users/[0-9]+' } })
  assert.equal(matchesRequest(m, req('h', '/users/42')), true)
  assert.equal(matchesRequest(m, req('h', '/users/42/edit')), false)
  assert.equal(matchesRequest(m, req('h', '/x/users/42')), false)
  const alt = compileMatch({ path: { type: 'RegularExpression', value: '/a|/b' } })
  assert.equal(matchesRequest(alt, req('h', '/a/x')), false, 'alternation stays inside the anchors')
})

test('header names are case-insensitive, values exact', () => {
  const m = compileMatch({ headers: [{ type: 'Exact', name: 'End-User', value: 'jason' }] })
  assert.equal(matchesRequest(m, req('h', '/', { headers: ['end-user', 'jason'] })), true)
  assert.equal(matchesRequest(m, req('h', '/', { headers: ['end-user', 'Jason'] })), false)
  assert.equal(matchesRequest(m, req('h', '/')), false)
})

test('repeated request headers are matched joined with commas', () => {
  assert.equal(headerValue(['x', 'a', 'y', 'q', 'x', 'b'], 'x'), 'a,b')
  const m = compileMatch({ headers: [{ type: 'RegularExpression', name: 'x', value: 'a,.*' }] })
  assert.equal(matchesRequest(m, req('h', '/', { headers: ['x', 'a', 'x', 'b'] })), true)
})

test('only the first condition per header name counts', () => {
  const m = compileMatch({ headers: [{ type: 'Exact', name: 'x', value: '1' }, { type: 'Exact', name: 'X', value: '2' }] })
  assert.equal(m.headers!.length, 1)
  assert.equal(matchesRequest(m, req('h', '/', { headers: ['x', '1'] })), true)
})

test('method must be equal when set', () => {
  const m = compileMatch({ method: 'POST' })
  assert.equal(matchesRequest(m, req('h', '/', { method: 'POST' })), true)
  assert.equal(matchesRequest(m, req('h', '/', { method: 'GET' })), false)
})

test('query params: first value, decoded, names case-sensitive', () => {
  assert.equal(queryParam('a=1&b=2&a=3', 'a'), '1')
  assert.equal(queryParam('a=1&b=2', 'b'), '2')
  assert.equal(queryParam('flag&x=1', 'flag'), '')
  assert.equal(queryParam('q=hello%20world', 'q'), 'hello world')
  assert.equal(queryParam('q=a+b', 'q'), 'a b')
  assert.equal(queryParam('my%20key=v', 'my key'), 'v')
  assert.equal(queryParam('A=1', 'a'), undefined)
  assert.equal(queryParam('ab=1', 'a'), undefined)
  assert.equal(queryParam('', 'a'), undefined)
  assert.equal(queryParam('q=%E0%A4%A', 'q'), '%E0%A4%A', 'a bad escape is kept raw')
})

test('query param matches, exact and regex', () => {
  const m = compileMatch({ queryParams: [{ type: 'Exact', name: 'v', value: '2' }, { type: 'RegularExpression', name: 'id', value: '[0-9]+' }] })
  assert.equal(matchesRequest(m, req('h', '/?id=12&v=2')), true)
  assert.equal(matchesRequest(m, req('h', '/?id=12a&v=2')), false)
  assert.equal(matchesRequest(m, req('h', '/?id=12')), false)
})
