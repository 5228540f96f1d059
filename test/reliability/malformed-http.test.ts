import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import type { Proxy } from '../../src/dataplane/proxy.ts'
import { startPlainSidecar, startRecordingApp } from './harness.ts'

/** Send raw bytes, collect everything until the peer closes (or `ms` passes). */
async function raw (port: number, data: string | Buffer, ms = 5000): Promise<{ text: string, closed: boolean }> {
  return await new Promise(resolve => {
    const s = connect(port, '127.0.0.1')
    let text = ''
    let done = false
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      s.destroy()
      resolve({ text, closed })
    }
    const timer = setTimeout(() => finish(false), ms)
    s.on('data', d => { text += d.toString('latin1') })
    s.on('end', () => finish(true))
    s.on('close', () => finish(true))
    s.on('error', () => finish(true))
    s.write(data)
  })
}

const H = 'Host: app\r\n'
const VECTORS: Array<{ name: string, req: string, status: number }> = [
  { name: 'Content-Length and Transfer-Encoding together (CL.TE / TE.CL)', req: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, status: 400 },
  { name: 'two different Content-Length headers', req: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`, status: 400 },
  { name: 'Content-Length list', req: `POST / HTTP/1.1\r\n${H}Content-Length: 3, 5\r\n\r\nabcde`, status: 400 },
  { name: 'signed Content-Length', req: `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, status: 400 },
  { name: 'Transfer-Encoding other than chunked', req: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'obfuscated Transfer-Encoding', req: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, status: 400 },
  { name: 'bad chunk size', req: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'chunk size overflow', req: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nhello\r\n0\r\n\r\n`, status: 400 },
  { name: 'space before the colon', req: `POST / HTTP/1.1\r\n${H}Content-Length : 3\r\n\r\nabc`, status: 400 },
  { name: 'obs-fold continuation line', req: `GET / HTTP/1.1\r\n${H}X-A: 1\r\n  folded\r\n\r\n`, status: 400 },
  { name: 'bare LF inside a header value', req: `GET / HTTP/1.1\r\n${H}X-A: a\nb: c\r\n\r\n`, status: 400 },
  { name: 'NUL in a header value', req: `GET / HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`, status: 400 },
  { name: 'invalid header name', req: `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`, status: 400 },
  { name: 'malformed request line', req: 'GET /a b HTTP/1.1\r\nHost: app\r\n\r\n', status: 400 },
  { name: 'unknown HTTP version', req: 'GET / HTTP/7.1\r\nHost: app\r\n\r\n', status: 400 },
  { name: 'header over the size limit', req: `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431 }
]

describe('malformed HTTP on every listener', () => {
  let app: Awaited<ReturnType<typeof startRecordingApp>>
  let sidecar: { proxy: Proxy, inbound: number, outbound: number, admin: number }
  before(async () => {
    app = await startRecordingApp()
    sidecar = await startPlainSidecar(app.port)
  })
  after(async () => {
    await sidecar?.proxy.stop()
    await app?.close()
  })

  for (const listener of ['inbound', 'outbound'] as const) {
    for (const v of VECTORS) {
      test(`${listener}: ${v.name} → ${v.status}, connection closed, nothing reaches the app`, async () => {
        const before = app.requests.length
        const r = await raw(sidecar[listener], v.req)
        assert.match(r.text, new RegExp(`^HTTP/1\\.1 ${v.status} `), r.text.slice(0, 200))
        assert.match(r.text, /x-meshwork-error: MESH_ERR_/i)
        assert.equal(r.closed, true, 'the proxy must close a connection whose framing it cannot trust')
        assert.equal(app.requests.length, before, `the app got ${JSON.stringify(app.requests.slice(before))}`)
      })
    }
    test(`${listener}: a smuggled second request after a body is never delivered`, async () => {
      const before = app.requests.length
      // Valid CL request whose body is exactly 5 bytes; then a well-formed pipelined request.
      const r = await raw(sidecar[listener], `POST /one HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhelloGET /two HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)
      const got = app.requests.slice(before)
      assert.deepEqual(got.map(q => [q.method, q.url, q.body]), [['POST', '/one', 'hello'], ['GET', '/two', '']])
      assert.equal((r.text.match(/HTTP\/1\.1 200/g) ?? []).length, 2)
    })
    test(`${listener}: the proxy still serves after all of that`, async () => {
      const r = await raw(sidecar[listener], `GET /alive HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)
      assert.match(r.text, /^HTTP\/1\.1 200 /)
    })
  }

  test('admin listener: malformed requests are refused and it keeps serving', async () => {
    const bad = await raw(sidecar.admin, 'GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
    assert.match(bad.text, /^HTTP\/1\.1 400 /)
    const ok = await raw(sidecar.admin, 'GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.match(ok.text, /^HTTP\/1\.1 200 /)
  })

  test('slowloris: a head that trickles in is cut off, and other clients are served meanwhile', async () => {
    const s = connect(sidecar.inbound, '127.0.0.1')
    let closedAt = 0
    let text = ''
    s.on('data', d => { text += d.toString() })
    const closed = new Promise<void>(resolve => s.on('close', () => { closedAt = Date.now(); resolve() }))
    s.on('error', () => {})
    const start = Date.now()
    s.write(`GET / HTTP/1.1\r\n${H}`)
    const drip = setInterval(() => { if (!s.destroyed) s.write('X-Slow: 1\r\n') }, 500)
    try {
      const ok = await raw(sidecar.inbound, `GET /other HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)
      assert.match(ok.text, /^HTTP\/1\.1 200 /)
      await Promise.race([closed, new Promise((_r, reject) => setTimeout(() => reject(new Error('slow head never cut off within 30 s')), 30_000))])
    } finally {
      clearInterval(drip)
      s.destroy()
    }
    assert.ok(closedAt - start < 30_000)
    assert.match(text, /^HTTP\/1\.1 408 /, text.slice(0, 100))
    assert.match(text, /x-meshwork-error: MESH_ERR_REQUEST_TIMEOUT\r\n/i)
  })
  test('slowloris on the admin listener: a trickling head is cut off within its timeout', async () => {
    const s = connect(sidecar.admin, '127.0.0.1')
    const start = Date.now()
    const closed = new Promise<void>(resolve => s.on('close', () => resolve()))
    s.on('error', () => {})
    s.write('GET /ready HTTP/1.1\r\nHost: x\r\n')
    const drip = setInterval(() => { if (!s.destroyed) s.write('X-Slow: 1\r\n') }, 500)
    try {
      await Promise.race([closed, new Promise((_r, reject) => setTimeout(() => reject(new Error('admin: slow head never cut off within 30 s')), 30_000))])
    } finally {
      clearInterval(drip)
      s.destroy()
    }
    assert.ok(Date.now() - start < 30_000)
  })
})
