// The Bookinfo apps on their own, without the mesh: a stand-in HTTP proxy (routing by Host like the
// sidecar's outbound listener) sits at $HTTP_PROXY, so the apps' calls, headers and versions are observable.
// reviews v3's gRPC client (grpc-js) reaches it through $http_proxy with CONNECT stars:9080, as it reaches the
// sidecar; the stand-in tunnels that to the stars app.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { LogSink } from '../../src/runtime/log-sink.ts'
import { PortAllocator } from '../../src/runtime/ports.ts'
import { Supervisor } from '../../src/runtime/supervisor.ts'

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'meshwork-bookinfo-'))
const sup = new Supervisor()
const ports = new PortAllocator()
const apps = new Map<string, number>() // `reviews-v2` → app port
const seen: { host: string, path: string, headers: http.IncomingHttpHeaders }[] = []
const tunnels: string[] = []
const openTunnels = new Set<Duplex>()
let failRatings = false
let refuseStars = false
const rr = new Map<string, number>()
let proxy: http.Server
let proxyPort = 0

function get (path: string, headers: Record<string, string> = {}): Promise<{ status: number, type: string, body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: apps.get('productpage-v1'), path, headers, agent: false }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', c => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }))
    }).on('error', reject)
  })
}

before(async () => {
  proxy = http.createServer((req, res) => {
    const host = String(req.headers.host)
    seen.push({ host, path: req.url ?? '', headers: req.headers })
    const service = host.replace(/:9080$/, '')
    if (service === 'ratings' && failRatings) {
      res.writeHead(503, { 'x-meshwork-error': 'MESH_ERR_FAULT_ABORT' }).end()
      return
    }
    const candidates = [...apps.keys()].filter(k => k === service || k.startsWith(`${service}-v`))
    if (candidates.length === 0) {
      res.writeHead(404).end()
      return
    }
    const n = rr.get(service) ?? 0
    rr.set(service, n + 1)
    const port = apps.get(candidates[n % candidates.length])
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent: false }, ur => {
      res.writeHead(ur.statusCode ?? 502, ur.headers)
      ur.pipe(res)
    })
    up.on('error', () => res.writeHead(502).end())
    req.pipe(up)
  })
  // CONNECT <service>:9080: a TCP tunnel to that app (what a gRPC library does with http_proxy set)
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(String(req.url))
    const service = String(req.url).replace(/:9080$/, '')
    const port = [...apps].find(([k]) => k.startsWith(`${service}-v`))?.[1]
    if (port === undefined || refuseStars) { socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'); return }
    openTunnels.add(socket)
    socket.on('close', () => openTunnels.delete(socket))
    const up = net.connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      up.write(head)
      up.pipe(socket)
      socket.pipe(up)
    })
    up.on('error', () => socket.destroy())
    socket.on('error', () => up.destroy())
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  proxyPort = (proxy.address() as { port: number }).port
  const list: [string, string, string][] = [['details', 'v1', 'details.mjs'], ['ratings', 'v1', 'ratings.mjs'], ['stars', 'v1', 'stars.mjs'], ['reviews', 'v1', 'reviews.mjs'],
    ['reviews', 'v2', 'reviews.mjs'], ['reviews', 'v3', 'reviews.mjs'], ['productpage', 'v1', 'productpage.mjs']]
  await Promise.all(list.map(async ([service, version, file]) => {
    const port = await ports.allocate()
    apps.set(`${service}-${version}`, port)
    const name = `${service}-${version}`
    const p = sup.add({
      name,
      command: process.execPath,
      args: [join(BOOKINFO, file)],
      env: { PORT: String(port), HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, http_proxy: `http://127.0.0.1:${proxyPort}`, SERVICE_NAME: service, SERVICE_VERSION: version, INSTANCE_ID: `${name}-0` },
      log: new LogSink(name, dir)
    })
    await sup.startAndWait(p, `http://127.0.0.1:${port}/healthz`)
  }))
})

