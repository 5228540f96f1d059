/**
 * Upstream sockets are read into reused buffers (src/dataplane/upstream/socket-reader.ts): response bytes a
 * slow client cannot take at once stay queued on the downstream socket, and must not be overwritten by the
 * next upstream read. Large responses with distinct bytes go through a plain hop and through an mTLS
 * sidecar pair to clients that stop reading for a while; every byte must arrive as the origin sent it.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { createRootCa, issueTestIdentity } from '../../src/pki/index.ts'
import { snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const TD = 'spiffe://cluster.local/ns/default/sa/'
const BODY = randomBytes(8 * 1024 * 1024 + 123)
const BODY_SHA = createHash('sha256').update(BODY).digest('hex')

let app: Origin
/** Answers every request with a head split over several writes 30 ms apart (so several upstream reads). */
let splitter: Server
const splitterSockets = new Set<Socket>()
/** Body bytes the origin has written so far (all responses). */
let sent = 0
let plain: RunningProxy // outbound → app
let server: RunningProxy // inbound mTLS → app
let caller: RunningProxy // outbound → server over mTLS

before(async () => {
  // The origin writes the body in small pieces, one per event-loop turn, so the proxy reads small chunks
  // (< the downstream socket's high-water mark) while the stalled client's socket is full: those writes are
  // queued, `write` still returns true, and the proxy keeps reading upstream.
  app = await startOrigin('app', (req, res) => {
    const chunked = req.url === '/chunked'
    res.writeHead(200, chunked ? { 'content-type': 'application/octet-stream' } : { 'content-length': BODY.length })
    let pos = 0
    let size = 1
    const more = (): void => {
      if (pos >= BODY.length) { res.end(); return }
      const n = Math.min(size, BODY.length - pos)
      size = (size * 7 + 13) % 3000 + 1
      const ok = res.write(BODY.subarray(pos, pos + n))
      pos += n
      sent += n
      if (ok) setImmediate(more)
      else res.once('drain', more)
    }
    more()
  })
  splitter = createServer(s => {
    splitterSockets.add(s)
    s.on('close', () => splitterSockets.delete(s))
    s.setNoDelay(true)
    s.on('data', () => {
      const parts = ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 5\r\nX-Split: yes', '\r\n\r\nhel', 'lo']
      parts.forEach((p, i) => setTimeout(() => { if (!s.destroyed) s.write(p) }, 30 * i))
    })
  })
  await new Promise<void>(resolve => splitter.listen(0, '127.0.0.1', resolve))
  const splitPort = (splitter.address() as AddressInfo).port
  plain = await startProxy(snapshot('p1', {
    app: { endpoints: [{ id: 'app-0', port: app.port }] },
    split: { endpoints: [{ id: 'split-0', port: splitPort }] }
  }))
  const root = await createRootCa({ commonName: 'read-buffers root', ttlMs: 3_600_000 })
  const appId = await issueTestIdentity(root, TD + 'app', 3_600_000)
  const callerId = await issueTestIdentity(root, TD + 'caller', 3_600_000)
  server = await startProxy(null, { inbound: true, tls: { certPem: appId.certPem, keyPem: appId.privateKeyPem, trustBundlePem: root.certPem } })
  assert.equal(server.proxy.applySnapshot({
    version: 's1', node: { id: 'app-0', service: 'app' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: app.port }
  }).ok, true)
  caller = await startProxy(null, { outbound: true, tls: { certPem: callerId.certPem, keyPem: callerId.privateKeyPem, trustBundlePem: root.certPem } })
  assert.equal(caller.proxy.applySnapshot({
    version: 'c1', node: { id: 'caller-0', service: 'caller' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'app', port: 9080, endpoints: [{ id: 'app-0', address: '127.0.0.1', port: server.inbound, tls: true, identity: TD + 'app', protocol: 'http1' }] }]
  }).ok, true)
})

