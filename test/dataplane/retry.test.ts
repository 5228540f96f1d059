/**
 * The proxy's retries follow the one retry policy of `resilience/retry.ts`: resets before any response byte
 * are retried only with `onConnectFailure`, per-try timeouts only when `codes` has 504, and the backoff is
 * the fully jittered exponential one (capped at 10 × base).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { client, snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const route = (name: string, rule: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name }], rules: [{ backendRefs: [{ name }], ...rule }] }
})

let resetter: Origin // closes every connection without answering
let sleepy: Origin // answers after 2 s
let flaky: Origin // 503 until `?ok=` tries, with the arrival times
let p: RunningProxy
const hits = new Map<string, number>()
const arrivals: number[] = []

before(async () => {
  resetter = await startOrigin('resetter', (req, res) => {
    hits.set(req.headers.host!, (hits.get(req.headers.host!) ?? 0) + 1)
    res.socket!.destroy()
  })
  sleepy = await startOrigin('sleepy', (req, res) => {
    hits.set(req.headers.host!, (hits.get(req.headers.host!) ?? 0) + 1)
    const t = setTimeout(() => res.end('late'), 2000)
    res.on('close', () => clearTimeout(t))
  })
  flaky = await startOrigin('flaky', (_req, res) => {
    arrivals.push(performance.now())
    res.writeHead(arrivals.length < 4 ? 503 : 200)
    res.end()
  })
  const eps = (id: string, port: number) => ({ endpoints: [{ id, port }] })
  p = await startProxy(snapshot('retry-1', {
    'reset-retried': eps('r1', resetter.port),
    'reset-not-retried': eps('r2', resetter.port),
    'timeout-not-retried': eps('s1', sleepy.port),
    'timeout-retried': eps('s2', sleepy.port),
    backoff: eps('f1', flaky.port)
  }, {
    routes: [
      route('reset-retried', { retry: { attempts: 2, backoff: '1ms', onConnectFailure: true } }),
      route('reset-not-retried', { retry: { attempts: 2, backoff: '1ms', onConnectFailure: false } }),
      route('timeout-not-retried', { timeouts: { request: '3s', backendRequest: '150ms' }, retry: { attempts: 1, backoff: '1ms', codes: [503] } }),
      route('timeout-retried', { timeouts: { request: '3s', backendRequest: '150ms' }, retry: { attempts: 1, backoff: '1ms', codes: [504] } }),
      route('backoff', { retry: { attempts: 3, backoff: '40ms', codes: [503] } })
    ]
  }))
})

after(async () => {
  await p.close()
  await Promise.all([resetter, sleepy, flaky].map(o => o.close()))
})

async function call (host: string): Promise<{ status: number, code: string | undefined }> {
  const c = client(p.outbound)
  try {
    const r = await c.request({ method: 'GET', path: '/', headers: { host } })
    await r.body.text()
    return { status: r.statusCode, code: r.headers['x-meshwork-error'] as string | undefined }
  } finally {
    await c.close()
  }
}

test('a reset before any response byte is retried with onConnectFailure', async () => {
  const r = await call('reset-retried')
  assert.equal(r.code, 'MESH_ERR_UPSTREAM_RESET')
  assert.equal(hits.get('reset-retried'), 3)
})

test('a reset is not retried when onConnectFailure is false', async () => {
  const r = await call('reset-not-retried')
  assert.equal(r.code, 'MESH_ERR_UPSTREAM_RESET')
  assert.equal(hits.get('reset-not-retried'), 1)
})

test('a per-try timeout is retried only when the retry codes include 504', async () => {
  const no = await call('timeout-not-retried')
  assert.deepEqual(no, { status: 504, code: 'MESH_ERR_UPSTREAM_TIMEOUT' })
  assert.equal(hits.get('timeout-not-retried'), 1)
  const yes = await call('timeout-retried')
  assert.deepEqual(yes, { status: 504, code: 'MESH_ERR_UPSTREAM_TIMEOUT' })
  assert.equal(hits.get('timeout-retried'), 2)
})

test('backoff waits stay under the full-jitter caps (base × (2ⁿ − 1), at most 10 × base)', async () => {
  const r = await call('backoff')
  assert.equal(r.status, 200)
  assert.equal(arrivals.length, 4)
  // retry n waits < 40 × (2ⁿ − 1) ms: 40, 120, 280 → the three waits together stay well under 440 ms + slack
  const total = arrivals[3] - arrivals[0]
  assert.ok(total < 440 + 1500, `retries took ${total.toFixed(0)} ms`)
})
