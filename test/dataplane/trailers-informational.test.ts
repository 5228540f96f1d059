/**
 * HTTP/1.1 chunked trailers and informational responses (100 Continue, 103 Early Hints) through the outbound
 * listener, h1→h1, h1→h2 and h2→h1, with real peers: node:http / node:http2 servers and clients, curl.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer as createH1Server, request as h1Request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http'
import { connect as h2Connect, createServer as createH2Server, type Http2Server } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { snapshot, startProxy, type RunningProxy } from './helpers.ts'

const run = promisify(execFile)
let h1app: Server
let h2app: Http2Server
let p: RunningProxy
/** What the apps received: request trailers and whether a body came. */
const seen: { trailers: Record<string, string>, body: string }[] = []

before(async () => {
  h1app = createH1Server((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      seen.push({ trailers: { ...req.trailers } as Record<string, string>, body: Buffer.concat(chunks).toString() })
      if (req.url === '/hints') res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' })
      res.write('part one;')
      res.write('part two')
      res.addTrailers({ 'x-checksum': 'abc123', 'x-count': '2' })
      res.end()
    })
  })
  await new Promise<void>(resolve => h1app.listen(0, '127.0.0.1', resolve))
  h2app = createH2Server()
  h2app.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    if (headers.expect === '100-continue') stream.additionalHeaders({ ':status': 100 })
    if (headers[':path'] === '/hints') stream.additionalHeaders({ ':status': 103, link: '</app.js>; rel=preload; as=script' })
    const chunks: Buffer[] = []
    let trailers: Record<string, string> = {}
    stream.on('trailers', t => { trailers = Object.fromEntries(Object.entries(t)) as Record<string, string> })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => {
      seen.push({ trailers, body: Buffer.concat(chunks).toString() })
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'h2sum', 'grpc-status': '0' }))
      stream.end('from h2')
    })
  })
  await new Promise<void>(resolve => h2app.listen(0, '127.0.0.1', resolve))
  p = await startProxy(snapshot('t1', {
    h1app: { endpoints: [{ id: 'h1-0', port: (h1app.address() as AddressInfo).port }] },
    h2app: { endpoints: [{ id: 'h2-0', port: (h2app.address() as AddressInfo).port, protocol: 'h2' }] }
  }))
})

after(async () => {
  await p.close()
  h1app.closeAllConnections()
  h1app.close()
  h2app.close()
})

interface H1Result { status: number, body: string, trailers: IncomingMessage['trailers'], informational: { statusCode: number, headers: IncomingHttpHeaders }[], continued: boolean }

/** An HTTP/1.1 request through the outbound listener, with optional request trailers and Expect: 100-continue. */
function viaH1 (host: string, path: string, opts: { te?: boolean, trailers?: Record<string, string>, expect?: boolean, body?: string } = {}): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host }
    if (opts.te === true) headers.te = 'trailers'
    if (opts.trailers !== undefined) headers.trailer = Object.keys(opts.trailers).join(', ')
    if (opts.expect === true) headers.expect = '100-continue'
    const req = h1Request({ host: '127.0.0.1', port: p.outbound, path, method: opts.body !== undefined || opts.trailers !== undefined ? 'POST' : 'GET', headers, agent: false })
    const out: H1Result = { status: 0, body: '', trailers: {}, informational: [], continued: false }
    req.on('information', i => out.informational.push({ statusCode: i.statusCode, headers: i.headers }))
    const sendBody = (): void => {
      if (opts.body !== undefined) req.write(opts.body)
      if (opts.trailers !== undefined) req.addTrailers(opts.trailers)
      req.end()
    }
    if (opts.expect === true) req.on('continue', () => { out.continued = true; sendBody() })
    else sendBody()
    req.on('response', res => {
      out.status = res.statusCode!
      res.setEncoding('utf8')
      res.on('data', d => { out.body += d })
      res.on('end', () => { out.trailers = res.trailers; resolve(out) })
    })
    req.on('error', reject)
  })
}

/** An h2 (prior knowledge) request through the outbound listener. */
async function viaH2 (authority: string, path: string, opts: { trailers?: Record<string, string>, expect?: boolean, body?: string } = {}) {
  const session = h2Connect(`http://127.0.0.1:${p.outbound}`)
  try {
    return await new Promise<{ status: number, body: string, trailers: Record<string, unknown>, informational: number[], continued: boolean }>((resolve, reject) => {
      const headers: Record<string, string> = { ':authority': authority, ':path': path, ':method': opts.body !== undefined ? 'POST' : 'GET' }
      if (opts.expect === true) headers.expect = '100-continue'
      const req = session.request(headers, { waitForTrailers: opts.trailers !== undefined, endStream: opts.body === undefined })
      const out = { status: 0, body: '', trailers: {} as Record<string, unknown>, informational: [] as number[], continued: false }
      req.on('headers', h => out.informational.push(Number(h[':status'])))
      req.on('continue', () => { out.continued = true })
      req.on('response', h => { out.status = Number(h[':status']) })
      req.on('trailers', t => { out.trailers = { ...t } })
      req.setEncoding('utf8')
      req.on('data', d => { out.body += d })
      req.on('end', () => resolve(out))
      req.on('error', reject)
      if (opts.trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(opts.trailers!))
      if (opts.body !== undefined) req.end(opts.body)
    })
  } finally {
    session.close()
  }
}

