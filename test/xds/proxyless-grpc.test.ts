/**
 * Proof with a real client: a proxyless gRPC app (@grpc/grpc-js + @grpc/grpc-js-xds, target
 * `xds:///reviews`) bootstrapped at Meshwork's xDS server, against real grpc-js servers registered as the
 * endpoints of `reviews` v1/v2. Endpoints `app` (the servers' own plain-text ports): the client applies
 * routing, retries, timeouts and faults itself, all compiled from Meshwork config.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { renderGrpcBootstrap } from '../../src/controlplane/xds/bootstrap.ts'
import { type Backend, registerInstance, startBackend, XDS_MESH, XdsApp } from './helpers.ts'

let cp: ControlPlane
let app: XdsApp
const backends: Backend[] = []
const registrations: { close (): void }[] = []
const TARGET = 'xds:///reviews'

const route = (rules: string): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ kind: Service, name: reviews, port: 9080 }]
  rules:
${rules}`

before(async () => {
  cp = await startControlPlane({ files: [XDS_MESH], port: 0, xdsPort: 0, disconnectGraceMs: 300 })
  for (const [id, version] of [['reviews-v1-a', 'v1'], ['reviews-v1-b', 'v1'], ['reviews-v2-a', 'v2']] as const) {
    const b = await startBackend(id)
    backends.push(b)
    registrations.push(await registerInstance(cp.url, { id, service: 'reviews', version, app: b.port }))
  }
  app = new XdsApp(renderGrpcBootstrap({ xdsAddress: cp.xdsAddress!, service: 'productpage', version: 'v1' }))
})

after(async () => {
  await app?.close()
  for (const r of registrations) r.close()
  for (const b of backends) await b.close()
  await cp?.close()
})

test('xds:///reviews resolves to the registered gRPC servers and round-robins over every healthy one', async () => {
  const r = await app.until({ target: TARGET, calls: 30 }, r => Object.keys(r.instances).length === 3)
  assert.deepEqual(Object.keys(r.instances).sort(), ['reviews-v1-a', 'reviews-v1-b', 'reviews-v2-a'])
  for (const n of Object.values(r.instances)) assert.ok(n >= 5, JSON.stringify(r.instances))
  assert.equal(r.codes['0'], 30)
  // The client is listed with its subscriptions, all ACKed.
  const listed = [...cp.xds!.streams.values()].find(s => s.node?.kind === 'grpc')
  assert.ok(listed, 'the gRPC client is listed')
  assert.equal(listed.node?.service, 'productpage')
})

test('a 90/10 weighted HTTPRoute splits calls 90/10 (1,000 calls, binomial bounds ±4σ)', async () => {
  const res = await cp.apply(route(`
    - backendRefs: [{ name: reviews-v1, weight: 90 }, { name: reviews-v2, weight: 10 }]`), 'weights.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  // Wait until the client follows (only v1 + v2 instances, never the whole-service picks of before).
  await app.until({ target: TARGET, calls: 200, concurrency: 8 }, r => (r.instances['reviews-v2-a'] ?? 0) < 50 && (r.instances['reviews-v2-a'] ?? 0) > 0)
  const r = await app.call({ target: TARGET, calls: 1000, concurrency: 16 })
  assert.equal(r.codes['0'], 1000)
  const v2 = r.instances['reviews-v2-a'] ?? 0
  // p = 0.1, n = 1000: σ ≈ 9.5 → [62, 138].
  assert.ok(v2 >= 62 && v2 <= 138, `v2 got ${v2} of 1000`)
  // v1's two instances share their 90 %.
  assert.ok((r.instances['reviews-v1-a'] ?? 0) > 300 && (r.instances['reviews-v1-b'] ?? 0) > 300, JSON.stringify(r.instances))
})

test('a header match sends x-user: jason to v2, everyone else to v1', async () => {
  const res = await cp.apply(route(`
    - matches: [{ headers: [{ name: x-user, value: jason }] }]
      backendRefs: [{ name: reviews-v2 }]
    - backendRefs: [{ name: reviews-v1 }]`), 'header.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  await app.until({ target: TARGET, calls: 20, metadata: { 'x-user': 'jason' } }, r => r.instances['reviews-v2-a'] === 20)
  const other = await app.until({ target: TARGET, calls: 40 }, r => (r.instances['reviews-v2-a'] ?? 0) === 0)
  assert.equal((other.instances['reviews-v1-a'] ?? 0) + (other.instances['reviews-v1-b'] ?? 0), 40)
})

test('route retry (A44): UNAVAILABLE twice, then served on the third attempt; without the retry the call fails', async () => {
  const noRetry = await cp.apply(route(`
    - backendRefs: [{ name: reviews-v2 }]`), 'no-retry.yaml')
  assert.equal(noRetry.ok, true, JSON.stringify(noRetry.problems))
  await app.until({ target: TARGET, calls: 10 }, r => r.instances['reviews-v2-a'] === 10)
  const failed = await app.call({ target: TARGET, calls: 5, request: { fail_times: 2 } })
  assert.equal(failed.codes['14'], 5, JSON.stringify(failed))

  const res = await cp.apply(route(`
    - backendRefs: [{ name: reviews-v2 }]
      retry: { attempts: 2, backoff: 10ms, codes: [503], grpcCodes: [unavailable] }`), 'retry.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  const ok = await app.until({ target: TARGET, calls: 5, request: { fail_times: 2 } }, r => r.codes['0'] === 5)
  assert.equal(ok.instances['reviews-v2-a'], 5)
  // attempts: 2 retries → 3 tries at most: failing 3 times is not retried further.
  const exhausted = await app.call({ target: TARGET, calls: 5, request: { fail_times: 3 } })
  assert.equal(exhausted.codes['14'], 5, JSON.stringify(exhausted))
})

test('route timeout (A31 max_stream_duration): a 1 s call is cut at 200 ms with DEADLINE_EXCEEDED', async () => {
  const res = await cp.apply(route(`
    - backendRefs: [{ name: reviews-v2 }]
      timeouts: { request: 200ms }`), 'timeout.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  const r = await app.until({ target: TARGET, calls: 3, request: { sleep_ms: 1000 } }, r => r.codes['4'] === 3)
  for (const ms of r.latenciesMs) assert.ok(ms >= 150 && ms < 900, `latency ${ms} ms`)
  // Quick calls still pass under the same route.
  const quick = await app.call({ target: TARGET, calls: 3 })
  assert.equal(quick.codes['0'], 3)
})

test('FaultInjection (A33): abort on a header match answers UNAVAILABLE, delay adds its fixed delay', async () => {
  const res = await cp.apply(`${route(`
    - backendRefs: [{ name: reviews-v2 }]`)}
---
apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: reviews-abort }
spec:
  targetRef: { name: reviews-v2 }
  matches: [{ headers: [{ name: x-test, value: abort }] }]
  abort: { httpStatus: 503, percentage: 100 }
---
apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: reviews-delay }
spec:
  targetRef: { name: reviews }
  matches: [{ headers: [{ name: x-test, value: delay }] }]
  delay: { fixedDelay: 300ms, percentage: 100 }
`, 'faults.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  const aborted = await app.until({ target: TARGET, calls: 5, metadata: { 'x-test': 'abort' } }, r => r.codes['14'] === 5)
  assert.equal(aborted.instances['reviews-v2-a'], undefined)
  const delayed = await app.until({ target: TARGET, calls: 3, metadata: { 'x-test': 'delay' } }, r => r.codes['0'] === 3 && r.latenciesMs.every(ms => ms >= 280))
  for (const ms of delayed.latenciesMs) assert.ok(ms >= 280 && ms < 2000, `latency ${ms}`)
  const plain = await app.call({ target: TARGET, calls: 5 })
  assert.equal(plain.codes['0'], 5)
  for (const ms of plain.latenciesMs) assert.ok(ms < 250, `an unmatched call was delayed: ${ms} ms`)
  const del = await cp.delete(['FaultInjection/default/reviews-abort', 'FaultInjection/default/reviews-delay'])
  assert.equal(del.ok, true)
  await app.until({ target: TARGET, calls: 5, metadata: { 'x-test': 'abort' } }, r => r.codes['0'] === 5)
})

test('endpoint churn reaches the client: a new instance gets calls, a gone one stops getting them', async () => {
  const res = await cp.apply(route(`
    - backendRefs: [{ name: reviews-v1 }]`), 'v1.yaml')
  assert.equal(res.ok, true)
  const c = await startBackend('reviews-v1-c')
  backends.push(c)
  const reg = await registerInstance(cp.url, { id: 'reviews-v1-c', service: 'reviews', version: 'v1', app: c.port })
  await app.until({ target: TARGET, calls: 30 }, r => (r.instances['reviews-v1-c'] ?? 0) > 0)
  reg.close() // the sidecar's stream ends: after the 300 ms grace its endpoint is removed
  await app.until({ target: TARGET, calls: 30 }, r => r.codes['0'] === 30 && r.instances['reviews-v1-c'] === undefined)
})

test('GRPCRoute: a method + header match sends meshwork.test.Reviews/Get with x-user: jason to v2, a service regex the rest to v1', async () => {
  // One Service takes one route kind (the control plane refuses both: GEP-1294), so the HTTPRoute goes first.
  if (cp.resources().some(l => l.resource.kind === 'HTTPRoute' && l.resource.metadata.name === 'reviews')) assert.equal((await cp.delete(['HTTPRoute/default/reviews'])).ok, true)
  const res = await cp.apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: reviews-grpc }
spec:
  parentRefs: [{ kind: Service, name: reviews, port: 9080 }]
  rules:
    - matches: [{ method: { service: meshwork.test.Reviews, method: Get }, headers: [{ name: x-user, value: jason }] }]
      backendRefs: [{ name: reviews-v2 }]
    - matches: [{ method: { type: RegularExpression, service: 'meshwork\\.test\\..*' } }]
      backendRefs: [{ name: reviews-v1 }]
`, 'grpc-route.yaml')
  assert.equal(res.ok, true, JSON.stringify(res.problems))
  await app.until({ target: TARGET, calls: 10, metadata: { 'x-user': 'jason' } }, r => r.instances['reviews-v2-a'] === 10)
  const other = await app.call({ target: TARGET, calls: 20 })
  assert.equal(other.instances['reviews-v2-a'], undefined, JSON.stringify(other))
  assert.equal(other.codes['0'], 20)
  assert.equal((await cp.delete(['GRPCRoute/default/reviews-grpc'])).ok, true)
})
