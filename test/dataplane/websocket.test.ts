/**
 * WebSocket through the mesh: `Connection: upgrade` + `Upgrade: websocket` is forwarded, the upstream's 101
 * splices the two sockets both ways. Through outbound → inbound (mTLS STRICT) → app and through the gateway.
 */
import assert from 'node:assert/strict'
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { after, before, test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { createRootCa, issueTestIdentity } from '../../src/pki/index.ts'
import { raw, snapshot, startProxy, type RunningProxy } from './helpers.ts'

const TD = 'spiffe://cluster.local/ns/default/sa/'
let echo: WebSocketServer
let echoPort = 0
const seenHeaders: IncomingHttpHeaders[] = []
let server: RunningProxy // echo sidecar: inbound mTLS STRICT → echo app
let caller: RunningProxy // caller sidecar: outbound → echo over mTLS
let gateway: RunningProxy // ingress gateway → echo app (plain)
const sockets: WebSocket[] = []

before(async () => {
  echo = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // a path the app refuses: the refusal (403) comes back as a normal response, not a tunnel
    verifyClient: (info: { req: { url?: string } }) => info.req.url !== '/refused'
  })
  await new Promise<void>(resolve => echo.once('listening', () => resolve()))
  echoPort = (echo.address() as { port: number }).port
  echo.on('connection', (ws, req) => {
    seenHeaders.push(req.headers)
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
  })

  const root = await createRootCa({ commonName: 'ws test root', ttlMs: 3_600_000 })
  const serverId = await issueTestIdentity(root, TD + 'echo', 3_600_000)
  const callerId = await issueTestIdentity(root, TD + 'caller', 3_600_000)
  server = await startProxy({
    version: 's1',
    node: { id: 'echo-v1-0', service: 'echo', version: 'v1' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: echoPort }
  } as never, { inbound: true, tls: { certPem: serverId.certPem, keyPem: serverId.privateKeyPem, trustBundlePem: root.certPem } })
  caller = await startProxy({
    version: 'c1',
    node: { id: 'caller-0', service: 'caller' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 9080, endpoints: [{ id: 'echo-v1-0', address: '127.0.0.1', port: server.inbound, version: 'v1', tls: true, identity: TD + 'echo', protocol: 'http1' }] }]
  } as never, { outbound: true, tls: { certPem: callerId.certPem, keyPem: callerId.privateKeyPem, trustBundlePem: root.certPem } })
  gateway = await startProxy(snapshot('g1', { echo: { endpoints: [{ id: 'echo-app', port: echoPort }] } }, {
    node: { id: 'ingress-0', role: 'ingress' },
    gateways: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }],
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ws' },
      spec: { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], hostnames: ['ws.local'], rules: [{ backendRefs: [{ name: 'echo' }] }] }
    }, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ws-headers' },
      spec: {
        parentRefs: [{ kind: 'Gateway', name: 'ingress' }],
        hostnames: ['ws-headers.local'],
        rules: [{ backendRefs: [{ name: 'echo' }], filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'mesh' }] } }] }]
      }
    }]
  }), { gateway: true, gatewayName: 'ingress' })
})

after(async () => {
  for (const ws of sockets) ws.terminate()
  await Promise.all([caller.close(), server.close(), gateway.close()])
  for (const c of echo.clients) c.terminate()
  await new Promise<void>(resolve => echo.close(() => resolve()))
})

function open (port: number, host: string, path = '/chat'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } })
  sockets.push(ws)
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })))
  })
}

function roundTrip (ws: WebSocket, data: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    ws.once('message', (m: Buffer) => resolve(m))
    ws.send(data, err => { if (err) reject(err) })
  })
}

function closed (ws: WebSocket): Promise<number> {
  return new Promise(resolve => { ws.once('close', (code) => resolve(code)); ws.close(1000) })
}

async function metrics (p: RunningProxy): Promise<string> {
  return (await fetch(`http://127.0.0.1:${p.admin}/metrics`)).text()
}

