import assert from 'node:assert/strict'
import { test } from 'node:test'
import { h1ResponseHead, h2RequestFields } from '../upstream/h2-translate.ts'
import { H1ToH2Response, type H2ResponseSink } from './h1-to-h2.ts'
import { h2RequestHead } from './h2-request.ts'

function recorder (): H2ResponseSink & { calls: unknown[] } {
  const calls: unknown[] = []
  return {
    calls,
    informational: (status, fields) => { calls.push(['1xx', status, fields]) },
    head: (status, fields, endStream, mayHaveTrailers) => { calls.push(['head', status, fields, endStream, mayHaveTrailers]) },
    data: chunk => { calls.push(['data', chunk.toString()]); return true },
    end: trailers => { calls.push(['end', trailers]) }
  }
}

test('an h2 request head: host from :authority (else the default), cookies joined, te dropped, gRPC classified, trailers accepted', () => {
  const r = h2RequestHead('POST', '/pkg.Svc/M', 'svc:50051', ['content-type', 'application/grpc', 'te', 'trailers', 'cookie', 'a=1', 'cookie', 'b=2'], false, '')
  assert.deepEqual(r.headers, ['host', 'svc:50051', 'content-type', 'application/grpc', 'cookie', 'a=1; b=2'])
  assert.equal(r.grpc, true)
  assert.equal(r.chunked, true, 'no content-length: the body is chunk-coded inside the proxy')
  assert.equal(r.teTrailers, true)
  const t = h2RequestHead('GET', '/', '', [], true, 'tunnel-target:80')
  assert.equal(t.authority, 'tunnel-target:80')
  assert.equal(t.chunked, false)
})

test('HTTP/1.1 response bytes become h2: 1xx, then a chunked body with its trailers', () => {
  const sink = recorder()
  const out = new H1ToH2Response(sink, false)
  out.write(Buffer.from('HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n5\r\nhel', 'latin1'))
  out.write(Buffer.from('lo\r\n0\r\ngrpc-status: 0\r\n\r\n', 'latin1'))
  out.end()
  assert.deepEqual(sink.calls, [
    ['1xx', 103, ['link', '</a>']],
    ['head', 200, ['content-type', 'application/grpc'], false, true],
    ['data', 'hel'], ['data', 'lo'],
    ['end', ['grpc-status', '0']]
  ])
})

test('a head with content-length 0 is a trailers-only h2 response (HEADERS with END_STREAM)', () => {
  const sink = recorder()
  new H1ToH2Response(sink, false).write(Buffer.from('HTTP/1.1 200 OK\r\ngrpc-status: 14\r\ncontent-length: 0\r\n\r\n', 'latin1'))
  assert.deepEqual(sink.calls, [['head', 200, ['grpc-status', '14', 'content-length', '0'], true, false]])
})

test('outgoing request fields for h2: host → :authority, hop-by-hop and Connection-named fields dropped, te: trailers and extra lines kept', () => {
  const f = h2RequestFields({
    method: 'POST', path: '/x', headers: ['host', 'svc', 'connection', 'x-hop', 'x-hop', '1', 'keep-alive', 'timeout=5', 'a', 'b'],
    contentLength: 3, chunked: false, connectionTokens: ['x-hop'], extra: 'meshwork-timeout: 100m\r\ngrpc-timeout: 100m\r\n', acceptsTrailers: true, captureTrailers: true
  })
  assert.equal(f.authority, 'svc')
  assert.deepEqual(f.fields, ['a', 'b', 'content-length', '3', 'te', 'trailers', 'meshwork-timeout', '100m', 'grpc-timeout', '100m'])
})

test('an h2 response head as HTTP/1.1: no length → chunked, END_STREAM → length 0 (gRPC status stays in the head)', () => {
  const chunked = h1ResponseHead(200, ['content-type', 'application/grpc'], false, false)
  assert.equal(chunked.chunked, true)
  const trailersOnly = h1ResponseHead(200, ['grpc-status', '7'], true, false)
  assert.equal(trailersOnly.chunked, false)
  assert.equal(trailersOnly.contentLength, 0)
  assert.deepEqual(trailersOnly.headers, ['grpc-status', '7'])
})
