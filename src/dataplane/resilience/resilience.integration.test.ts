/**
 * The library's pieces together over real sockets: three upstream servers on 127.0.0.1 (one answers
 * 503, one is slow, one is fast), a client loop that picks with peak EWMA, records outcomes, feeds the
 * outlier detector and retries through `runWithRetries` with a budget and a deadline — the same steps
 * the proxy's exchange takes.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { ep } from './balancer.case.test.ts'
import { createBalancer } from './balancer.ts'
import { now, preciseNow } from './clock.ts'
import { computeDeadline, formatTimeoutHeader, parseTimeoutHeader, remaining, TIMEOUT_HEADER } from './deadline.ts'
import { EndpointSet, type EndpointState } from './endpoint-state.ts'
import { OutlierDetector } from './outlier-detector.ts'
import { compileRetryPolicy, runWithRetries } from './retry.ts'
import { RetryBudget } from './retry-budget.ts'

const servers: http.Server[] = []
const hits = new Map<string, number>()
const seenTimeouts: string[] = []
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })

function serve (id: string, handler: (res: http.ServerResponse) => void): Promise<number> {
  const s = http.createServer((req, res) => {
    hits.set(id, (hits.get(id) ?? 0) + 1)
    const h = req.headers[TIMEOUT_HEADER]
    if (typeof h === 'string') seenTimeouts.push(h)
    handler(res)
  })
  servers.push(s)
  return new Promise(resolve => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)))
}

let set: EndpointSet

before(async () => {
  const broken = await serve('broken', res => { res.statusCode = 503; res.end('down') })
  // 200 ms: far above what a loaded machine adds to the fast endpoint, so the EWMA can tell them apart.
  const slow = await serve('slow', res => { setTimeout(() => res.end('slow'), 200) })
  const fast = await serve('fast', res => { res.end('fast') })
  set = new EndpointSet([ep('broken', { port: broken }), ep('slow', { port: slow }), ep('fast', { port: fast })])
})

after(async () => {
  agent.destroy()
  for (const s of servers) {
    s.closeAllConnections()
    await new Promise<void>(resolve => s.close(() => resolve()))
  }
})

interface Outcome { status?: number, connectFailure?: boolean, reset?: boolean, ep: EndpointState | null }

function call (e: EndpointState, deadlineAt: number): Promise<Outcome> {
  return new Promise(resolve => {
    const t0 = preciseNow()
    e.onStart()
    const headers: Record<string, string> = {}
    if (deadlineAt !== Infinity) headers[TIMEOUT_HEADER] = formatTimeoutHeader(remaining(deadlineAt, now()))
    const req = http.request({ host: e.endpoint.address, port: e.endpoint.port, path: '/', agent, headers }, res => {
      res.resume()
      res.on('end', () => {
        const p = preciseNow()
        e.end(res.statusCode!, false, p - t0, p)
        resolve({ status: res.statusCode, ep: e })
      })
    })
    req.on('error', () => {
      const p = preciseNow()
      e.end(0, true, p - t0, p)
      resolve({ connectFailure: true, ep: e })
    })
    req.end()
  })
}

test('retries move away from a failing endpoint, which gets ejected, and the slow endpoint gets little traffic', async () => {
  const lb = createBalancer('PeakEWMA')
  const ejected: string[] = []
  const od = new OutlierDetector({ consecutive5xx: 3, consecutiveConnectFailures: 2, intervalMs: 5000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50, onEject: e => { ejected.push(e.id) } })
  const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 })
  const policy = compileRetryPolicy({ attempts: 2, backoff: '1ms', codes: [503], onConnectFailure: true })
  let ok = 0
  const N = 120
  for (let i = 0; i < N; i++) {
    budget.recordRequest()
    const deadlineAt = computeDeadline({ receivedAt: now(), headerMs: parseTimeoutHeader('5S'), routeTimeoutMs: 10_000 })
    let prev: EndpointState | null = null
    const r = await runWithRetries<Outcome>(async () => {
      const e = lb.pick(set.states, now(), prev)
      if (e === null) return { status: 503, ep: null }
      prev = e
      const o = await call(e, deadlineAt)
      od.observe(e, set.states, now())
      return o
    }, { policy, budget, deadlineAt })
    if (r.outcome.status === 200) ok++
  }
  assert.equal(ok, N, 'every request succeeded: a 503 was retried on another endpoint')
  assert.deepEqual(ejected, ['broken'])
  assert.equal(set.get('broken')!.isAvailable(now()), false)
  assert.ok((hits.get('broken') ?? 0) <= 5, `broken got ${hits.get('broken')} requests`)
  const slow = hits.get('slow') ?? 0
  const fast = hits.get('fast') ?? 0
  assert.ok(fast > slow * 2, `fast ${fast} vs slow ${slow}`)
  // Each hop was told its remaining budget: at most the 5 s the caller sent, minus the offset.
  assert.ok(seenTimeouts.length >= N)
  for (const h of seenTimeouts) assert.ok(parseTimeoutHeader(h)! < 5000, h)
})

test('a dead endpoint is ejected after consecutive connect failures and its calls are retried elsewhere', async () => {
  const dead = http.createServer()
  await new Promise<void>(resolve => dead.listen(0, '127.0.0.1', resolve))
  const deadPort = (dead.address() as AddressInfo).port
  await new Promise<void>(resolve => dead.close(() => resolve()))
  const s2 = new EndpointSet([ep('dead', { port: deadPort }), set.get('fast')!.endpoint])
  const lb = createBalancer('RoundRobin')
  const od = new OutlierDetector({ consecutive5xx: 5, consecutiveConnectFailures: 2, intervalMs: 5000, baseEjectionTimeMs: 60_000, maxEjectionPercent: 50 })
  const policy = compileRetryPolicy({ attempts: 1, backoff: '1ms', codes: [503], onConnectFailure: true })
  let ok = 0
  for (let i = 0; i < 20; i++) {
    let prev: EndpointState | null = null
    const r = await runWithRetries<Outcome>(async () => {
      const e = lb.pick(s2.states, now(), prev)!
      prev = e
      const o = await call(e, Infinity)
      od.observe(e, s2.states, now())
      return o
    }, { policy })
    if (r.outcome.status === 200) ok++
  }
  assert.equal(ok, 20)
  assert.equal(s2.get('dead')!.isAvailable(now()), false)
  assert.equal(s2.get('dead')!.ejections, 1)
})