after(async () => {
  await sup.stopAll()
  proxy?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('productpage API combines details and reviews and says which reviews version served', async () => {
  const versions = new Set<string>()
  for (let i = 0; i < 6; i++) {
    const r = await get('/api/v1/products/0')
    assert.equal(r.status, 200)
    const body = JSON.parse(r.body)
    assert.deepEqual(body.errors, [])
    assert.equal(body.details.author, 'William Shakespeare')
    assert.equal(body.reviews.length, 2)
    versions.add(body.reviewsVersion)
    if (body.reviewsVersion === 'v1') assert.equal(body.reviews[0].rating, undefined)
    if (body.reviewsVersion === 'v2') assert.deepEqual(body.reviews[0].rating, { stars: 5, color: 'black' })
    if (body.reviewsVersion === 'v3') {
      assert.deepEqual(body.reviews[1].rating, { stars: 4, color: 'red' })
      assert.equal(body.ratingsFrom, 'stars v1 (stars-v1-0)')
    }
  }
  assert.deepEqual([...versions].sort(), ['v1', 'v2', 'v3'])
})

test('the HTML page carries a reviews-version marker, and static files and the product list are served', async () => {
  const page = await get('/productpage')
  assert.equal(page.status, 200)
  assert.match(page.type, /text\/html/)
  assert.match(page.body, /<!-- reviews-version: v[123] -->/)
  assert.match(page.body, /The Comedy of Errors/)
  assert.equal((await get('/static/style.css')).status, 200)
  assert.deepEqual(JSON.parse((await get('/api/v1/products')).body), [{ id: 0, title: 'The Comedy of Errors' }])
  assert.equal((await get('/nope')).status, 404)
  assert.equal((await get('/healthz')).status, 200)
})

test('calls go through HTTP_PROXY in origin form with Host service:9080 and carry trace and deadline headers', async () => {
  seen.length = 0
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  for (let i = 0; i < 3; i++) {
    await get('/api/v1/products/0', { traceparent, tracestate: 'k=v', 'x-request-id': 'req-1', b3: '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1', 'meshwork-timeout': '5S' })
  }
  const hosts = new Set(seen.map(s => s.host))
  assert.ok(hosts.has('details:9080') && hosts.has('reviews:9080') && hosts.has('ratings:9080'), [...hosts].join(','))
  // reviews v3's grpc-js channel: one CONNECT stars:9080, kept open for every later call
  assert.deepEqual([...new Set(tunnels)], ['stars:9080'])
  for (const s of seen) {
    assert.ok(s.path.startsWith('/'), 'origin-form request target')
    assert.equal(s.headers.traceparent, traceparent)
    assert.equal(s.headers.tracestate, 'k=v')
    assert.equal(s.headers['x-request-id'], 'req-1')
    assert.equal(s.headers.b3, '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1')
    assert.equal(s.headers['meshwork-timeout'], '5S')
  }
})

test('a failing ratings call is reported in errors, and the page still renders', async () => {
  failRatings = true
  try {
    let sawRatingsError = false
    for (let i = 0; i < 6; i++) {
      const body = JSON.parse((await get('/api/v1/products/0')).body)
      if (body.reviewsVersion !== 'v2') continue
      assert.equal(body.reviews[0].rating.error, 'Ratings service is currently unavailable')
      assert.ok(body.errors.some((e: string) => e.includes('MESH_ERR_FAULT_ABORT')))
      sawRatingsError = true
    }
    assert.ok(sawRatingsError)
    assert.equal((await get('/productpage')).status, 200)
  } finally {
    failRatings = false
  }
})

test('reviews v3 reports a failing gRPC call with its status, and the page still renders', async () => {
  // the tunnel breaks and the proxy refuses new ones: grpc-js fails the call with UNAVAILABLE
  refuseStars = true
  for (const t of openTunnels) t.destroy()
  try {
    let sawStarsError = false
    for (let i = 0; i < 6 && !sawStarsError; i++) {
      const body = JSON.parse((await get('/api/v1/products/0')).body)
      if (body.reviewsVersion !== 'v3') continue
      assert.equal(body.reviews[0].rating.error, 'Ratings service is currently unavailable')
      assert.ok(body.errors.some((e: string) => e.startsWith('stars answered gRPC UNAVAILABLE')), body.errors.join('; '))
      sawStarsError = true
    }
    assert.ok(sawStarsError)
  } finally {
    refuseStars = false
  }
})

test('an app started with a stdin lifeline exits when the pipe closes (its runtime died)', async () => {
  const { spawn } = await import('node:child_process')
  const port = await ports.allocate()
  const child = spawn(process.execPath, [join(BOOKINFO, 'ratings.mjs')], {
    env: { ...process.env, PORT: String(port), MESHWORK_EXIT_ON_STDIN_EOF: '1' },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  try {
    await once(child.stdout!, 'data') // listening
    child.stdin!.end() // what the kernel does when the parent dies
    const [code] = await once(child, 'exit', { signal: AbortSignal.timeout(20_000) })
    assert.equal(code, 0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
