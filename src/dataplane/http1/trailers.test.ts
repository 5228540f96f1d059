import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyFramer, MAX_TRAILER_BYTES, MODE_CHUNKED } from './body-framer.ts'
import { ChunkDecoder } from './chunk-codec.ts'
import { findHeadEnd, parseRequestHead } from './head-parser.ts'
import { serializeGrpcError } from './serialize.ts'
import { lastChunk, parseTrailerText, trailerValue } from './trailers.ts'
import { NoHealthyUpstreamError } from '../../errors.ts'

function req (text: string) {
  const buf = Buffer.from(text, 'latin1')
  return parseRequestHead(buf, 0, findHeadEnd(buf, 0))
}

test('the last chunk carries trailers; forbidden and pseudo fields are never written, CR/LF never inside a value', () => {
  assert.equal(lastChunk(null).toString(), '0\r\n\r\n')
  assert.equal(lastChunk(['grpc-status', '0', 'grpc-message', 'a\r\nb', 'content-length', '5', ':status', '200']).toString(),
    '0\r\ngrpc-status: 0\r\ngrpc-message: a b\r\n\r\n')
  assert.deepEqual(parseTrailerText('Grpc-Status: 14\r\ngrpc-message:  down \r\nhost: evil\r\nbad line\r\n'), ['grpc-status', '14', 'grpc-message', 'down'])
  assert.equal(trailerValue(['a', '1', 'b', '2'], 'b'), '2')
})

test('the body framer keeps the trailer section when asked (bytes still counted as body), and bounds it', () => {
  const f = new BodyFramer()
  f.reset(MODE_CHUNKED)
  f.captureTrailers = true
  const wire = Buffer.from('3\r\nabc\r\n0\r\ngrpc-status: 0\r\nx-a: 1\r\n\r\nNEXT', 'latin1')
  assert.equal(f.consume(wire, 0), wire.length - 4)
  assert.equal(f.done, true)
  assert.deepEqual(parseTrailerText(f.trailerText), ['grpc-status', '0', 'x-a', '1'])
  const big = new BodyFramer()
  big.reset(MODE_CHUNKED)
  const line = 'x-pad: ' + 'p'.repeat(4000) + '\r\n'
  const flood = Buffer.from('0\r\n' + line.repeat(Math.ceil(MAX_TRAILER_BYTES / line.length) + 1), 'latin1')
  assert.throws(() => big.consume(flood, 0), (err: { code: string }) => err.code === 'MESH_ERR_BAD_REQUEST')
})

test('the chunk decoder returns data and the trailers, split anywhere', () => {
  const wire = '4\r\ndata\r\n0\r\ngrpc-status: 5\r\ngrpc-message: gone\r\n\r\n'
  for (let cut = 1; cut < wire.length; cut++) {
    const d = new ChunkDecoder()
    let data = ''
    d.push(Buffer.from(wire.slice(0, cut), 'latin1'), b => { data += b.toString() })
    d.push(Buffer.from(wire.slice(cut), 'latin1'), b => { data += b.toString() })
    assert.equal(data, 'data')
    assert.deepEqual(d.trailers, ['grpc-status', '5', 'grpc-message', 'gone'], `cut at ${cut}`)
  }
})

test('request heads: gRPC classified from content-type, TE: trailers read, CONNECT takes authority-form only', () => {
  const g = req('POST /pkg.Svc/M HTTP/1.1\r\nHost: svc\r\nContent-Type: application/grpc+proto\r\nTE: trailers\r\n\r\n')
  assert.equal(g.grpc, true)
  assert.equal(g.teTrailers, true)
  const plain = req('GET / HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTE: gzip;q=0.5, trailers;q=1\r\n\r\n')
  assert.equal(plain.grpc, false)
  assert.equal(plain.teTrailers, true)
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n\r\n').teTrailers, false)
  const c = req('CONNECT reviews:9080 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n')
  assert.equal(c.authority, 'reviews:9080')
  for (const bad of ['CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n', 'CONNECT reviews HTTP/1.1\r\nHost: a\r\n\r\n', 'CONNECT u@h:1 HTTP/1.1\r\nHost: a\r\n\r\n']) {
    assert.throws(() => req(bad), (err: { code: string }) => err.code === 'MESH_ERR_BAD_REQUEST', bad)
  }
})

test('a gRPC error made by the proxy is HTTP 200 with grpc-status in the head and no body (trailers-only)', () => {
  const text = serializeGrpcError(new NoHealthyUpstreamError('echo has no available endpoint'), false).toString('latin1')
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  assert.match(text, /\r\ngrpc-status: 14\r\n/)
  assert.match(text, /\r\ngrpc-message: MESH_ERR_NO_HEALTHY_UPSTREAM: echo has no available endpoint\r\n/)
  assert.match(text, /\r\ncontent-length: 0\r\n\r\n$/)
})