test('h1 → h1: chunked response trailers reach the client; chunked request trailers reach the app', async () => {
  const r = await viaH1('h1app', '/', { te: true, body: 'req body', trailers: { 'x-req-sum': 'r1' } })
  assert.equal(r.status, 200)
  assert.equal(r.body, 'part one;part two')
  assert.deepEqual(r.trailers, { 'x-checksum': 'abc123', 'x-count': '2' })
  assert.deepEqual(seen.at(-1), { trailers: { 'x-req-sum': 'r1' }, body: 'req body' })
})

test('h2 upstream → h1 client: trailers only when the client sent TE: trailers', async () => {
  const withTe = await viaH1('h2app', '/', { te: true })
  assert.equal(withTe.body, 'from h2')
  assert.deepEqual(withTe.trailers, { 'x-checksum': 'h2sum', 'grpc-status': '0' })
  const without = await viaH1('h2app', '/')
  assert.equal(without.body, 'from h2')
  assert.deepEqual(without.trailers, {})
})

test('h1 client → h2 upstream: the request trailers become an h2 trailers frame', async () => {
  const r = await viaH1('h2app', '/', { body: 'payload', trailers: { 'x-req-sum': 'to-h2' } })
  assert.equal(r.status, 200)
  assert.deepEqual(seen.at(-1), { trailers: { 'x-req-sum': 'to-h2' }, body: 'payload' })
})

test('h2 client → h1 upstream: response trailers come back as h2 trailers; request trailers reach the HTTP/1.1 app', async () => {
  const r = await viaH2('h1app', '/', { body: 'h2 body', trailers: { 'x-req-sum': 'from-h2' } })
  assert.equal(r.status, 200)
  assert.equal(r.body, 'part one;part two')
  assert.equal(r.trailers['x-checksum'], 'abc123')
  assert.deepEqual(seen.at(-1), { trailers: { 'x-req-sum': 'from-h2' }, body: 'h2 body' })
})

test('100-continue: h1→h1, h1→h2 and h2→h1 (the client sends its body after the app\'s 100)', async () => {
  const a = await viaH1('h1app', '/', { expect: true, body: 'after continue' })
  assert.ok(a.continued, 'h1 client got 100 from the h1 app')
  assert.equal(seen.at(-1)!.body, 'after continue')
  const b = await viaH1('h2app', '/', { expect: true, body: 'after h2 continue' })
  assert.ok(b.continued, 'h1 client got 100 from the h2 app')
  assert.equal(seen.at(-1)!.body, 'after h2 continue')
  const c = await viaH2('h1app', '/', { expect: true, body: 'h2 expects' })
  assert.ok(c.continued, 'h2 client got 100 from the h1 app')
  assert.equal(c.status, 200)
})

test('curl: Expect: 100-continue gets the 100 at once (no 1 s wait), trailers are shown', async () => {
  const t0 = Date.now()
  const { stderr } = await run('curl', ['-sS', '-v', '-H', 'host: h1app', '-H', 'expect: 100-continue', '-H', 'te: trailers', '--data-binary', 'curl body',
    `http://127.0.0.1:${p.outbound}/`], { encoding: 'utf8' })
  assert.ok(Date.now() - t0 < 900, 'no Expect timeout')
  assert.match(stderr, /< HTTP\/1\.1 100 Continue/)
  assert.equal(seen.at(-1)!.body, 'curl body')
})

test('103 Early Hints: h1→h1, h1→h2, h2→h1 (and curl sees it)', async () => {
  const a = await viaH1('h1app', '/hints')
  assert.deepEqual(a.informational.map(i => [i.statusCode, i.headers.link]), [[103, '</style.css>; rel=preload; as=style']])
  assert.equal(a.status, 200)
  const b = await viaH1('h2app', '/hints')
  assert.deepEqual(b.informational.map(i => [i.statusCode, i.headers.link]), [[103, '</app.js>; rel=preload; as=script']])
  const c = await viaH2('h1app', '/hints')
  assert.deepEqual(c.informational, [103])
  assert.equal(c.status, 200)
  const { stderr } = await run('curl', ['-sS', '-v', '-o', '/dev/null', '-H', 'host: h1app', `http://127.0.0.1:${p.outbound}/hints`], { encoding: 'utf8' })
  assert.match(stderr, /< HTTP\/1\.1 103 Early Hints/)
  assert.match(stderr, /< link: <\/style\.css>; rel=preload; as=style/i)
})

test('an HTTP/1.0 client gets no 1xx (RFC 9110 §15.2) and the body dechunked, trailers dropped', async () => {
  const { stdout } = await run('curl', ['-sS', '-0', '-i', '-H', 'host: h1app', `http://127.0.0.1:${p.outbound}/hints`], { encoding: 'utf8' })
  assert.doesNotMatch(stdout, /103/)
  assert.match(stdout, /^HTTP\/1\.1 200/)
  assert.match(stdout, /part one;part two$/)
})
