import assert from 'node:assert/strict'
import { test } from 'node:test'
import { applyHeaderOps, compileHeaderOps } from './header-ops.ts'

test('compiles nothing to null so the proxy skips it', () => {
  assert.equal(compileHeaderOps([]), null)
  assert.equal(compileHeaderOps([{}]), null)
  assert.equal(compileHeaderOps([{ set: [], add: [], remove: [] }]), null)
})

test('lower-cases names and keeps empty lists null', () => {
  assert.deepEqual(compileHeaderOps([{ set: [{ name: 'X-Env', value: 'Canary' }] }]), { set: ['x-env', 'Canary'], add: null, remove: null })
  assert.deepEqual(compileHeaderOps([{ remove: ['X-A'] }, { add: [{ name: 'X-B', value: '1' }] }]), { set: null, add: ['x-b', '1'], remove: ['x-a'] })
})

test('set replaces the first value, drops duplicates, keeps the order of others', () => {
  const ops = compileHeaderOps([{ set: [{ name: 'X-Env', value: 'new' }] }])!
  const h = ['a', '1', 'x-env', 'old1', 'b', '2', 'x-env', 'old2', 'c', '3']
  assert.equal(applyHeaderOps(ops, h), h, 'in place')
  assert.deepEqual(h, ['a', '1', 'x-env', 'new', 'b', '2', 'c', '3'])
})

test('set appends a missing header', () => {
  const ops = compileHeaderOps([{ set: [{ name: 'x-env', value: 'new' }] }])!
  assert.deepEqual(applyHeaderOps(ops, ['a', '1']), ['a', '1', 'x-env', 'new'])
})

test('add appends to an existing value with a comma, as Gateway API specifies', () => {
  const ops = compileHeaderOps([{ add: [{ name: 'My-Header', value: 'bar,baz' }] }])!
  assert.deepEqual(applyHeaderOps(ops, ['my-header', 'foo']), ['my-header', 'foo,bar,baz'])
  assert.deepEqual(applyHeaderOps(ops, ['other', 'x']), ['other', 'x', 'my-header', 'bar,baz'])
})

test('add keeps set-cookie as separate lines', () => {
  const ops = compileHeaderOps([{ add: [{ name: 'Set-Cookie', value: 'b=2' }] }])!
  assert.deepEqual(applyHeaderOps(ops, ['set-cookie', 'a=1']), ['set-cookie', 'a=1', 'set-cookie', 'b=2'])
})

test('remove drops every occurrence, case-insensitively', () => {
  const ops = compileHeaderOps([{ remove: ['X-Debug', 'X-Missing'] }])!
  assert.deepEqual(applyHeaderOps(ops, ['x-debug', '1', 'a', '1', 'x-debug', '2']), ['a', '1'])
})

test('applies remove, then set, then add', () => {
  const ops = compileHeaderOps([{ remove: ['x-a'], set: [{ name: 'x-a', value: 's' }], add: [{ name: 'x-a', value: 'n' }] }])!
  assert.deepEqual(applyHeaderOps(ops, ['x-a', 'old']), ['x-a', 's,n'])
})
