import assert from 'node:assert/strict'
import { test } from 'node:test'
import { needsNormalization, normalizeTarget, type PathNormalization } from './normalize.ts'

type Row = [input: string, NONE: string, BASE: string, MERGE_SLASHES: string, DECODE_AND_MERGE_SLASHES: string]
const R = 'REJECT'

// One row per input: what each mode makes of it ('REJECT' = 400 MESH_ERR_PATH_INVALID).
const TABLE: Row[] = [
  ['/productpage', '/productpage', '/productpage', '/productpage', '/productpage'],
  ['/api/v1/products/0?x=1&y=%2F', '/api/v1/products/0?x=1&y=%2F', '/api/v1/products/0?x=1&y=%2F', '/api/v1/products/0?x=1&y=%2F', '/api/v1/products/0?x=1&y=%2F'],
  // dot segments (RFC 3986 §5.2.4)
  ['/a/b/../c', '/a/b/../c', '/a/c', '/a/c', '/a/c'],
  ['/a/./b/.', '/a/./b/.', '/a/b/', '/a/b/', '/a/b/'],
  ['/../../admin', '/../../admin', '/admin', '/admin', '/admin'],
  ['/public/../admin', '/public/../admin', '/admin', '/admin', '/admin'],
  ['/a/..', '/a/..', '/', '/', '/'],
  ['/.well-known/x', '/.well-known/x', '/.well-known/x', '/.well-known/x', '/.well-known/x'],
  // decoded unreserved %xx, upper-cased others
  ['/%61dmin', '/%61dmin', '/admin', '/admin', '/admin'],
  ['/%41%44MIN%7e', '/%41%44MIN%7e', '/ADMIN~', '/ADMIN~', '/ADMIN~'],
  ['/public/%2e%2e/admin', '/public/%2e%2e/admin', '/admin', '/admin', '/admin'],
  ['/public/%2E%2E%2Fadmin', '/public/%2E%2E%2Fadmin', '/public/..%2Fadmin', '/public/..%2Fadmin', '/admin'],
  ['/a%20b/%c3%a9', '/a%20b/%c3%a9', '/a%20b/%C3%A9', '/a%20b/%C3%A9', '/a%20b/%C3%A9'],
  // merged slashes (CVE-2021-31920)
  ['//admin', '//admin', '//admin', '/admin', '/admin'],
  ['/admin//secrets///x', '/admin//secrets///x', '/admin//secrets///x', '/admin/secrets/x', '/admin/secrets/x'],
  ['/a/..//admin', '/a/..//admin', '//admin', '/admin', '/admin'],
  // escaped slash and backslash (CVE-2021-31920)
  ['/admin%2Fsecrets', '/admin%2Fsecrets', '/admin%2Fsecrets', '/admin%2Fsecrets', '/admin/secrets'],
  ['/admin%2fsecrets', '/admin%2fsecrets', '/admin%2Fsecrets', '/admin%2Fsecrets', '/admin/secrets'],
  ['/%2Fadmin', '/%2Fadmin', '/%2Fadmin', '/%2Fadmin', '/admin'],
  ['/admin%5Csecrets', '/admin%5Csecrets', '/admin%5Csecrets', '/admin%5Csecrets', '/admin/secrets'],
  ['/public\\..\\admin', '/public\\..\\admin', '/admin', '/admin', '/admin'],
  // fragments (CVE-2021-39156) and NUL are refused in every mode
  ['/admin#x', R, R, R, R],
  ['/public#/../admin', R, R, R, R],
  ['/x?q=1#frag', R, R, R, R],
  ['/admin%00.png', R, R, R, R],
  ['/admin\u0000', R, R, R, R],
  // malformed percent-encoding
  ['/a%zz', R, R, R, R],
  ['/a%4', R, R, R, R],
  ['/a%', R, R, R, R],
  ['*', '*', '*', '*', '*']
]
const MODES: PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']

for (const [input, ...expected] of TABLE) {
  test(`normalizes ${JSON.stringify(input)} per mode`, () => {
    MODES.forEach((mode, i) => {
      const got = normalizeTarget(input, mode)
      const shown = typeof got === 'string' ? got : R
      assert.equal(shown, expected[i], `${mode}: ${JSON.stringify(input)} → ${JSON.stringify(got)}`)
    })
  })
}

test('the fast check lets plain paths through untouched (the same string, no allocation)', () => {
  for (const p of ['/productpage', '/api/v1/products/0?x=1', '/a/b.c/d', '/reviews/0?a=b/c']) {
    assert.equal(needsNormalization(p), false, p)
    assert.equal(normalizeTarget(p, 'DECODE_AND_MERGE_SLASHES'), p)
  }
  for (const p of ['/a%20', '//a', '/./a', '/a\\b', '/a#b', '/?q#', '/?q\u0000']) assert.equal(needsNormalization(p), true, p)
})

test('normalizing is idempotent: a normalized path normalizes to itself', () => {
  for (const [input] of TABLE) {
    for (const mode of MODES.slice(1)) {
      const once = normalizeTarget(input, mode)
      if (typeof once !== 'string') continue
      assert.equal(normalizeTarget(once, mode), once, `${mode}: ${input}`)
    }
  }
})