test('WebSocket through outbound → inbound (mTLS STRICT) → app: messages both ways, large ones too', async () => {
  const ws = await open(caller.outbound, 'echo:9080')
  assert.equal((await roundTrip(ws, 'hello')).toString(), 'hello')
  const big = Buffer.alloc(256 * 1024, 7)
  assert.ok((await roundTrip(ws, big)).equals(big))
  for (let i = 0; i < 20; i++) assert.equal((await roundTrip(ws, `m${i}`)).toString(), `m${i}`)
  const h = seenHeaders.at(-1)!
  assert.equal(h.upgrade, 'websocket')
  assert.match(String(h.connection), /upgrade/i)
  assert.ok(h['sec-websocket-key'] !== undefined)
  assert.equal(await closed(ws), 1000)
})

test('the tunnel is recorded as a 101 with its duration once it closes', async () => {
  const ws = await open(caller.outbound, 'echo:9080')
  await roundTrip(ws, 'x')
  await new Promise(resolve => setTimeout(resolve, 300))
  await closed(ws)
  let text = ''
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    text = await metrics(caller)
    if (/meshwork_requests_total\{[^}]*destination="echo"[^}]*code="101"[^}]*\} 2/.test(text)) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  assert.match(text, /meshwork_requests_total\{[^}]*destination="echo"[^}]*code="101"[^}]*\} 2/)
  // the second tunnel stayed open ≥ 300 ms: the duration histogram has an observation above 0.25 s
  const sum = /meshwork_request_duration_seconds_sum\{[^}]*destination="echo"[^}]*\} ([0-9.e-]+)/.exec(text)
  assert.ok(sum !== null && Number(sum[1]) >= 0.3, sum?.[1])
  assert.match(await metrics(server), /meshwork_requests_total\{[^}]*code="101"[^}]*\} 2/)
})

test('WebSocket through the gateway listener', async () => {
  const ws = await open(gateway.gateway, 'ws.local')
  assert.equal((await roundTrip(ws, 'via gateway')).toString(), 'via gateway')
  assert.equal(await closed(ws), 1000)
})

test('response header filters apply to the 101, which keeps its upgrade headers', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${gateway.gateway}/chat`, { headers: { host: 'ws-headers.local' } })
  sockets.push(ws)
  const upgraded = new Promise<IncomingMessage>((resolve, reject) => { ws.once('upgrade', resolve); ws.once('error', reject) })
  const opened = new Promise(resolve => ws.once('open', resolve))
  const res = await upgraded
  await opened
  assert.equal(res.statusCode, 101)
  assert.equal(res.headers['x-served-by'], 'mesh')
  assert.equal(res.headers.upgrade, 'websocket')
  assert.equal((await roundTrip(ws, 'filtered')).toString(), 'filtered')
  await closed(ws)
})

test('an upgrade the app refuses comes back as its HTTP response', async () => {
  await assert.rejects(open(gateway.gateway, 'ws.local', '/refused'), (err: { status?: number }) => err.status === 401 || err.status === 403)
})

test('the app closing the socket ends the tunnel for the client', async () => {
  const ws = await open(gateway.gateway, 'ws.local', '/bye')
  await roundTrip(ws, 'hi')
  const code = new Promise<number>(resolve => ws.once('close', c => resolve(c)))
  for (const c of echo.clients) c.close(1001)
  assert.equal(await code, 1001)
})

test('other upgrades (h2c) are not passed through: the upgrade header is dropped and the request served as HTTP/1.1', async () => {
  const res = await raw(gateway.gateway, 'GET /plain HTTP/1.1\r\nhost: ws.local\r\nconnection: upgrade, http2-settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', 1500)
  // the echo app is a WebSocket server: a plain GET gets its 426 — what matters is that no 101 came back
  assert.doesNotMatch(res, /^HTTP\/1\.1 101/)
  assert.match(res, /^HTTP\/1\.1 \d{3}/)
})
