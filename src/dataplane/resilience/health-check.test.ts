import assert from 'node:assert/strict'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { DestinationPolicySpec } from '../../config/destination-policy.ts'
import { ep } from './balancer.case.test.ts'
import { EndpointSet, type EndpointState } from './endpoint-state.ts'
import { createRootCa, issueTestIdentity } from '../../pki/index.ts'
import { checkSpiffeIdentity } from '../tls/index.ts'
import { createHttpProbe, HealthChecker, httpProbe } from './health-check.ts'

let server: http.Server
let port = 0
let status = 200
let hits = 0

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hang') return // never answers: the probe must time out
    hits++
    res.statusCode = req.url === '/healthz' ? status : 404
    res.end('x')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

after(async () => {
  server.closeAllConnections()
  await new Promise<void>(resolve => server.close(() => resolve()))
})

function setFor (p: number): EndpointSet {
  return new EndpointSet([ep('app', { port: p })])
}

test('the HTTP probe reports a 2xx as healthy and anything else as unhealthy', async () => {
  const set = setFor(port)
  status = 200
  assert.equal(await httpProbe(set.states[0], '/healthz', 2000), true)
  status = 503
  assert.equal(await httpProbe(set.states[0], '/healthz', 2000), false)
  assert.equal(await httpProbe(set.states[0], '/other', 2000), false)
  status = 200
})

test('the HTTP probe fails on a refused connection and on a timeout', async () => {
  const closed = http.createServer()
  await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
  const deadPort = (closed.address() as AddressInfo).port
  await new Promise<void>(resolve => closed.close(() => resolve()))
  assert.equal(await httpProbe(setFor(deadPort).states[0], '/healthz', 2000), false)
  const t0 = performance.now()
  assert.equal(await httpProbe(setFor(port).states[0], '/hang', 100), false)
  assert.ok(performance.now() - t0 < 5000)
})

test('marks an endpoint down after unhealthyThreshold failed checks and up after healthyThreshold good ones', async () => {
  const set = setFor(port)
  const a = set.states[0]
  const changes: Array<[string, boolean]> = []
  const hc = new HealthChecker({
    endpoints: () => set.states, path: '/healthz', timeoutMs: 2000, unhealthyThreshold: 2, healthyThreshold: 2,
    onChange: (e, h) => { changes.push([e.id, h]) }
  })
  status = 503
  await hc.checkNow()
  assert.equal(a.healthy, true, 'one failure is below the threshold')
  await hc.checkNow()
  assert.equal(a.healthy, false)
  assert.equal(a.isAvailable(0), false)
  status = 200
  await hc.checkNow()
  assert.equal(a.healthy, false, 'one success is below the healthy threshold')
  await hc.checkNow()
  assert.equal(a.healthy, true)
  assert.deepEqual(changes, [['app', false], ['app', true]])
})

test('probes on its own schedule after start() and stops probing after stop()', async t => {
  const set = setFor(port)
  const hc = new HealthChecker({ endpoints: () => set.states, path: '/healthz', intervalMs: 30, timeoutMs: 2000, unhealthyThreshold: 1 })
  t.after(() => hc.stop())
  status = 503
  hc.start()
  const until = performance.now() + 10_000
  while (set.states[0].healthy && performance.now() < until) await sleep(20)
  assert.equal(set.states[0].healthy, false)
  status = 200
  await hc.stop()
  const count = hits
  await sleep(200)
  assert.equal(hits, count, 'no probe after stop')
  status = 200
})

test('keeps at most one probe in flight per endpoint', async () => {
  const set = new EndpointSet([ep('a'), ep('b')])
  let running = 0
  let maxRunning = 0
  let calls = 0
  const probe = async (_e: EndpointState): Promise<boolean> => {
    calls++
    running++
    maxRunning = Math.max(maxRunning, running)
    await sleep(50)
    running--
    return true
  }
  const hc = new HealthChecker({ endpoints: () => set.states, probe })
  const r1 = hc.checkNow()
  const r2 = hc.checkNow() // both endpoints still probing: skipped
  await Promise.all([r1, r2])
  assert.equal(calls, 2)
  assert.equal(maxRunning, 2)
})

