// Our client role against a real server: node:http2 (nghttp2), cleartext and TLS (ALPN h2). (nghttpd is not
// in Debian's nghttp2-client package, so node:http2 is the server here.)
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import { after, before, describe, test } from 'node:test'
import type { MeshError } from '../../errors.ts'
import { H2ClientConnection } from './client.ts'
import type { H2Stream } from './stream.ts'
import { find, testTls } from './testing.ts'
import type { H2Options, H2RequestHead } from './types.ts'

let plain: http2.Http2Server
let secure: http2.Http2SecureServer
let plainPort = 0
let securePort = 0
let limited: http2.Http2Server
let limitedPort = 0
const held: http2.ServerHttp2Stream[] = []

function handle (stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders): void {
  stream.on('error', () => {})
  const path = String(h[':path'])
  if (path === '/hold') { held.push(stream); return }
  if (path === '/reset') { stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM); return }
  if (path === '/trailers-only') { stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true }); return }
  const chunks: Buffer[] = []
  let reqTrailers = 0
  stream.on('trailers', t => { reqTrailers = Object.keys(t).length })
  stream.on('data', (d: Buffer) => chunks.push(d))
  stream.on('end', () => {
    if (path === '/info') stream.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' })
    stream.respond({ ':status': 200, 'x-path': path, 'x-req-trailers': String(reqTrailers) }, { waitForTrailers: true })
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'done' }))
    stream.end(Buffer.concat(chunks))
  })
}

before(async () => {
  const m = await testTls()
  plain = http2.createServer()
  plain.on('stream', handle)
  secure = http2.createSecureServer({ key: m.key, cert: m.cert })
  secure.on('stream', handle)
  limited = http2.createServer({ settings: { maxConcurrentStreams: 3 } })
  limited.on('stream', handle)
  for (const s of [plain, secure, limited]) await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  plainPort = (plain.address() as AddressInfo).port
  securePort = (secure.address() as AddressInfo).port
  limitedPort = (limited.address() as AddressInfo).port
})
after(() => {
  for (const s of held) s.destroy()
  plain.close(); secure.close(); limited.close()
})

function connect (port: number, useTls = false, events = {}, options?: Partial<H2Options>): H2ClientConnection {
  const conn = new H2ClientConnection(events, options)
  const socket = useTls
    ? tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false, onread: conn.onread } as tls.ConnectionOptions)
    : net.connect({ host: '127.0.0.1', port, onread: conn.onread } as net.NetConnectOpts)
  return conn.attach(socket)
}

interface Result { status: number, headers: string[], body: Buffer, trailers: string[] | null, informational: number[], error: MeshError | null }

function send (conn: H2ClientConnection, head: Partial<H2RequestHead>, body?: Buffer, trailers?: string[]): { stream: H2Stream, done: Promise<Result> } {
  const r: Result = { status: 0, headers: [], body: Buffer.alloc(0), trailers: null, informational: [], error: null }
  const chunks: Buffer[] = []
  let resolve!: (r: Result) => void
  const done = new Promise<Result>(res => { resolve = res })
  const stream = conn.request({ method: 'GET', scheme: 'http', authority: 'upstream', path: '/', headers: [], ...head }, body === undefined && trailers === undefined, {
    onInformational (_s, status) { r.informational.push(status) },
    onResponse (_s, status, headers) { r.status = status; r.headers = headers },
    onData (s, d) { chunks.push(d); s.consumed(d.length) },
    onEnd (_s, t) { r.trailers = t; r.body = Buffer.concat(chunks); resolve(r) },
    onReset (_s, err) { r.error = err; resolve(r) }
  })
  if (body !== undefined) stream.write(body)
  if (body !== undefined || trailers !== undefined) stream.end(trailers ?? null)
  return { stream, done }
}

