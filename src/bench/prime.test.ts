import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { DEFAULT_PRIME_MS, primeScenarios } from './prime.ts'
import type { RunningScenario } from './scenarios/topology.ts'

// Two real targets standing in for scenarios: one "with proxies" (primed), one without (no-mesh: skipped).
const hits = { proxied: 0, direct: 0 }
const servers: http.Server[] = []
let proxied: RunningScenario
let direct: RunningScenario

async function target (key: keyof typeof hits): Promise<string> {
  const s = http.createServer((_req, res) => { hits[key]++; res.end('ok') })
  servers.push(s)
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`
}

before(async () => {
  const mesh = { type: 'none', version: '', config: {} }
  proxied = { name: 'meshwork-plain', url: await target('proxied'), headers: { host: 'app' }, mesh, proxies: [{ name: 'client-sidecar', pid: process.pid }] }
  direct = { name: 'no-mesh', url: await target('direct'), headers: {}, mesh, proxies: [] }
})
after(async () => {
  for (const s of servers) { s.closeAllConnections(); await new Promise(r => s.close(r)) }
})

test('the default prime is at least a couple of seconds (fresh proxies stall for their first seconds)', () => {
  assert.ok(DEFAULT_PRIME_MS >= 2000)
})

test('scenarios with proxies get unrecorded load before measuring; no-mesh and primeMs 0 get none', async () => {
  const logs: string[] = []
  const load = { connections: 2, threads: 1, rate: 50, requests: 3, durationMs: 60_000 }
  const primed = await primeScenarios([direct, proxied], load, { primeMs: 300, onLog: m => logs.push(m) })
  assert.deepEqual(primed, ['meshwork-plain'])
  // closed loop for the prime whatever the measured rate/request count: far more than 3 requests
  assert.ok(hits.proxied > 3, `proxied target got ${hits.proxied} requests`)
  assert.equal(hits.direct, 0)
  assert.equal(logs.length, 1)

  const before = hits.proxied
  assert.deepEqual(await primeScenarios([proxied], load, { primeMs: 0 }), [])
  assert.equal(hits.proxied, before)
})

test('an aborted prime throws MESH_ERR_BENCH_ABORTED', async () => {
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(primeScenarios([proxied], {}, { primeMs: 300, signal: ac.signal }), (err: Error & { code?: string }) => err.code === 'MESH_ERR_BENCH_ABORTED')
})

test('a prime whose target is down is logged, not thrown (the measured runs report it)', async () => {
  const down: RunningScenario = { ...proxied, url: 'http://127.0.0.1:1/' }
  const logs: string[] = []
  assert.deepEqual(await primeScenarios([down], { connections: 1, threads: 1 }, { primeMs: 300, onLog: m => logs.push(m) }), [])
  assert.equal(logs.length, 1)
})
