import assert from 'node:assert/strict'
import { request as httpsRequest } from 'node:https'
import { after, before, test } from 'node:test'
import { createRootCa, issueTestIdentity, type TestIdentity } from '../../src/pki/index.ts'
import { client, raw, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const TD = 'spiffe://cluster.local/ns/default/sa/'
let caPem: string
let rootCa: Awaited<ReturnType<typeof createRootCa>>
let ids: Record<string, TestIdentity>
let otherCa: { certPem: string, id: TestIdentity }
let app: Origin
let server: RunningProxy // reviews sidecar: inbound mTLS STRICT → app
let caller: RunningProxy // productpage sidecar: outbound → reviews over mTLS

const meta = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'meshwork.dev/v1alpha1', kind, metadata: { name }, spec })

function serverSnapshot (version: string, mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE') {
  return {
    version,
    node: { id: 'reviews-v1-0', service: 'reviews', version: 'v1' },
    mesh: { mtls: { mode }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: app.port },
    authorizationPolicies: [meta('AuthorizationPolicy', 'deny-admin', { targetRef: { name: 'reviews' }, action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] })],
    rateLimitPolicies: [meta('RateLimitPolicy', 'reviews-rl', { targetRef: { name: 'reviews' }, local: { requestsPerUnit: 1000, unit: 'second' } })],
    faultInjections: [
      meta('FaultInjection', 'abort', { targetRef: { name: 'reviews' }, matches: [{ path: { type: 'PathPrefix', value: '/fault' } }], abort: { httpStatus: 418, percentage: 100 } }),
      meta('FaultInjection', 'delay', { targetRef: { name: 'reviews' }, matches: [{ path: { type: 'PathPrefix', value: '/delay' } }], delay: { fixedDelay: '300ms', percentage: 100 } })
    ]
  }
}

function callerSnapshot (version: string, identity: string, protocol: 'http1' | 'h2' = 'http1', tls = true) {
  return {
    version,
    node: { id: 'productpage-v1-0', service: 'productpage' },
    mesh: { mtls: { mode: 'STRICT' as const }, tracing: { enabled: false } },
    services: [{ name: 'reviews', port: 9080, endpoints: [{ id: 'reviews-v1-0', address: '127.0.0.1', port: server.inbound, version: 'v1', tls, identity, protocol }] }]
  }
}

before(async () => {
  const root = await createRootCa({ commonName: 'test root', ttlMs: 3_600_000 })
  rootCa = root
  caPem = root.certPem
  ids = {
    reviews: await issueTestIdentity(root, TD + 'reviews', 3_600_000),
    productpage: await issueTestIdentity(root, TD + 'productpage', 3_600_000)
  }
  const other = await createRootCa({ commonName: 'other root', ttlMs: 3_600_000 })
  otherCa = { certPem: other.certPem, id: await issueTestIdentity(other, TD + 'productpage', 3_600_000) }
  app = await startOrigin('reviews-app')
  server = await startProxy(null, { inbound: true, tls: { certPem: ids.reviews.certPem, keyPem: ids.reviews.privateKeyPem, trustBundlePem: caPem } })
  assert.equal(server.proxy.applySnapshot(serverSnapshot('s1', 'STRICT')).ok, true)
  caller = await startProxy(null, { outbound: true, tls: { certPem: ids.productpage.certPem, keyPem: ids.productpage.privateKeyPem, trustBundlePem: caPem } })
  assert.equal(caller.proxy.applySnapshot(callerSnapshot('c1', TD + 'reviews')).ok, true)
})

after(async () => {
  await caller.close()
  await server.close()
  await app.close()
})

async function viaCaller (path: string, method = 'GET') {
  const c = client(caller.outbound)
  try {
    const r = await c.request({ method: method as 'GET', path, headers: { host: 'reviews:9080' } })
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() }
  } finally {
    await c.close()
  }
}