describe('client role → node:http2 server', () => {
  test('h2c: GET, then a 5 MB POST echoed (flow control both ways), response trailers', async () => {
    const conn = connect(plainPort)
    try {
      const a = await send(conn, { path: '/a' }).done
      assert.equal(a.status, 200)
      assert.equal(find(a.headers, 'x-path'), '/a')
      assert.deepEqual(a.trailers, ['x-trailer', 'done'])
      const big = Buffer.alloc(5 * 1024 * 1024, 3)
      const b = await send(conn, { method: 'POST', path: '/big' }, big).done
      assert.equal(b.error, null)
      assert.ok(b.body.equals(big), 'b.body.equals(big)')
    } finally { conn.shutdown() }
  })

  test('TLS with ALPN h2: request trailers, a 103 before the response', async () => {
    const conn = connect(securePort, true)
    try {
      const r = await send(conn, { method: 'POST', scheme: 'https', path: '/info' }, Buffer.from('x'), ['x-rt', '1', 'x-rt2', '2']).done
      assert.equal(r.status, 200)
      assert.deepEqual(r.informational, [103])
      assert.equal(find(r.headers, 'x-req-trailers'), '2')
    } finally { conn.shutdown() }
  })

  test('a trailers-only response ends the stream with its head', async () => {
    const conn = connect(plainPort)
    try {
      const r = await send(conn, { method: 'POST', path: '/trailers-only' }, Buffer.from('x')).done
      assert.equal(r.status, 200)
      assert.equal(find(r.headers, 'grpc-status'), '14')
      assert.equal(r.trailers, null)
    } finally { conn.shutdown() }
  })

  test('ping(): the server answers, the round trip is measured', async () => {
    const conn = connect(plainPort)
    try {
      const rtt = await new Promise<number>((resolve, reject) => conn.ping((err, ms) => err ? reject(err) : resolve(ms)))
      assert.ok(rtt >= 0 && rtt < 1000, 'rtt >= 0 && rtt < 1000')
    } finally { conn.shutdown() }
  })

  test('shutdown(): a stream in flight finishes, no new stream can start, then the connection closes cleanly', async () => {
    let closedWith: MeshError | null | undefined
    const conn = connect(plainPort, false, { onClose: (_c: unknown, err: MeshError | null) => { closedWith = err } })
    let status = 0
    const body: Buffer[] = []
    const done = new Promise<void>((resolve, reject) => {
      const stream = conn.request({ method: 'POST', scheme: 'http', authority: 'upstream', path: '/after-shutdown', headers: [] }, false, {
        onResponse (_s, st) { status = st },
        onData (s, d) { body.push(d); s.consumed(d.length) },
        onEnd () { resolve() },
        onReset (_s, err) { reject(err) }
      })
      stream.write(Buffer.from('still '))
      conn.shutdown()
      assert.equal(conn.availableStreams, 0)
      assert.throws(() => send(conn, { path: '/x' }), (err: MeshError) => err.code === 'MESH_ERR_H2_NO_CAPACITY')
      setTimeout(() => { stream.write(Buffer.from('open')); stream.end() }, 30)
    })
    await done
    assert.equal(status, 200)
    assert.equal(Buffer.concat(body).toString(), 'still open')
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(conn.closed, true)
    assert.equal(closedWith, null)
  })

  test('RST_STREAM from the server reaches onReset with its code', async () => {
    const conn = connect(plainPort)
    try {
      const r = await send(conn, { path: '/reset' }).done
      assert.equal(r.error?.code, 'MESH_ERR_H2_STREAM_RESET')
      assert.equal((r.error as any).h2Code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM)
      assert.equal((r.error as any).byPeer, true)
    } finally { conn.shutdown() }
  })

  test("the peer's SETTINGS_MAX_CONCURRENT_STREAMS is respected: full → MESH_ERR_H2_NO_CAPACITY, onCapacity when a slot frees", async () => {
    let capacity = 0
    const conn = connect(limitedPort, false, { onCapacity: () => { capacity++ } })
    try {
      await send(conn, { path: '/warm' }).done // the server's SETTINGS have arrived
      assert.equal(conn.availableStreams, 3)
      const holds = [send(conn, { path: '/hold' }), send(conn, { path: '/hold' }), send(conn, { path: '/hold' })]
      assert.equal(conn.availableStreams, 0)
      assert.throws(() => send(conn, { path: '/x' }), (err: MeshError) => err.code === 'MESH_ERR_H2_NO_CAPACITY')
      holds[0].stream.reset()
      assert.equal(capacity, 1)
      assert.equal(conn.availableStreams, 1)
    } finally { conn.destroy() }
  })

  test('GOAWAY from the server: streams above its last-stream-id are refused (retry-safe), the connection closes', async () => {
    let closedWith: MeshError | null | undefined
    const conn = connect(plainPort, false, { onClose: (_c: unknown, err: MeshError | null) => { closedWith = err } })
    await send(conn, { path: '/warm' }).done
    const sessions = new Promise<http2.ServerHttp2Session>(resolve => plain.once('stream', s => resolve(s.session as http2.ServerHttp2Session)))
    const first = send(conn, { path: '/hold' })
    const session = await sessions
    // the server says it processed nothing past the warm-up stream (1)
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, 1)
    const r = await first.done
    assert.equal(r.error?.code, 'MESH_ERR_H2_REFUSED_STREAM')
    assert.equal(conn.availableStreams, 0)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(conn.closed, true)
    assert.equal(closedWith, null)
  })
})
