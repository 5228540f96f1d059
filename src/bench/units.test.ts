import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseDurationMs, parseHeaders, parseIntList, parseRate } from './units.ts'

test('durations accept ms, s, m and bare seconds', () => {
  assert.equal(parseDurationMs('500ms', '--d'), 500)
  assert.equal(parseDurationMs('2s', '--d'), 2000)
  assert.equal(parseDurationMs('1.5', '--d'), 1500)
  assert.equal(parseDurationMs('1m', '--d'), 60_000)
  assert.throws(() => parseDurationMs('soon', '--d'), { code: 'MESH_ERR_BENCH_OPTION_INVALID' })
})

test('rates: numbers ≥ 0, "max" means closed loop, the rest is rejected', () => {
  assert.equal(parseRate('1000'), 1000)
  assert.equal(parseRate('max'), 0)
  for (const bad of ['-5', 'fast', '', 'NaN', 'Infinity']) assert.throws(() => parseRate(bad), { code: 'MESH_ERR_BENCH_OPTION_INVALID' }, bad)
})

test('headers and lists', () => {
  assert.deepEqual(parseHeaders(['X-A: 1', 'content-type: text/plain']), { 'X-A': '1', 'content-type': 'text/plain' })
  assert.throws(() => parseHeaders(['no colon']), { code: 'MESH_ERR_BENCH_OPTION_INVALID' })
  assert.deepEqual(parseIntList('8,16,32,100', '--sweep'), [8, 16, 32, 100])
  assert.throws(() => parseIntList('8,x', '--sweep'), { code: 'MESH_ERR_BENCH_OPTION_INVALID' })
})
