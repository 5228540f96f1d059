// Our server role against real clients: node:http2 (nghttp2), curl (h2c prior knowledge and ALPN h2 over
// TLS), nghttp and h2load.
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { type EchoServer, runPeer, startEchoServer, testTls } from './testing.ts'

let plain: EchoServer
let secure: EchoServer
let sniffing: EchoServer
before(async () => {
  plain = await startEchoServer()
  secure = await startEchoServer({ tls: true })
  sniffing = await startEchoServer({ sniff: true })
})
after(async () => {
  await plain.close()
  await secure.close()
  await sniffing.close()
})

interface Reply { status: number, headers: http2.IncomingHttpHeaders, body: Buffer, trailers: http2.IncomingHttpHeaders | null, informational: number[] }

function call (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined })
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers))
    const out: Reply = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: null, informational: [] }
    const chunks: Buffer[] = []
    req.on('headers', h => out.informational.push(Number(h[':status'])))
    req.on('response', h => { out.status = Number(h[':status']); out.headers = h })
    req.on('trailers', t => { out.trailers = t })
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () => { out.body = Buffer.concat(chunks); resolve(out) })
    req.on('error', reject)
    if (body !== undefined) req.end(body)
    else if (trailers !== undefined) req.end()
  })
}

describe('server role ← node:http2 client', () => {
  test('h2c: GET, POST with a body echoed back, response trailers', async () => {
    const session = http2.connect(plain.url)
    try {
      const get = await call(session, { ':path': '/hello?x=1' })
      assert.equal(get.status, 200)
      assert.equal(get.headers['x-method'], 'GET')
      assert.equal(get.headers['x-path'], '/hello?x=1')
      assert.equal(get.trailers?.['x-trailer'], 'done')
      const big = Buffer.alloc(3 * 1024 * 1024, 7)
      const post = await call(session, { ':method': 'POST', ':path': '/echo', 'content-type': 'application/octet-stream' }, big)
      assert.equal(post.body.length, big.length)
      assert.ok(post.body.equals(big), 'post.body.equals(big)')
    } finally { session.close() }
  })

  test('over TLS with ALPN h2: request trailers reach the server, 103 Early Hints reaches the client', async () => {
    const session = http2.connect(secure.url, { ca: (await testTls()).ca, rejectUnauthorized: false })
    try {
      const r = await call(session, { ':method': 'POST', ':path': '/info' }, undefined, { 'x-req-trailer': 'a', 'grpc-status': '0' })
      assert.deepEqual(r.informational, [103])
      assert.equal(r.status, 200)
      assert.equal(r.trailers?.['x-request-trailers'], '2')
    } finally { session.close() }
  })

  test('a connection whose first bytes were already read by a sniffer is served with them', async () => {
    const session = http2.connect(sniffing.url)
    try {
      const r = await call(session, { ':path': '/sniffed' })
      assert.equal(r.status, 200)
      assert.equal(r.headers['x-path'], '/sniffed')
    } finally { session.close() }
  })

  test('trailers-only response (HEADERS with END_STREAM, as gRPC errors are)', async () => {
    const session = http2.connect(plain.url)
    try {
      const r = await call(session, { ':path': '/trailers-only' })
      assert.equal(r.status, 200)
      assert.equal(r.headers['grpc-status'], '5')
      assert.equal(r.body.length, 0)
    } finally { session.close() }
  })

  test("PING from the client is answered (node:http2's ping() resolves with the round trip)", async () => {
    const session = http2.connect(plain.url)
    try {
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject))
      const rtt = await new Promise<number>((resolve, reject) => session.ping((err, ms) => err ? reject(err) : resolve(ms)))
      assert.ok(rtt >= 0 && rtt < 1000, 'rtt >= 0 && rtt < 1000')
    } finally { session.close() }
  })

  test('graceful shutdown: GOAWAY lets the stream in flight finish, then the connection closes', async () => {
    const session = http2.connect(plain.url)
    const goaway = new Promise<number>(resolve => session.once('goaway', (code: number) => resolve(code)))
    const closed = new Promise<void>(resolve => session.once('close', () => resolve()))
    try {
      await call(session, { ':path': '/warm' })
      // a request whose body is still coming when the server shuts down
      const req = session.request({ ':method': 'POST', ':path': '/slow' })
      const chunks: Buffer[] = []
      const done = new Promise<number>((resolve, reject) => {
        req.on('response', h => resolve(Number(h[':status'])))
        req.on('error', reject)
      })
      req.on('data', (d: Buffer) => chunks.push(d))
      req.write('part one, ')
      await new Promise(resolve => setTimeout(resolve, 50))
      for (const c of plain.connections) c.shutdown()
      assert.equal(await goaway, 0) // NO_ERROR
      req.end('part two')
      assert.equal(await done, 200)
      await new Promise(resolve => req.on('end', resolve))
      assert.equal(Buffer.concat(chunks).toString(), 'part one, part two')
      await closed
    } finally { session.destroy() }
  })

  test('1000 concurrent streams on one connection all complete', async () => {
    const session = http2.connect(plain.url, { peerMaxConcurrentStreams: 2000 })
    try {
      const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(session, { ':method': 'POST', ':path': `/s${i}` }, Buffer.from(`body ${i}`))))
      replies.forEach((r, i) => { assert.equal(r.status, 200); assert.equal(r.body.toString(), `body ${i}`) })
    } finally { session.close() }
  })
})

describe('server role ← curl, nghttp, h2load', () => {
  test('curl --http2-prior-knowledge (h2c): POST body echoed', async () => {
    const r = await runPeer('curl', ['-sS', '--http2-prior-knowledge', '-i', '-d', 'hello-curl', `${plain.url}/curl`])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^HTTP\/2 200/)
    assert.match(r.stdout, /x-method: POST/)
    assert.match(r.stdout, /hello-curl/)
  })

  test('curl --http2 over TLS (ALPN h2): 103 then 200', async () => {
    const r = await runPeer('curl', ['-sS', '--http2', '-k', '-i', `${secure.url}/info`])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^HTTP\/2 103/)
    assert.match(r.stdout, /HTTP\/2 200/)
  })

  test('nghttp (h2c and TLS): PRIORITY frames of its dependency tree are ignored, trailers received', async () => {
    for (const url of [plain.url, secure.url]) {
      const r = await runPeer('nghttp', ['-v', '-H', 'x-a: 1', `${url}/nghttp`])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /recv \(stream_id=\d+\) :status: 200/)
      assert.match(r.stdout, /recv \(stream_id=\d+\) x-trailer: done/)
      assert.doesNotMatch(r.stdout, /RST_STREAM|error_code=(?!NO_ERROR)/)
    }
  })

  test('h2load: 20000 requests, 4 connections × 50 streams (h2c) and 2 × 20 with bodies over TLS, all succeed', async () => {
    const a = await runPeer('h2load', ['-n', '20000', '-c', '4', '-m', '50', `${plain.url}/load`], 60_000)
    assert.match(a.stdout, /20000 succeeded, 0 failed, 0 errored/, a.stdout + a.stderr)
    const b = await runPeer('h2load', ['-n', '4000', '-c', '2', '-m', '20', '-d', 'package.json', `${secure.url}/load`], 60_000)
    assert.match(b.stdout, /4000 succeeded, 0 failed, 0 errored/, b.stdout + b.stderr)
    assert.match(b.stdout, /Application protocol: h2/)
  })
})
