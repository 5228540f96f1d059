import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { parseTimeoutHeader } from '../../src/dataplane/resilience/deadline.ts'
import { client, snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const policy = (name: string, target: string, spec: Record<string, unknown>) => ({
  apiVersion: 'meshwork.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name }, spec: { targetRef: { name: target }, ...spec }
})
const route = (name: string, parent: string, rule: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: parent }], rules: [rule] }
})

let flaky: Origin // fails the first two requests of each `?key=`, then answers
let slow: Origin // waits `?ms=` before answering
let bad: Origin // always 500
let good: Origin
let good2: Origin
let sick: Origin // answers requests, but its /healthz says 503
let slowB: Origin // like slow, for the connections-limit test (own pool)
let p: RunningProxy
const failures = new Map<string, number>()

before(async () => {
  flaky = await startOrigin('flaky', (req, res, body) => {
    const key = new URL(req.url!, 'http://x').searchParams.get('key') ?? ''
    const n = failures.get(key) ?? 0
    failures.set(key, n + 1)
    if (n < 2) { res.writeHead(503); res.end('busy'); return }
    res.end(`ok after ${n + 1} tries, body ${body.length}`)
  })
  slow = await startOrigin('slow', (req, res) => {
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 0)
    const t = setTimeout(() => { res.end(JSON.stringify({ timeout: req.headers['meshwork-timeout'] ?? null })) }, ms)
    res.on('close', () => clearTimeout(t))
  })
  bad = await startOrigin('bad', (_req, res) => { res.writeHead(500); res.end('bad') })
  good = await startOrigin('good')
  good2 = await startOrigin('good2')
  slowB = await startOrigin('slowB', (req, res) => {
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 0)
    setTimeout(() => res.end('ok'), ms)
  })
  sick = await startOrigin('sick', (req, res) => {
    res.writeHead(req.url === '/healthz' ? 503 : 200)
    res.end(JSON.stringify({ name: 'sick' }))
  })
  p = await startProxy(snapshot('res-1', {
    flaky: { endpoints: [{ id: 'flaky-0', port: flaky.port }] },
    slow: { endpoints: [{ id: 'slow-0', port: slow.port }] },
    limited: { endpoints: [{ id: 'limited-0', port: slow.port }] },
    mixed: { endpoints: [{ id: 'bad-0', port: bad.port }, { id: 'good-0', port: good.port }] },
    rr: { endpoints: [{ id: 'good-a', port: good.port }, { id: 'good-b', port: good2.port }] },
    nobudget: { endpoints: [{ id: 'flaky-nb', port: flaky.port }] },
    pooled: { endpoints: [{ id: 'pooled-0', port: slowB.port }] },
    checked: { endpoints: [{ id: 'sick-0', port: sick.port }, { id: 'good-c', port: good.port }] }
  }, {
    routes: [
      route('flaky', 'flaky', { backendRefs: [{ name: 'flaky' }], retry: { attempts: 3, backoff: '1ms', codes: [503] } }),
      route('slow', 'slow', { backendRefs: [{ name: 'slow' }], timeouts: { request: '300ms', backendRequest: '100ms' }, retry: { attempts: 1, backoff: '1ms' } }),
      route('nobudget', 'nobudget', { backendRefs: [{ name: 'nobudget' }], retry: { attempts: 3, backoff: '1ms', codes: [503] } })
    ],
    destinationPolicies: [
      policy('limited', 'limited', { connectionPool: { maxRequests: 1 } }),
      policy('mixed', 'mixed', { loadBalancer: { type: 'RoundRobin' }, outlierDetection: { consecutive5xx: 3, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 50 } }),
      policy('rr', 'rr', { loadBalancer: { type: 'RoundRobin' } }),
      policy('nobudget', 'nobudget', { retryBudget: { ratio: 0, minRetriesPerSecond: 0 } }),
      policy('pooled', 'pooled', { connectionPool: { maxConnections: 1, maxPendingRequests: 1 } }),
      policy('checked', 'checked', { loadBalancer: { type: 'RoundRobin' }, healthCheck: { path: '/healthz', interval: '100ms', timeout: '1s', unhealthyThreshold: 1 } })
    ]
  }))
})

after(async () => {
  await p.close()
  await Promise.all([flaky, slow, bad, good, good2, sick, slowB].map(o => o.close()))
})

async function call (host: string, path: string, opts: { method?: string, headers?: Record<string, string>, body?: Buffer | string } = {}) {
  const c = client(p.outbound)
  try {
    const r = await c.request({ method: (opts.method ?? 'GET') as 'GET', path, headers: { host, ...opts.headers }, body: opts.body })
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() }
  } finally {
    await c.close()
  }
}

