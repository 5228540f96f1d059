/**
 * Circuit-breaker state across snapshot swaps (requests in flight keep counting) and `maxConnections`
 * per service (a service's clusters `svc` and `svc-v1` share the endpoint pools and the limits).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Client } from 'undici'
import { client, snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const policy = (name: string, target: string, spec: Record<string, unknown>) => ({
  apiVersion: 'meshwork.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name }, spec: { targetRef: { name: target }, ...spec }
})

let held: Origin // holds each request until release() (counts requests in flight)
let paced: Origin // answers after `?ms=`
let inFlight = 0
let maxInFlight = 0
let waiting: (() => void)[] = []
let p: RunningProxy
const clients: Client[] = []

function release (): void { const w = waiting; waiting = []; for (const f of w) f() }

function snap (version: string, maxRequests: number, extra: Record<string, unknown> = {}) {
  return snapshot(version, {
    held: { endpoints: [{ id: 'held-0', port: held.port }] },
    svc: { endpoints: [{ id: 'svc-0', port: paced.port, version: 'v1' }] }
  }, {
    destinationPolicies: [
      policy('held', 'held', { connectionPool: { maxRequests, maxPendingRequests: 1000, ...extra } }),
      policy('svc', 'svc', { connectionPool: { maxConnections: 2, maxPendingRequests: 1000 } })
    ]
  })
}

before(async () => {
  held = await startOrigin('held', (req, res) => {
    inFlight++
    if (inFlight > maxInFlight) maxInFlight = inFlight
    const done = (): void => { inFlight--; res.end('ok') }
    if (new URL(req.url!, 'http://x').searchParams.has('hold')) waiting.push(done)
    else setTimeout(done, 5)
  })
  paced = await startOrigin('paced', (req, res) => {
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 0)
    setTimeout(() => res.end('ok'), ms)
  })
  p = await startProxy(snap('lim-1', 3))
})

after(async () => {
  release()
  await Promise.all(clients.map(c => c.close()))
  await p.close()
  await Promise.all([held, paced].map(o => o.close()))
})

async function call (host: string, path: string): Promise<{ status: number, code: string | undefined }> {
  const c = client(p.outbound)
  clients.push(c)
  const r = await c.request({ method: 'GET', path, headers: { host } })
  await r.body.text()
  return { status: r.statusCode, code: r.headers['x-meshwork-error'] as string | undefined }
}

async function until (cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

test('requests in flight keep counting against maxRequests across snapshot swaps (same and changed policy)', async () => {
  const first = [call('held', '/?hold'), call('held', '/?hold'), call('held', '/?hold')]
  await until(() => inFlight === 3, 'three requests held at the origin')
  assert.deepEqual(await call('held', '/'), { status: 503, code: 'MESH_ERR_CIRCUIT_OPEN' })

  assert.equal(p.proxy.applySnapshot(snap('lim-2', 3)).ok, true)
  assert.deepEqual(await call('held', '/'), { status: 503, code: 'MESH_ERR_CIRCUIT_OPEN' }, 'unchanged policy: same breaker')

  assert.equal(p.proxy.applySnapshot(snap('lim-3', 3, { connectTimeout: '2s' })).ok, true)
  assert.deepEqual(await call('held', '/'), { status: 503, code: 'MESH_ERR_CIRCUIT_OPEN' }, 'changed policy: the old requests still count')

  assert.equal(p.proxy.applySnapshot(snap('lim-4', 4)).ok, true)
  const fourth = call('held', '/?hold')
  await until(() => inFlight === 4, 'a fourth request under the raised limit')
  assert.deepEqual(await call('held', '/'), { status: 503, code: 'MESH_ERR_CIRCUIT_OPEN' })

  release()
  for (const r of await Promise.all([...first, fourth])) assert.equal(r.status, 200)
  assert.equal(maxInFlight, 4)
  assert.equal((await call('held', '/')).status, 200, 'every slot was released into the shared counters')
})

test('hot swaps under load never let more than maxRequests through', async () => {
  assert.equal(p.proxy.applySnapshot(snap('load-0', 3)).ok, true)
  maxInFlight = 0
  let swaps = 0
  let stop = false
  const swapper = (async () => {
    while (!stop) {
      // alternate an unchanged policy and a changed one (connectTimeout) with the same maxRequests
      const r = p.proxy.applySnapshot(snap(`load-${++swaps}`, 3, swaps % 2 === 0 ? { connectTimeout: '3s' } : {}))
      assert.equal(r.ok, true)
      await new Promise(resolve => setTimeout(resolve, 3))
    }
  })()
  const codes = new Map<string, number>()
  const workers = Array.from({ length: 8 }, async () => {
    for (let i = 0; i < 25; i++) {
      const r = await call('held', '/')
      const k = r.code ?? String(r.status)
      codes.set(k, (codes.get(k) ?? 0) + 1)
    }
  })
  await Promise.all(workers)
  stop = true
  await swapper
  assert.ok(swaps > 5, `swaps: ${swaps}`)
  assert.ok((codes.get('200') ?? 0) > 0, JSON.stringify([...codes]))
  assert.deepEqual([...codes.keys()].filter(k => k !== '200' && k !== 'MESH_ERR_CIRCUIT_OPEN'), [])
  assert.ok(maxInFlight <= 3, `the origin saw ${maxInFlight} requests at once`)
})

test('maxConnections holds per service: the service and its subset cluster share the connections', async (t) => {
  // a proxy of its own: the first snapshot compiles the shared limits (no carry-over from earlier swaps)
  const own = await startProxy(snap('conn-1', 3))
  t.after(() => own.close())
  const calls: Promise<number>[] = []
  for (let i = 0; i < 8; i++) {
    calls.push((async () => {
      const c = client(own.outbound)
      clients.push(c)
      const r = await c.request({ method: 'GET', path: '/?ms=50', headers: { host: i % 2 === 0 ? 'svc' : 'svc-v1' } })
      await r.body.text()
      return r.statusCode
    })())
  }
  for (const s of await Promise.all(calls)) assert.equal(s, 200)
  const ports = new Set(paced.seen.map(s => s.remotePort))
  assert.ok(ports.size <= 2, `the origin saw ${ports.size} connections for maxConnections: 2`)
})

test('mirrored copies count against the mirror cluster\'s maxConnections (copies over the limit are dropped)', async (t) => {
  const shadow = await startOrigin('shadow', (_req, res) => { setTimeout(() => res.end('shadow'), 300) })
  t.after(() => shadow.close())
  const own = await startProxy(snapshot('mirror-1', {
    main: { endpoints: [{ id: 'main-0', port: paced.port }] },
    shadow: { endpoints: [{ id: 'shadow-0', port: shadow.port }] }
  }, {
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'main' },
      spec: { parentRefs: [{ name: 'main' }], rules: [{ backendRefs: [{ name: 'main' }], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow' } } }] }] }
    }],
    destinationPolicies: [policy('shadow', 'shadow', { connectionPool: { maxConnections: 1 } })]
  }))
  t.after(() => own.close())
  const calls: Promise<number>[] = []
  for (let i = 0; i < 6; i++) {
    calls.push((async () => {
      const c = client(own.outbound)
      clients.push(c)
      const r = await c.request({ method: 'GET', path: '/?ms=0', headers: { host: 'main' } })
      await r.body.text()
      return r.statusCode
    })())
  }
  for (const s of await Promise.all(calls)) assert.equal(s, 200)
  await until(() => shadow.seen.length >= 1, 'a mirrored copy')
  await new Promise(resolve => setTimeout(resolve, 400))
  const ports = new Set(shadow.seen.map(s => s.remotePort))
  assert.equal(ports.size, 1, `the shadow saw ${ports.size} connections for maxConnections: 1`)
})
