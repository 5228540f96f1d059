import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRewrite, pathHasPrefix, replacePrefixMatch } from './rewrite.ts'
import { req } from './test-fixtures.ts'

test('ReplacePrefixMatch follows the Gateway API table', () => {
  // [matched prefix, request path, replacement, expected] from the HTTPPathModifier documentation.
  const table: [string, string, string, string][] = [
    ['/foo', '/foo/bar', '/xyz', '/xyz/bar'],
    ['/foo', '/foo/bar', '/xyz/', '/xyz/bar'],
    ['/foo/', '/foo/bar', '/xyz', '/xyz/bar'],
    ['/foo/', '/foo/bar', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo', '/foo/', '/xyz', '/xyz/'],
    ['/foo/', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo/', '/xyz', '/xyz/'],
    ['/foo', '/foo/bar', '/', '/bar'],
    ['/foo', '/foo', '/', '/'],
    ['/foo', '/foo/', '/', '/'],
    ['/', '/foo', '/xyz', '/xyz/foo'],
    ['/', '/', '/xyz', '/xyz/']
  ]
  for (const [prefix, path, replacement, want] of table) {
    assert.equal(replacePrefixMatch(path, prefix, replacement), want, `${prefix} ${path} ${replacement}`)
  }
})

test('prefixes match on segment boundaries only', () => {
  assert.equal(pathHasPrefix('/foo', '/foo'), true)
  assert.equal(pathHasPrefix('/foo/bar', '/foo'), true)
  assert.equal(pathHasPrefix('/foo/bar', '/foo/'), true)
  assert.equal(pathHasPrefix('/foo', '/foo/'), true)
  assert.equal(pathHasPrefix('/foobar', '/foo'), false)
  assert.equal(pathHasPrefix('/anything', '/'), true)
})

test('rewrite keeps the rest of the path and the query', () => {
  const rw = compileRewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } }, ['/api'])
  assert.deepEqual(rw(req('shop', '/api/users/7?expand=1&x=%20')), { path: '/v2/users/7?expand=1&x=%20', authority: null })
  assert.deepEqual(rw(req('shop', '/api')), { path: '/v2', authority: null })
})

test('rewrite uses the longest prefix of the rule that matched', () => {
  const rw = compileRewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } }, ['/a', '/a/b'])
  assert.equal(rw(req('h', '/a/b/c')).path, '/new/c')
  assert.equal(rw(req('h', '/a/x')).path, '/new/x')
})

test('ReplaceFullPath replaces the path and keeps the query', () => {
  const rw = compileRewrite({ path: { type: 'ReplaceFullPath', replaceFullPath: '/health' } }, ['/'])
  assert.deepEqual(rw(req('h', '/some/thing?q=1')), { path: '/health?q=1', authority: null })
})

test('hostname rewrite changes the authority only', () => {
  const rw = compileRewrite({ hostname: 'internal.local' }, ['/'])
  assert.deepEqual(rw(req('h', '/x?y')), { path: '/x?y', authority: 'internal.local' })
})

test('a regex-matched rule keeps its path under ReplacePrefixMatch', () => {
  const rw = compileRewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } }, [])
  assert.equal(rw(req('h', '/v1/x')).path, '/v1/x')
})