after(async () => {
  await caller.close()
  await server.close()
  await plain.close()
  await app.close()
  for (const s of splitterSockets) s.destroy()
  await new Promise(resolve => splitter.close(resolve))
})

/**
 * GET `path` on one connection with `Connection: close` and read everything, stopping after the first bytes
 * until the origin has made no progress for a while (every socket and queue between them is full: the
 * proxies' writes to their clients are queued); returns the response body.
 */
function slowGet (port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.setTimeout(30_000, () => s.destroy(new Error('timeout')))
    const chunks: Buffer[] = []
    let stalled = false
    s.on('data', (c: Buffer) => {
      chunks.push(c)
      if (!stalled) {
        stalled = true
        s.pause()
        let last = -1
        const poll = setInterval(() => {
          if (sent === last) { clearInterval(poll); s.resume() }
          last = sent
        }, 300)
      }
    })
    s.on('error', reject)
    s.on('close', () => {
      const all = Buffer.concat(chunks)
      const headEnd = all.indexOf('\r\n\r\n')
      if (headEnd === -1) { reject(new Error('no response head')); return }
      const head = all.subarray(0, headEnd).toString('latin1')
      const body = all.subarray(headEnd + 4)
      assert.match(head, /^HTTP\/1\.1 200 /)
      resolve(/\r\ntransfer-encoding: chunked/i.test(head) ? dechunk(body) : body)
    })
    s.write(`GET ${path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`)
  })
}

function dechunk (b: Buffer): Buffer {
  const out: Buffer[] = []
  let pos = 0
  for (;;) {
    const eol = b.indexOf('\r\n', pos)
    const size = eol === -1 ? Number.NaN : Number.parseInt(b.toString('latin1', pos, eol), 16)
    if (!Number.isInteger(size) || size < 0) throw new Error(`broken chunk framing at byte ${pos}`)
    if (size === 0) return Buffer.concat(out)
    out.push(b.subarray(eol + 2, eol + 2 + size))
    pos = eol + 2 + size + 2
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

test('a plain hop delivers every byte of large responses to a client that stalls (content-length and chunked)', async () => {
  const [a, b] = await Promise.all([slowGet(plain.outbound, '/length'), slowGet(plain.outbound, '/chunked')])
  assert.equal(a.length, BODY.length)
  assert.equal(sha(a), BODY_SHA)
  assert.equal(b.length, BODY.length)
  assert.equal(sha(b), BODY_SHA)
})

test('an mTLS sidecar pair delivers every byte of large responses to a client that stalls', async () => {
  const [a, b] = await Promise.all([slowGet(caller.outbound, '/length'), slowGet(caller.outbound, '/chunked')])
  assert.equal(a.length, BODY.length)
  assert.equal(sha(a), BODY_SHA)
  assert.equal(b.length, BODY.length)
  assert.equal(sha(b), BODY_SHA)
})

test('a response head split over several upstream reads is kept whole (the read buffer is not reused under it)', async () => {
  // two requests on one client connection: the second reuses the pooled upstream connection and its buffer
  const out = await new Promise<string>((resolve, reject) => {
    const s = connect(plain.outbound, '127.0.0.1')
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')))
    let got = ''
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1')
      if (got.split('hello').length === 2) s.write('GET /b HTTP/1.1\r\nHost: split\r\nConnection: close\r\n\r\n')
    })
    s.on('error', reject)
    s.on('close', () => resolve(got))
    s.write('GET /a HTTP/1.1\r\nHost: split\r\n\r\n')
  })
  const responses = out.split('HTTP/1.1 ').slice(1)
  assert.equal(responses.length, 2)
  for (const r of responses) {
    assert.match(r, /^200 OK\r\n/)
    assert.match(r, /\r\nx-split: yes\r\n/i)
    assert.ok(r.endsWith('\r\n\r\nhello'), JSON.stringify(r))
  }
})
