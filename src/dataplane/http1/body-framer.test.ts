import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyFramer, MODE_CHUNKED, MODE_CLOSE, MODE_LENGTH, MODE_NONE } from './body-framer.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as { code: string }).code }
  return 'no error'
}

test('content-length body ends after exactly n bytes, across chunks', () => {
  const f = new BodyFramer()
  f.reset(MODE_LENGTH, 5)
  assert.equal(f.consume(Buffer.from('abc'), 0), 3)
  assert.equal(f.done, false)
  assert.equal(f.consume(Buffer.from('xdeNEXT'), 1), 2)
  assert.equal(f.done, true)
  f.reset(MODE_LENGTH, 0)
  assert.equal(f.done, true)
  f.reset(MODE_NONE)
  assert.equal(f.consume(Buffer.from('x'), 0), 0)
  f.reset(MODE_CLOSE)
  assert.equal(f.consume(Buffer.from('xyz'), 0), 3)
  assert.equal(f.done, false)
})

test('chunked body with extensions and trailers, split at every byte', () => {
  const body = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n'
  const all = Buffer.from(body + 'GET /next')
  for (let split = 1; split < body.length; split++) {
    const f = new BodyFramer()
    f.reset(MODE_CHUNKED)
    const a = f.consume(all.subarray(0, split), 0)
    assert.equal(a, split)
    assert.equal(f.done, false)
    const rest = all.subarray(split)
    const b = f.consume(rest, 0)
    assert.equal(f.done, true, `split ${split}`)
    assert.equal(a + b, body.length)
  }
})

test('refuses bad chunk framing with MESH_ERR_BAD_REQUEST', () => {
  const bad = [
    'x\r\n', // not hex
    '\r\n', // empty size
    '-1\r\n',
    '1000000000000\r\n', // 13 hex digits
    '5\nhello\r\n', // bare LF after size
    '5\r\nhelloX\r\n', // data longer than size
    '5\r\nhello\n0\r\n\r\n', // bare LF after data
    '0\r\nX: y\n\r\n', // bare LF in trailer
    '0\r\n\n' // bare LF at the end
  ]
  for (const b of bad) {
    const f = new BodyFramer()
    f.reset(MODE_CHUNKED)
    assert.equal(code(() => f.consume(Buffer.from(b), 0)), 'MESH_ERR_BAD_REQUEST', JSON.stringify(b))
  }
})