test('sidecar to sidecar over mTLS: the app is reached and the peer SPIFFE ID is the source identity', async () => {
  const r = await viaCaller('/reviews/1')
  assert.equal(r.status, 200)
  assert.equal(JSON.parse(r.text).name, 'reviews-app')
  const metrics = await (await fetch(`http://127.0.0.1:${server.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_requests_total\{direction="inbound",source="spiffe:\/\/cluster\.local\/ns\/default\/sa\/productpage",destination="reviews"[^}]*code="200"/)
})

test('STRICT refuses callers without a valid mesh certificate (plaintext, or a cert from another CA)', async () => {
  const plain = await raw(server.inbound, 'GET / HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n')
  assert.match(plain, /^HTTP\/1\.1 403 /)
  assert.match(plain, /x-meshwork-error: MESH_ERR_PEER_IDENTITY/)
  const foreign = await new Promise<{ status: number, code: string }>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: server.inbound, path: '/', rejectUnauthorized: false, cert: otherCa.id.certPem, key: otherCa.id.privateKeyPem }, res => {
      res.resume()
      resolve({ status: res.statusCode!, code: String(res.headers['x-meshwork-error']) })
    })
    req.on('error', reject)
    req.end()
  })
  assert.deepEqual(foreign, { status: 403, code: 'MESH_ERR_PEER_IDENTITY' })
})

test('outbound verifies that the peer presents the SPIFFE ID the endpoint declares', async () => {
  assert.equal(caller.proxy.applySnapshot(callerSnapshot('c2', TD + 'ratings')).ok, true)
  try {
    const r = await viaCaller('/reviews/1')
    assert.equal(r.status, 503)
    assert.equal(r.headers['x-meshwork-error'], 'MESH_ERR_UPSTREAM_CONNECT')
  } finally {
    caller.proxy.applySnapshot(callerSnapshot('c3', TD + 'reviews'))
  }
})

test('AuthorizationPolicy DENY answers 403 MESH_ERR_FORBIDDEN', async () => {
  const r = await viaCaller('/admin/x')
  assert.equal(r.status, 403)
  assert.equal(r.headers['x-meshwork-error'], 'MESH_ERR_FORBIDDEN')
  assert.equal((await viaCaller('/ok')).status, 200)
})

test('fault injection: abort with the configured status, delay before forwarding', async () => {
  const a = await viaCaller('/fault/x')
  assert.equal(a.status, 418)
  assert.equal(a.headers['x-meshwork-error'], 'MESH_ERR_FAULT_ABORT')
  const t0 = Date.now()
  const d = await viaCaller('/delay/x')
  assert.equal(d.status, 200)
  assert.ok(Date.now() - t0 >= 250, `delay was ${Date.now() - t0} ms`)
})

test('local rate limit answers 429 MESH_ERR_RATE_LIMITED past the bucket', async () => {
  const snap = serverSnapshot('s-rl', 'STRICT')
  snap.rateLimitPolicies = [meta('RateLimitPolicy', 'reviews-rl', { targetRef: { name: 'reviews' }, local: { requestsPerUnit: 2, unit: 'minute' } })]
  assert.equal(server.proxy.applySnapshot(snap).ok, true)
  try {
    const statuses = [(await viaCaller('/a')).status, (await viaCaller('/a')).status]
    const third = await viaCaller('/a')
    assert.deepEqual(statuses, [200, 200])
    assert.equal(third.status, 429)
    assert.equal(third.headers['x-meshwork-error'], 'MESH_ERR_RATE_LIMITED')
  } finally {
    server.proxy.applySnapshot(serverSnapshot('s2', 'STRICT'))
  }
})

test('PERMISSIVE accepts plaintext callers; DISABLE too', async () => {
  for (const mode of ['PERMISSIVE', 'DISABLE'] as const) {
    assert.equal(server.proxy.applySnapshot(serverSnapshot(`s-${mode}`, mode)).ok, true)
    const plain = await raw(server.inbound, 'GET /p HTTP/1.1\r\nHost: reviews\r\nConnection: close\r\n\r\n')
    assert.match(plain, /^HTTP\/1\.1 200 /, mode)
  }
  server.proxy.applySnapshot(serverSnapshot('s3', 'STRICT'))
})

test('HTTP/2 between sidecars (endpoint protocol h2): mTLS and cleartext, bodies both ways', async () => {
  for (const [tls, mode] of [[true, 'STRICT'], [false, 'DISABLE']] as const) {
    assert.equal(server.proxy.applySnapshot(serverSnapshot(`s-h2-${mode}`, mode)).ok, true)
    assert.equal(caller.proxy.applySnapshot(callerSnapshot(`c-h2-${mode}`, TD + 'reviews', 'h2', tls)).ok, true)
    const c = client(caller.outbound)
    try {
      const get = await c.request({ method: 'GET', path: '/h2/get', headers: { host: 'reviews' } })
      assert.equal(get.statusCode, 200)
      const body = await get.body.json() as { url: string, headers: Record<string, string> }
      assert.equal(body.url, '/h2/get')
      const post = await c.request({ method: 'POST', path: '/h2/post', headers: { host: 'reviews' }, body: 'x'.repeat(70_000) })
      assert.equal((await post.body.json() as { body: string }).body.length, 70_000)
      async function * gen (): AsyncGenerator<Buffer> { for (let i = 0; i < 4; i++) yield Buffer.from(`part${i};`) }
      const { Readable } = await import('node:stream')
      const chunked = await c.request({ method: 'POST', path: '/h2/chunked', headers: { host: 'reviews' }, body: Readable.from(gen()) })
      assert.equal((await chunked.body.json() as { body: string }).body, 'part0;part1;part2;part3;')
      const denied = await c.request({ method: 'GET', path: '/admin', headers: { host: 'reviews' } })
      assert.equal(denied.statusCode, 403)
      assert.equal(denied.headers['x-meshwork-error'], 'MESH_ERR_FORBIDDEN')
      await denied.body.text()
    } finally {
      await c.close()
    }
    const metrics = await (await fetch(`http://127.0.0.1:${server.admin}/metrics`)).text()
    assert.match(metrics, /meshwork_requests_total\{direction="inbound"[^}]*route="inbound",code="200"/)
  }
  server.proxy.applySnapshot(serverSnapshot('s4', 'STRICT'))
  caller.proxy.applySnapshot(callerSnapshot('c4', TD + 'reviews'))
})

test('setTlsMaterial rotates the identity: the next calls present the new certificate', async () => {
  const rotated = await issueTestIdentity(rootCa, TD + 'productpage-rotated', 3_600_000)
  assert.equal((await viaCaller('/before-rotation')).status, 200)
  caller.proxy.setTlsMaterial({ certPem: rotated.certPem, keyPem: rotated.privateKeyPem, trustBundlePem: caPem })
  try {
    assert.equal((await viaCaller('/after-rotation')).status, 200)
    const metrics = await (await fetch(`http://127.0.0.1:${server.admin}/metrics`)).text()
    assert.match(metrics, /meshwork_requests_total\{direction="inbound",source="spiffe:\/\/cluster\.local\/ns\/default\/sa\/productpage-rotated"/)
  } finally {
    caller.proxy.setTlsMaterial({ certPem: ids.productpage.certPem, keyPem: ids.productpage.privateKeyPem, trustBundlePem: caPem })
  }
})
