// What the admin listener and telemetry may reveal: credentials sent through a sidecar (authorization,
// proxy-authorization, cookie, and a header the MeshConfig adds to telemetry.redactHeaders) never show in
// /tap, the access log or exported spans; no admin answer carries a private key or a token; the admin
// listener of a loopback mesh binds 127.0.0.1 only.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createRootCa, issueTestIdentity, type TestIdentity } from '../../src/pki/index.ts'
import { client, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const TD = 'spiffe://cluster.local/ns/default/sa/'
const SECRETS = {
  authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.secret-bearer-token.sig',
  'proxy-authorization': 'Basic c2VjcmV0LXByb3h5LXBhc3N3b3Jk',
  cookie: 'session=secret-session-cookie',
  'x-api-key': 'secret-api-key-42'
}
let dir: string
let app: Origin
let server: RunningProxy
let caller: RunningProxy
let id: TestIdentity
let caPem: string
let otlp: Server
const spans: string[] = []

const meta = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'meshwork.dev/v1alpha1', kind, metadata: { name }, spec })

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mw-leaks-'))
  otlp = createServer((req, res) => {
    let body = ''
    req.on('data', c => { body += c })
    req.on('end', () => { spans.push(body); res.writeHead(200, { 'content-type': 'application/json' }).end('{}') })
  })
  await new Promise<void>(resolve => otlp.listen(0, '127.0.0.1', resolve))
  const otlpUrl = `http://127.0.0.1:${(otlp.address() as AddressInfo).port}/v1/traces`
  const root = await createRootCa({ commonName: 'test root', ttlMs: 3_600_000 })
  caPem = root.certPem
  id = await issueTestIdentity(root, TD + 'reviews', 3_600_000)
  const callerId = await issueTestIdentity(root, TD + 'productpage', 3_600_000)
  // the app answers with a session cookie of its own
  app = await startOrigin('reviews-app', (_req, res) => { res.writeHead(200, { 'set-cookie': 'app-session=secret-set-cookie; HttpOnly', 'content-type': 'text/plain' }).end('ok') })
  const mesh = (log: string) => ({
    mtls: { mode: 'STRICT' as const },
    tracing: { enabled: true, sampling: 100, otlpEndpoint: otlpUrl },
    accessLog: { enabled: true, path: join(dir, log) },
    telemetry: { redactHeaders: ['X-Api-Key'] }
  })
  server = await startProxy(null, { inbound: true, tls: { certPem: id.certPem, keyPem: id.privateKeyPem, trustBundlePem: caPem } })
  assert.equal(server.proxy.applySnapshot({
    version: 's1',
    node: { id: 'reviews-v1-0', service: 'reviews', version: 'v1' },
    mesh: mesh('inbound.log'),
    localApp: { address: '127.0.0.1', port: app.port },
    authorizationPolicies: [meta('AuthorizationPolicy', 'allow-pp', { targetRef: { name: 'reviews' }, rules: [{ from: [{ identities: [TD + 'productpage'] }] }] })]
  } as never).ok, true)
  caller = await startProxy(null, { outbound: true, tls: { certPem: callerId.certPem, keyPem: callerId.privateKeyPem, trustBundlePem: caPem } })
  assert.equal(caller.proxy.applySnapshot({
    version: 'c1',
    node: { id: 'productpage-v1-0', service: 'productpage' },
    mesh: mesh('outbound.log'),
    services: [{ name: 'reviews', port: 9080, endpoints: [{ id: 'reviews-v1-0', address: '127.0.0.1', port: server.inbound, version: 'v1', tls: true, identity: TD + 'reviews' }] }]
  } as never).ok, true)
})
after(async () => {
  await caller?.close()
  await server?.close()
  await app?.close()
  otlp?.close()
  rmSync(dir, { recursive: true, force: true })
})

function tapOnce (port: number, limit: number): { events: Promise<Array<Record<string, any>>>, ready: Promise<void> } {
  let ready!: () => void
  const readyP = new Promise<void>(resolve => { ready = resolve })
  const events = new Promise<Array<Record<string, any>>>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/tap?limit=${limit}` }, res => {
      ready()
      let body = ''
      res.setEncoding('utf8').on('data', c => { body += c })
      res.on('end', () => resolve(body.trim().split('\n').filter(Boolean).map(l => JSON.parse(l))))
    })
    req.on('error', reject)
    req.end()
  })
  return { events, ready: readyP }
}

async function getAdmin (port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return await res.text()
}

function assertNoSecret (where: string, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(value), `${where} carries the ${name} value`)
    assert.ok(!text.includes(value.split(' ').at(-1)!), `${where} carries part of the ${name} value`)
  }
  assert.ok(!text.includes('secret-set-cookie'), `${where} carries the app's set-cookie`)
  assert.doesNotMatch(text, /PRIVATE KEY/, `${where} carries a private key`)
  assert.ok(!text.includes(id.privateKeyPem.split('\n')[1]), `${where} carries key material`)
}