test('a probe that rejects counts as a failure', async () => {
  const set = new EndpointSet([ep('a')])
  const hc = new HealthChecker({ endpoints: () => set.states, unhealthyThreshold: 1, probe: () => Promise.reject(new Error('x')) })
  await hc.checkNow()
  assert.equal(set.states[0].healthy, false)
})

test('follows snapshot swaps: new endpoints are probed, state of kept ones survives', async () => {
  const set = new EndpointSet([ep('a')])
  const probed: string[] = []
  const hc = new HealthChecker({ endpoints: () => set.states, unhealthyThreshold: 1, probe: async e => { probed.push(e.id); return e.id !== 'a' } })
  await hc.checkNow()
  set.update([ep('a'), ep('b')])
  await hc.checkNow()
  assert.deepEqual(probed, ['a', 'a', 'b'])
  assert.equal(set.get('a')!.healthy, false)
  assert.equal(set.get('b')!.healthy, true)
})

test('fromPolicy takes path, durations and thresholds from the policy', () => {
  const spec = DestinationPolicySpec.parse({ targetRef: { name: 'x' }, healthCheck: { path: '/ready', interval: '2s', timeout: '250ms' } }).healthCheck!
  const hc = HealthChecker.fromPolicy(spec, () => [])
  assert.equal(hc.path, '/ready')
  assert.equal(hc.intervalMs, 2000)
  assert.equal(hc.timeoutMs, 250)
  assert.equal(hc.unhealthyThreshold, 2)
  assert.equal(hc.healthyThreshold, 1)
})

test('probes an mTLS endpoint over TLS with the given material and checks its identity', async t => {
  const root = await createRootCa({ commonName: 'hc test root', ttlMs: 3600_000 })
  const serverId = await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/reviews', 3600_000)
  const clientId = await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/productpage', 3600_000)
  let tlsHits = 0
  const srv = https.createServer({ cert: serverId.certPem, key: serverId.privateKeyPem, ca: root.certPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
    tlsHits++
    res.end('ok')
  })
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>(resolve => { srv.closeAllConnections(); srv.close(() => resolve()) }))
  const tlsPort = (srv.address() as AddressInfo).port
  const reviews = new EndpointSet([ep('reviews-v1-0', { port: tlsPort, tls: true, identity: serverId.spiffeId })]).states[0]
  const material = (expected: string) => () => ({ cert: clientId.certPem, key: clientId.privateKeyPem, ca: root.certPem, checkServerIdentity: checkSpiffeIdentity(expected) })

  assert.equal(await createHttpProbe({ tls: material(serverId.spiffeId) })(reviews, '/healthz', 5000), true)
  assert.equal(tlsHits, 1)
  assert.equal(await createHttpProbe({ tls: material('spiffe://cluster.local/ns/default/sa/someone-else') })(reviews, '/healthz', 5000), false, 'wrong peer identity')
  const noClientCert = () => ({ ca: root.certPem, checkServerIdentity: checkSpiffeIdentity(serverId.spiffeId) })
  assert.equal(await createHttpProbe({ tls: noClientCert })(reviews, '/healthz', 5000), false, 'server requires a client certificate')
  assert.equal(tlsHits, 1)
})

test('an mTLS endpoint is not probed (reported healthy) when no TLS material is available', async () => {
  const set = new EndpointSet([ep('peer', { port, tls: true })])
  const before = hits
  assert.equal(await httpProbe(set.states[0], '/healthz', 2000), true)
  assert.equal(await createHttpProbe({ tls: () => null })(set.states[0], '/healthz', 2000), true)
  assert.equal(hits, before, 'no plain request was sent to a TLS endpoint')
})