test('retries a 503 within the route policy and counts the retries in /metrics', async () => {
  const r = await call('flaky', '/x?key=a', { method: 'POST', body: 'small body' })
  assert.equal(r.status, 200)
  assert.equal(r.text, 'ok after 3 tries, body 10')
  const metrics = await (await fetch(`http://127.0.0.1:${p.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_retries_total\{[^}]*destination="flaky"[^}]*\} 2/)
})

test('does not retry a request whose body is over 64 KiB', async () => {
  const r = await call('flaky', '/x?key=big', { method: 'POST', body: Buffer.alloc(100 * 1024, 'b') })
  assert.equal(r.status, 503)
  assert.equal(failures.get('big'), 1)
})

test('per-try timeout retries, then the route timeout answers 504 MESH_ERR_UPSTREAM_TIMEOUT', async () => {
  const r = await call('slow', '/x?ms=2000')
  assert.equal(r.status, 504)
  assert.equal(r.headers['x-meshwork-error'], 'MESH_ERR_UPSTREAM_TIMEOUT')
  const ok = await call('slow', '/x?ms=0')
  assert.equal(ok.status, 200)
})

test('propagates the remaining deadline and answers a spent one at once with MESH_ERR_DEADLINE_EXCEEDED', async () => {
  const r = await call('slow', '/x?ms=0', { headers: { 'meshwork-timeout': '250m' } })
  assert.equal(r.status, 200)
  const forwarded = parseTimeoutHeader(JSON.parse(r.text).timeout as string)
  assert.ok(forwarded !== null && forwarded < 250 && forwarded > 100, String(forwarded))
  const seen = slow.seen.length
  const spent = await call('slow', '/x?ms=0', { headers: { 'meshwork-timeout': '0m' } })
  assert.equal(spent.status, 504)
  assert.equal(spent.headers['x-meshwork-error'], 'MESH_ERR_DEADLINE_EXCEEDED')
  assert.equal(slow.seen.length, seen, 'the upstream must not be called')
})

test('circuit breaker: a request over maxRequests gets 503 MESH_ERR_CIRCUIT_OPEN', async () => {
  const first = call('limited', '/x?ms=500')
  await new Promise(resolve => setTimeout(resolve, 100))
  const second = await call('limited', '/x?ms=0')
  assert.equal(second.status, 503)
  assert.equal(second.headers['x-meshwork-error'], 'MESH_ERR_CIRCUIT_OPEN')
  assert.equal((await first).status, 200)
})

test('outlier detection ejects the endpoint answering 5xx; traffic then goes to the healthy one', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await call('mixed', '/x')).status)
  const last10 = statuses.slice(-10)
  assert.deepEqual(last10, Array(10).fill(200), statuses.join(','))
  assert.ok(statuses.filter(s => s === 500).length <= 3, statuses.join(','))
  const metrics = await (await fetch(`http://127.0.0.1:${p.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_outlier_ejections_total\{destination="mixed",endpoint="bad-0"\} 1/)
})

test('RoundRobin from the DestinationPolicy alternates endpoints', async () => {
  const names: string[] = []
  for (let i = 0; i < 6; i++) names.push(JSON.parse((await call('rr', '/x')).text).name)
  for (let i = 2; i < 6; i++) assert.equal(names[i], names[i - 2])
  assert.notEqual(names[0], names[1])
})

test('an empty retry budget stops retries', async () => {
  const r = await call('nobudget', '/x?key=nb')
  assert.equal(r.status, 503)
  assert.equal(failures.get('nb'), 1)
})

test('active health check (DestinationPolicy.healthCheck) takes the endpoint failing its probe out', async () => {
  const deadline = Date.now() + 10_000
  let names: string[] = []
  while (Date.now() < deadline) {
    names = []
    for (let i = 0; i < 6; i++) names.push(JSON.parse((await call('checked', '/x')).text).name)
    if (names.every(n => n === 'good')) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.deepEqual(names, Array(6).fill('good'))
})

test('connections limit: one request waits as pending for the connection, one more gets MESH_ERR_CIRCUIT_OPEN', async () => {
  const first = call('pooled', '/x?ms=400')
  await new Promise(resolve => setTimeout(resolve, 100))
  const second = call('pooled', '/x?ms=0')
  await new Promise(resolve => setTimeout(resolve, 100))
  const third = await call('pooled', '/x?ms=0')
  assert.equal(third.status, 503)
  assert.equal(third.headers['x-meshwork-error'], 'MESH_ERR_CIRCUIT_OPEN')
  assert.equal((await first).status, 200)
  assert.equal((await second).status, 200)
})
