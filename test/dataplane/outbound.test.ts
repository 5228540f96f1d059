import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { client, raw, snapshot, startOrigin, startProxy, text, type Origin, type RunningProxy } from './helpers.ts'

let reviews: Origin
let ratings: Origin
let p: RunningProxy

before(async () => {
  reviews = await startOrigin('reviews')
  ratings = await startOrigin('ratings', (req, res, body) => {
    if (req.url === '/stream') {
      // large chunked response, written in pieces
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      let n = 0
      const piece = Buffer.alloc(64 * 1024, 'r')
      const write = (): void => {
        while (n < 64) {
          n++
          if (!res.write(piece)) { res.once('drain', write); return }
        }
        res.end()
      }
      write()
      return
    }
    const digest = createHash('sha256').update(body).digest('hex')
    res.writeHead(200, { 'content-type': 'text/plain', 'x-len': String(body.length) })
    res.end(digest)
  })
  p = await startProxy(snapshot('v1', {
    reviews: { endpoints: [{ id: 'reviews-v1-0', port: reviews.port, version: 'v1' }] },
    ratings: { endpoints: [{ id: 'ratings-v1-0', port: ratings.port }] },
    down: { endpoints: [{ id: 'down-0', port: 1 }] },
    empty: { endpoints: [] }
  }))
})

after(async () => {
  await p.close()
  await reviews.close()
  await ratings.close()
})

test('routes by Host (with and without port, and the version subset) and keeps connections alive', async () => {
  const c = client(p.outbound)
  try {
    for (const host of ['reviews', 'reviews:9080', 'reviews-v1']) {
      const r = await c.request({ method: 'GET', path: '/reviews/1?x=2', headers: { host } })
      assert.equal(r.statusCode, 200)
      const j = await r.body.json() as { name: string, url: string, headers: Record<string, string> }
      assert.equal(j.name, 'reviews')
      assert.equal(j.url, '/reviews/1?x=2')
      assert.equal(j.headers.host, host)
    }
  } finally {
    await c.close()
  }
  // the proxy reused one upstream connection for all three requests
  assert.equal(new Set(reviews.seen.slice(-3).map(s => s.remotePort)).size, 1)
})

test('absolute-form request (HTTP_PROXY style) is forwarded in origin-form with the authority as Host', async () => {
  const out = await raw(p.outbound, 'GET http://reviews:9080/abs?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n')
  assert.match(out, /^HTTP\/1\.1 200 /)
  const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4))
  assert.equal(body.url, '/abs?q=1')
  assert.equal(body.headers.host, 'reviews:9080')
})

test('streams large request bodies up (content-length and chunked) and large responses down', async () => {
  const c = client(p.outbound)
  try {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'b')
    const want = createHash('sha256').update(big).digest('hex')
    const r1 = await c.request({ method: 'POST', path: '/upload', headers: { host: 'ratings' }, body: big })
    assert.equal(r1.statusCode, 200)
    assert.equal(await r1.body.text(), want)
    async function * gen (): AsyncGenerator<Buffer> { for (let i = 0; i < 48; i++) yield big.subarray(i * 65536, (i + 1) * 65536) }
    const r2 = await c.request({ method: 'POST', path: '/upload', headers: { host: 'ratings' }, body: Readable.from(gen()) })
    assert.equal(r2.statusCode, 200)
    assert.equal(r2.headers['x-len'], String(48 * 65536))
    const r3 = await c.request({ method: 'GET', path: '/stream', headers: { host: 'ratings' } })
    assert.equal(r3.statusCode, 200)
    let n = 0
    for await (const chunk of r3.body) n += (chunk as Buffer).length
    assert.equal(n, 64 * 64 * 1024)
  } finally {
    await c.close()
  }
})

test('errors the proxy makes carry a stable code header and body', async () => {
  const c = client(p.outbound)
  try {
    const cases: [string, number, string][] = [
      ['nosuch', 404, 'MESH_ERR_NO_ROUTE'],
      ['empty', 503, 'MESH_ERR_NO_HEALTHY_UPSTREAM'],
      ['down', 503, 'MESH_ERR_UPSTREAM_CONNECT']
    ]
    for (const [host, status, code] of cases) {
      const r = await c.request({ method: 'GET', path: '/', headers: { host } })
      assert.equal(r.statusCode, status, host)
      assert.equal(r.headers['x-meshwork-error'], code)
      assert.ok((await r.body.text()).startsWith(code + ': '))
    }
  } finally {
    await c.close()
  }
})

test('malformed and smuggling requests get 400 MESH_ERR_BAD_REQUEST and the connection is closed', async () => {
  const bad = [
    'POST / HTTP/1.1\r\nHost: reviews\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: reviews\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd',
    'POST / HTTP/1.1\r\nHost: reviews\r\nTransfer-Encoding: identity\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: reviews\r\nX: a\r\n folded\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: reviews\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
  ]
  for (const b of bad) {
    const out = await raw(p.outbound, b)
    assert.match(out, /^HTTP\/1\.1 400 /, JSON.stringify(b))
    assert.match(out, /x-meshwork-error: MESH_ERR_BAD_REQUEST/)
  }
  const huge = await raw(p.outbound, 'GET / HTTP/1.1\r\nHost: reviews\r\nX: ' + 'a'.repeat(17 * 1024) + '\r\n\r\n')
  assert.match(huge, /^HTTP\/1\.1 431 /)
  assert.match(huge, /x-meshwork-error: MESH_ERR_HEADERS_TOO_LARGE/)
})

test('pipelined requests are answered in order on one connection', async () => {
  const out = await raw(p.outbound, 'GET /p1 HTTP/1.1\r\nHost: reviews\r\n\r\nGET /p2 HTTP/1.1\r\nHost: reviews\r\n\r\nGET /p3 HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n')
  const urls = [...out.matchAll(/"url":"(\/p\d)"/g)].map(m => m[1])
  assert.deepEqual(urls, ['/p1', '/p2', '/p3'])
})

test('admin /ready and /config report the applied snapshot', async () => {
  const r = await text(p.admin, '/ready')
  assert.equal(r.status, 200)
  const c = await text(p.admin, '/config')
  assert.equal(c.status, 200)
  assert.equal(JSON.parse(c.body).version, 'v1')
})

test('an HTTP/1.0 client gets a chunked upstream response decoded, ended by close', async () => {
  const out = await raw(p.outbound, 'GET /stream HTTP/1.0\r\nHost: ratings\r\n\r\n', 10_000)
  const headEnd = out.indexOf('\r\n\r\n')
  const head = out.slice(0, headEnd).toLowerCase()
  assert.match(head, /^http\/1\.1 200 /)
  assert.ok(!head.includes('transfer-encoding'), head)
  assert.equal(out.length - headEnd - 4, 64 * 64 * 1024)
})

test('an upstream that answers before reading the request body: the client gets that answer', async () => {
  const early = await startOrigin('early', (_req, res) => { res.end('early') })
  // a handler that answers at once, before the body arrives
  early.server.removeAllListeners('request')
  early.server.on('request', (_req, res) => { res.writeHead(413, { connection: 'close' }); res.end('too big') })
  const q = await startProxy(snapshot('e1', { early: { endpoints: [{ id: 'early-0', port: early.port }] } }))
  try {
    const out = await raw(q.outbound, 'POST /up HTTP/1.1\r\nHost: early\r\nContent-Length: 1000000\r\n\r\n' + 'x'.repeat(1000), 5000)
    assert.match(out, /^HTTP\/1\.1 413 /)
  } finally {
    await q.close()
    await early.close()
  }
})
