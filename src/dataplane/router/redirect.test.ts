import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRedirect } from './redirect.ts'
import { req } from './test-fixtures.ts'

test('redirects to https on the default port and keeps path and query', () => {
  const r = compileRedirect({ scheme: 'https', statusCode: 301 }, ['/'])
  assert.deepEqual(r(req('shop.example.com:8080', '/cart?id=1')), { status: 301, location: 'https://shop.example.com/cart?id=1' })
})

test('keeps the request port when neither scheme nor port is configured', () => {
  const r = compileRedirect({ hostname: 'new.example.com', statusCode: 302 }, ['/'])
  assert.deepEqual(r(req('old.example.com:8080', '/a')), { status: 302, location: 'http://new.example.com:8080/a' })
  assert.deepEqual(r(req('old.example.com', '/a')), { status: 302, location: 'http://new.example.com/a' })
})

test('uses the configured port and leaves out well-known ports', () => {
  assert.equal(compileRedirect({ port: 8443, scheme: 'https', statusCode: 302 }, [])(req('h', '/')).location, 'https://h:8443/')
  assert.equal(compileRedirect({ port: 443, scheme: 'https', statusCode: 302 }, [])(req('h:80', '/')).location, 'https://h/')
  assert.equal(compileRedirect({ port: 80, statusCode: 302 }, [])(req('h:9000', '/')).location, 'http://h/')
})

test('an https request keeps its scheme and drops :443', () => {
  const r = compileRedirect({ hostname: 'b.example', statusCode: 308 }, [])
  assert.deepEqual(r(req('a.example:443', '/p', { scheme: 'https' })), { status: 308, location: 'https://b.example/p' })
})

test('ReplacePrefixMatch swaps the matched prefix', () => {
  const r = compileRedirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/shop' }, statusCode: 302 }, ['/store'])
  assert.equal(r(req('h', '/store/items/3?x=1')).location, 'http://h/shop/items/3?x=1')
})

test('ReplaceFullPath replaces the whole path', () => {
  const r = compileRedirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/login' }, statusCode: 303 }, ['/'])
  assert.deepEqual(r(req('h', '/private/x?next=1')), { status: 303, location: 'http://h/login?next=1' })
})

test('keeps an IPv6 literal host', () => {
  const r = compileRedirect({ scheme: 'https', statusCode: 302 }, [])
  assert.equal(r(req('[::1]:8080', '/')).location, 'https://[::1]/')
})
