import assert from 'node:assert/strict'
import { test } from 'node:test'
import { absoluteAuthority, findHeadEnd, getHeader, MAX_HEAD_BYTES, originForm, parseRequestHead, parseResponseHead } from './head-parser.ts'

function req (text: string) {
  const buf = Buffer.from(text, 'latin1')
  const end = findHeadEnd(buf, 0)
  assert.ok(end > 0, 'head should be complete')
  return parseRequestHead(buf, 0, end)
}

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as { code: string }).code }
  return 'no error'
}

test('parses an origin-form request with lower-cased names and trimmed values', () => {
  const r = req('GET /a?b=1 HTTP/1.1\r\nHost: reviews:9080\r\nX-Thing:  v1 \r\nAccept: */*\r\n\r\n')
  assert.equal(r.method, 'GET')
  assert.equal(r.target, '/a?b=1')
  assert.equal(r.authority, 'reviews:9080')
  assert.deepEqual(r.headers, ['host', 'reviews:9080', 'x-thing', 'v1', 'accept', '*/*'])
  assert.equal(r.contentLength, -1)
  assert.equal(r.chunked, false)
  assert.equal(r.keepAlive, true)
})

test('absolute-form target: the authority comes from the URI', () => {
  const r = req('GET http://reviews:9080/x?y HTTP/1.1\r\nHost: other\r\n\r\n')
  assert.equal(r.authority, 'reviews:9080')
  assert.equal(originForm(r.target), '/x?y')
  assert.equal(originForm('http://reviews'), '/')
  assert.equal(originForm('http://reviews?q=1'), '/?q=1')
  assert.equal(absoluteAuthority('http://u@evil/x'), null)
})

test('content-length, chunked, connection close and HTTP/1.0 keep-alive', () => {
  assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n').contentLength, 12)
  assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n').chunked, true)
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').keepAlive, false)
  assert.equal(req('GET / HTTP/1.0\r\n\r\n').keepAlive, false)
  assert.equal(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true)
  assert.deepEqual(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: x-foo, keep-alive\r\n\r\n').connectionTokens, ['x-foo'])
})

test('refuses smuggling vectors with MESH_ERR_BAD_REQUEST', () => {
  const bad = [
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', // CL + TE
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', // duplicate CL
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n', // list CL
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n', // invalid CL
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', // TE other than chunked
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n', // space before colon
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', // obs-fold
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n', // bare CR
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\nX-B: c\r\n\r\n', // bare LF inside the head
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00\r\n\r\n', // NUL
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', // duplicate host
    'GET / HTTP/1.1\r\n\r\n', // no host
    'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    'G(T / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\n: empty\r\n\r\n'
  ]
  for (const b of bad) assert.equal(code(() => req(b)), 'MESH_ERR_BAD_REQUEST', JSON.stringify(b))
})

test('bare-LF heads are refused before the size limit', () => {
  assert.equal(code(() => findHeadEnd(Buffer.from('GET / HTTP/1.1\nHost: a\n\n'), 0)), 'MESH_ERR_BAD_REQUEST')
})

test('heads over 16 KiB are refused with MESH_ERR_HEADERS_TOO_LARGE, complete or not', () => {
  const big = 'GET / HTTP/1.1\r\nHost: a\r\nX-Big: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n'
  assert.equal(code(() => findHeadEnd(Buffer.from(big), 0)), 'MESH_ERR_HEADERS_TOO_LARGE')
  assert.equal(code(() => findHeadEnd(Buffer.from(big + '\r\n'), 0)), 'MESH_ERR_HEADERS_TOO_LARGE')
  assert.equal(findHeadEnd(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'), 0), -1)
})

test('parses response heads and flags hop-by-hop headers', () => {
  const text = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nabc'
  const buf = Buffer.from(text)
  const end = findHeadEnd(buf, 0)
  const r = parseResponseHead(buf, 0, end)
  assert.equal(r.status, 200)
  assert.equal(r.contentLength, 3)
  assert.equal(r.hasHopByHop, false)
  assert.equal(getHeader(r.headers, 'keep-alive'), 'timeout=5')
  const close = Buffer.from('HTTP/1.1 204\r\nConnection: close\r\n\r\n')
  const c = parseResponseHead(close, 0, findHeadEnd(close, 0))
  assert.equal(c.status, 204)
  assert.equal(c.keepAlive, false)
  assert.equal(c.hasHopByHop, true)
  const te = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n')
  assert.equal(code(() => parseResponseHead(te, 0, findHeadEnd(te, 0))), 'MESH_ERR_BAD_REQUEST')
  const bad = Buffer.from('HTTP/1.1 2x0 OK\r\n\r\n')
  assert.equal(code(() => parseResponseHead(bad, 0, findHeadEnd(bad, 0))), 'MESH_ERR_BAD_REQUEST')
})