test('credentials are redacted in /tap, the access log and spans; nothing else is lost', async () => {
  const taps = [tapOnce(server.admin, 1), tapOnce(caller.admin, 1)]
  await Promise.all(taps.map(t => t.ready))
  await new Promise(resolve => setTimeout(resolve, 100))
  const c = client(caller.outbound)
  const r = await c.request({ method: 'GET', path: '/reviews/1', headers: { host: 'reviews:9080', 'user-agent': 'leak-test/1', 'x-request-id': 'req-42', ...SECRETS } })
  assert.equal(r.statusCode, 200)
  await r.body.text()
  await c.close()
  assert.equal(app.seen.at(-1)!.headers.authorization, SECRETS.authorization, 'the app itself still gets its credentials')
  const [inbound, outbound] = await Promise.all(taps.map(t => t.events))
  for (const [where, ev] of [['inbound /tap', inbound[0]], ['outbound /tap', outbound[0]]] as const) {
    assertNoSecret(where, JSON.stringify(ev))
    assert.equal(ev.request_headers.authorization, '[redacted]', where)
    // proxy-authorization is for this hop: the outbound sidecar sees it (redacted) and does not forward it
    assert.equal(ev.request_headers['proxy-authorization'], where.startsWith('outbound') ? '[redacted]' : undefined, where)
    assert.equal(ev.request_headers.cookie, '[redacted]', where)
    assert.equal(ev.request_headers['x-api-key'], '[redacted]', `${where}: MeshConfig telemetry.redactHeaders`)
    assert.equal(ev.request_headers['user-agent'], 'leak-test/1', where)
  }
  // access logs and spans are flushed asynchronously
  const deadline = Date.now() + 10_000
  while ((spans.length < 2 || !readFileSync(join(dir, 'inbound.log'), 'utf8').includes('req-42')) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  for (const log of ['inbound.log', 'outbound.log']) {
    const text = readFileSync(join(dir, log), 'utf8')
    assert.match(text, /"request_id":"req-42"/, log)
    assert.match(text, /"user_agent":"leak-test\/1"/, log)
    assertNoSecret(log, text)
  }
  assert.ok(spans.length >= 2, `spans exported: ${spans.length}`)
  for (const s of spans) assertNoSecret('OTLP span export', s)
  assert.match(spans.join(''), /leak-test\/1/)
})

test('no admin endpoint answers with key material or tokens', async () => {
  for (const p of [server, caller]) {
    for (const path of ['/', '/ready', '/config', '/metrics', '/app-health', '/nope']) {
      assertNoSecret(`admin ${path}`, await getAdmin(p.admin, path))
    }
    const config = JSON.parse(await getAdmin(p.admin, '/config'))
    assert.ok(config.snapshot.node.id.length > 0, 'the /config answer is the snapshot')
  }
})

test('admin listeners of a loopback mesh bind 127.0.0.1 only', async () => {
  // the proxy itself: an admin listener asked for 127.0.0.1 is not reachable on another loopback address
  const refused = await new Promise<string>(resolve => {
    const s = connect(server.admin, '127.0.0.2')
    s.on('connect', () => { s.destroy(); resolve('connected') })
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
  })
  assert.equal(refused, 'ECONNREFUSED')
  // the CLI default, and what the loopback runtime asks of every sidecar and gateway
  const { usage } = await import('../../src/cli/commands/proxy.ts')
  assert.match(usage, /--admin <addr>.*default 127\.0\.0\.1:15000/)
  const { LoopbackNetwork } = await import('../../src/runtime/mesh-network.ts')
  const { PortAllocator } = await import('../../src/runtime/ports.ts')
  const net = new LoopbackNetwork(new PortAllocator(), 'http://127.0.0.1:15010')
  const inst = await net.placeInstance({ readinessPath: '/' } as never)
  const gw = await net.placeGateway({} as never, 0)
  assert.match(inst.sidecar.admin, /^127\.0\.0\.1:\d+$/)
  assert.match(gw.admin, /^127\.0\.0\.1:\d+$/)
})
