/**
 * How a gRPC app reaches its sidecar (docs/grpc.md): h2c prior knowledge on the outbound listener routed by
 * `:authority`, or the app's gRPC library configured with a proxy (`grpc_proxy` / `http_proxy`, grpc-js'
 * `grpc.http_connect_target`), which sends `CONNECT echo:50051` first. Also curl and nghttp on the outbound listener,
 * and per-request balancing of one client connection's calls across endpoints.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { echoClient, type EchoServer, type Mesh, startEchoServer, startMesh, unary } from './grpc-harness.ts'
import { startOrigin, type Origin } from './helpers.ts'

const run = promisify(execFile)
let apps: EchoServer[]
let web: Origin
let mesh: Mesh

before(async () => {
  apps = [await startEchoServer('echo-0'), await startEchoServer('echo-1'), await startEchoServer('echo-2')]
  web = await startOrigin('web')
  mesh = await startMesh(apps.map(a => a.port), {}, {}, [
    { name: 'web', port: 8080, endpoints: [{ id: 'web-0', address: '127.0.0.1', port: web.port, tls: false, protocol: 'http1' }] }
  ])
})

after(async () => {
  await mesh.close()
  for (const a of apps) await a.close()
  await web.close()
})

test('h2c prior knowledge on the outbound listener is routed by :authority (echo:50051 → echo, web → web)', async () => {
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
  try {
    assert.equal((await unary(c, { message: 'a' })).err, null)
  } finally {
    c.close()
  }
  const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '-D', '-', '-H', 'host: web', `http://127.0.0.1:${mesh.client.outbound}/hello?x=1`], { encoding: 'utf8' })
  assert.match(stdout, /^HTTP\/2 200/m)
  assert.match(stdout, /"name":"web"/)
  assert.match(stdout, /"url":"\/hello\?x=1"/)
  const ng = await run('nghttp', ['-H', ':authority: web', `http://127.0.0.1:${mesh.client.outbound}/from-nghttp`], { encoding: 'utf8' })
  assert.match(ng.stdout, /"url":"\/from-nghttp"/)
  const none = await run('curl', ['-sS', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null', '-H', 'host: nowhere', `http://127.0.0.1:${mesh.client.outbound}/`], { encoding: 'utf8' })
  assert.match(none.stdout, /^HTTP\/2 404/m)
  assert.match(none.stdout, /^x-meshwork-error: MESH_ERR_NO_ROUTE/m)
})

test('grpc_proxy set to the outbound listener: grpc-js sends CONNECT echo:50051, the tunnel carries its h2 calls', async () => {
  const saved = process.env.grpc_proxy
  process.env.grpc_proxy = `http://127.0.0.1:${mesh.client.outbound}`
  let c: ReturnType<typeof echoClient>
  try {
    // grpc-js reads the proxy settings when the channel is made; the target is the mesh name, not an address
    c = echoClient('echo:50051', 'echo:50051')
  } finally {
    if (saved === undefined) delete process.env.grpc_proxy
    else process.env.grpc_proxy = saved
  }
  try {
    const r = await unary(c, { message: 'through CONNECT', replyBytes: 1000 })
    assert.equal(r.err, null, r.err?.message)
    assert.equal(r.reply!.payload.length, 1000)
    const e = await unary(c, { message: 'x', status: 7, statusMessage: 'no' })
    assert.equal(e.err?.code, 7)
  } finally {
    c.close()
  }
  const metrics = await (await fetch(`http://127.0.0.1:${mesh.client.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_requests_total\{direction="outbound",source="client",destination="echo"/)
})

test('grpc.http_connect_target (the channel option form): same CONNECT, same result', async () => {
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051', { 'grpc.http_connect_target': 'dns:///echo:50051' })
  try {
    assert.equal((await unary(c, { message: 'option' })).err, null)
  } finally {
    c.close()
  }
})

test('CONNECT to an authority the mesh does not know: 404 MESH_ERR_NO_ROUTE at once (grpc-js fails the call UNAVAILABLE, no hang)', async () => {
  const head = await new Promise<string>((resolve, reject) => {
    const s = connect(mesh.client.outbound, '127.0.0.1')
    let got = ''
    s.on('data', d => { got += d.toString('latin1'); if (got.includes('\r\n\r\n')) { s.destroy(); resolve(got) } })
    s.on('error', reject)
    s.write('CONNECT nowhere:443 HTTP/1.1\r\nHost: nowhere:443\r\n\r\n')
  })
  assert.match(head, /^HTTP\/1\.1 404 /)
  assert.match(head, /x-meshwork-error: MESH_ERR_NO_ROUTE/)
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'nowhere:50051', { 'grpc.http_connect_target': 'dns:///nowhere:50051' })
  try {
    const t0 = Date.now()
    const r = await unary(c, { message: 'x' }, undefined, { deadline: Date.now() + 5000 })
    assert.equal(r.err?.code, 14) // UNAVAILABLE: the proxy refused the tunnel
    assert.ok(Date.now() - t0 < 4000, 'failed fast, before the deadline')
  } finally {
    c.close()
  }
})

test('CONNECT on the inbound listener is refused with 405 MESH_ERR_CONNECT_REFUSED', async () => {
  const head = await new Promise<string>((resolve, reject) => {
    const s = connect(mesh.server.inbound, '127.0.0.1')
    let got = ''
    s.on('data', d => { got += d.toString('latin1'); if (got.includes('\r\n\r\n')) { s.destroy(); resolve(got) } })
    s.on('error', reject)
    s.write('CONNECT echo:50051 HTTP/1.1\r\nHost: echo:50051\r\n\r\n')
  })
  // STRICT mTLS answers first for a plain caller; the CONNECT check runs before it
  assert.match(head, /^HTTP\/1\.1 405 /)
  assert.match(head, /x-meshwork-error: MESH_ERR_CONNECT_REFUSED/)
})

test('calls multiplexed on one client connection are balanced per request: 3 endpoints get about a third each', async () => {
  for (const a of apps) a.calls.Unary = 0
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
  const served: Record<string, number> = {}
  try {
    for (let batch = 0; batch < 30; batch++) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => unary(c, { message: 'lb' })))
      for (const r of rs) { assert.equal(r.err, null); served[r.reply!.servedBy] = (served[r.reply!.servedBy] ?? 0) + 1 }
    }
  } finally {
    c.close()
  }
  assert.deepEqual(Object.keys(served).sort(), ['echo-0', 'echo-1', 'echo-2'])
  for (const [name, n] of Object.entries(served)) assert.ok(n >= 70 && n <= 130, `${name} served ${n} of 300`)
})
