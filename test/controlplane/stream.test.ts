import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { listProxies } from '../../src/controlplane/views.ts'
import { startConfigClient, type ConfigClient } from '../../src/dataplane/config-client.ts'
import { FakeProxy, MESH, startApp, until } from './helpers.ts'

const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

async function mesh (opts: Partial<Parameters<typeof startControlPlane>[0]> = {}): Promise<ControlPlane> {
  const cp = await startControlPlane({ files: [MESH], port: 0, ...opts })
  cleanups.push(() => cp.close())
  return cp
}

function connect (cp: ControlPlane, id: string, extra: Record<string, unknown> = {}): { proxy: FakeProxy, client: ConfigClient } {
  const proxy = new FakeProxy()
  const client = startConfigClient(proxy, { url: cp.url, id, service: 'backend', version: 'v1', inbound: { host: '127.0.0.1', port: 20000 + cleanups.length }, identity: false, backoff: { initialMs: 50, maxMs: 500 }, ...extra })
  cleanups.push(() => client.close())
  return { proxy, client }
}

const ROUTE_V2 = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ kind: Service, name: backend }]
  rules:
    - backendRefs: [{ name: backend-v2, weight: 100 }]
`

test('proxies register, receive their snapshot and ACK; a change reaches all of them in under 1 s', async () => {
  const cp = await mesh()
  const proxies = Array.from({ length: 8 }, (_, i) => connect(cp, `backend-${i}`))
  await Promise.all(proxies.map(p => p.client.ready))
  let sync = await cp.waitForSync(5000)
  assert.equal(sync.length, 8)
  assert.ok(sync.every(s => s.status === 'SYNCED'), JSON.stringify(sync))
  assert.equal(proxies[0].proxy.snapshot!.services.find(s => s.name === 'backend')!.endpoints.length, 8)

  const latencies: number[] = []
  for (let round = 0; round < 5; round++) {
    const text = ROUTE_V2.replace('weight: 100', `weight: ${100 + round}`)
    const start = performance.now()
    const r = await cp.apply(text, 'route.yaml')
    assert.equal(r.ok, true, JSON.stringify(r.problems))
    await until(() => proxies.every(p => p.client.state.version === r.version) && cp.registry.connected().every(rec => rec.ackedVersion === r.version), 5000, 'all ACKs')
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)
  console.log(`# push latency, config change → 8 proxies ACKed: median ${latencies[2].toFixed(1)} ms, max ${latencies[4].toFixed(1)} ms`)
  assert.ok(latencies[2] < 1000, `median push latency ${latencies[2]} ms`)
  const rule = proxies[3].proxy.snapshot!.routes.find(r => r.metadata.name === 'backend')!.spec.rules[0]
  assert.deepEqual(rule.backendRefs.map(b => `${b.name}=${b.weight}`), ['backend-v2=104'])
  sync = await cp.waitForSync(5000)
  assert.ok(sync.every(s => s.status === 'SYNCED'))
})

test('an invalid or conflicting apply is refused with file, line and reason; nothing changes', async () => {
  const cp = await mesh()
  const { client } = connect(cp, 'backend-0')
  await client.ready
  const before = cp.version
  const bad = await cp.apply(ROUTE_V2.replace('weight: 100', 'weight: -5'), 'bad.yaml')
  assert.equal(bad.ok, false)
  assert.equal(bad.code, 'MESH_ERR_CONFIG_INVALID')
  assert.deepEqual(bad.problems!.map(p => `${p.file}:${p.line}:${p.path}`), ['bad.yaml:7:spec.rules[0].backendRefs[0].weight'])
  const unknown = await cp.apply(ROUTE_V2.replace('backend-v2', 'backend-v7'), 'unknown.yaml')
  assert.equal(unknown.code, 'MESH_ERR_CONFIG_CONFLICT')
  assert.match(unknown.problems![0].path, /backendRefs\[0\]\.name/)
  const dup = await cp.apply(ROUTE_V2.replace('name: backend }', 'name: backend-copy }'), 'dup.yaml')
  assert.equal(dup.code, 'MESH_ERR_CONFIG_CONFLICT', 'two routes claiming the same match')
  assert.equal(cp.version, before)
  const same = await cp.apply(ROUTE_V2.replace('weight: 100', 'weight: 50'), 'ok.yaml')
  assert.equal(same.ok, true)
  assert.notEqual(same.version, before)
  const again = await cp.apply(ROUTE_V2.replace('weight: 100', 'weight: 50'), 'ok.yaml')
  assert.deepEqual(again.changed, [], 'an identical apply changes nothing')
  assert.equal(again.version, same.version)
})

test('a NACK is recorded with its reason; the proxy keeps its last good snapshot, the others move on', async () => {
  const cp = await mesh()
  const a = connect(cp, 'backend-a')
  const b = connect(cp, 'backend-b')
  await Promise.all([a.client.ready, b.client.ready])
  const good = a.proxy.snapshot!.version
  a.proxy.reject = raw => raw.routes?.some((r: any) => r.spec.rules[0].backendRefs[0].weight === 77) ? 'weight 77 is cursed' : null
  const nacks: string[] = []
  cp.on('nack', rec => nacks.push(rec.id))
  const r = await cp.apply(ROUTE_V2.replace('weight: 100', 'weight: 77'), 'cursed.yaml')
  assert.equal(r.ok, true)
  const sync = await cp.waitForSync(5000)
  const byId = Object.fromEntries(sync.map(s => [s.id, s]))
  assert.equal(byId['backend-a'].status, 'NACKED')
  assert.match(byId['backend-a'].error!, /^MESH_ERR_SNAPSHOT_REJECTED: /)
  assert.equal(byId['backend-b'].status, 'SYNCED')
  assert.deepEqual(nacks, ['backend-a'])
  assert.equal(a.proxy.snapshot!.version, good, 'still serving the last good snapshot')
  const listed = listProxies(cp).find(p => p.id === 'backend-a')!
  assert.equal(listed.sync, 'NACKED')
  assert.equal(listed.lastNack!.code, 'MESH_ERR_SNAPSHOT_REJECTED')
  assert.equal(listed.lastNack!.version, r.version)
  // The next good change clears the NACK.
  a.proxy.reject = null
  const fixed = await cp.apply(ROUTE_V2, 'fixed.yaml')
  await cp.waitForSync(5000)
  assert.equal(listProxies(cp).find(p => p.id === 'backend-a')!.sync, 'SYNCED')
  assert.equal(a.proxy.snapshot!.version, fixed.version)
})

test('an instance whose app goes down leaves every caller\'s endpoints within ~1 s', async () => {
  const cp = await mesh()
  const app = await startApp()
  cleanups.push(() => app.close())
  const backend = connect(cp, 'backend-app', { app: { host: '127.0.0.1', port: app.port }, probeIntervalMs: 200 })
  const caller = connect(cp, 'frontend-0', { service: 'frontend', version: 'v1' })
  await Promise.all([backend.client.ready, caller.client.ready])
  const ep = () => caller.proxy.snapshot?.services.find(s => s.name === 'backend')?.endpoints.find(e => e.id === 'backend-app')
  await until(() => ep()?.healthy === true, 5000, 'healthy endpoint')
  const start = performance.now()
  app.setHealthy(false)
  await until(() => ep()?.healthy === false, 5000, 'endpoint marked down')
  const down = performance.now() - start
  await app.close()
  app.setHealthy(true)
  console.log(`# app down → callers' endpoint healthy:false in ${down.toFixed(0)} ms (probe every 200 ms)`)
  assert.ok(down < 1500, `took ${down} ms`)
})

test('a slow stream is dropped instead of queueing without bound, and resyncs', async () => {
  const cp = await mesh({ maxQueue: 2 })
  const drops: string[] = []
  cp.on('drop', (id: string) => drops.push(id))
  // A proxy that stops reading its stream.
  const req = request(new URL('/v1/stream', cp.url), { method: 'POST', headers: { 'content-type': 'application/json' } })
  req.on('error', () => {})
  req.on('response', res => { res.pause() })
  req.end(JSON.stringify({ id: 'stuck', service: 'backend', version: 'v1', inbound: { port: 29999 } }))
  cleanups.push(() => req.destroy())
  await until(() => cp.registry.proxies.get('stuck')?.connected === true, 5000, 'stuck proxy connected')
  const healthy = connect(cp, 'backend-ok')
  await healthy.client.ready
  const big = 'x'.repeat(256 * 1024)
  for (let i = 0; i < 60 && drops.length === 0; i++) {
    const r = await cp.apply(ROUTE_V2.replace('metadata: { name: backend }', `metadata: { name: backend, annotations: { blob: "${i}${big}" } }`), 'big.yaml')
    assert.equal(r.ok, true)
    await new Promise(resolve => setImmediate(resolve))
  }
  await until(() => drops.includes('stuck'), 10_000, 'stuck stream dropped')
  await until(() => cp.registry.proxies.get('stuck')?.connected === false, 5000, 'stuck proxy disconnected')
  // Reconnecting, the dropped proxy gets the full current snapshot at once (resync).
  const first = await firstSnapshot(cp.url, { id: 'stuck', service: 'backend', version: 'v1', inbound: { port: 29999 } })
  assert.equal(first.version, cp.version)
  assert.match(JSON.stringify(first.snapshot), /backend-v2/)
  // The reading proxy was never dropped and is in sync.
  assert.ok(!drops.includes('backend-ok'))
  const sync = await cp.waitForSync(10_000)
  assert.ok(sync.every(s => s.status === 'SYNCED'), JSON.stringify(sync))
})

/** Open a raw stream, return its first snapshot message, close it. */
function firstSnapshot (url: string, hello: unknown): Promise<{ version: string, snapshot: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/v1/stream', url), { method: 'POST', headers: { 'content-type': 'application/json' } })
    req.on('error', reject)
    req.on('response', res => {
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        buf += c
        for (const line of buf.split('\n').slice(0, -1)) {
          const msg = JSON.parse(line)
          if (msg.type === 'snapshot') { req.destroy(); resolve(msg); return }
        }
      })
    })
    req.end(JSON.stringify(hello))
  })
}

test('delete: removed from every snapshot; refused when something still needs it; kept deleted across a restart', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dataDir = await mkdtemp(join(tmpdir(), 'meshwork-del-'))
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const cp = await startControlPlane({ files: [MESH], port: 0, dataDir })
  const { proxy, client } = connect(cp, 'backend-del')
  await client.ready
  assert.equal(proxy.snapshot!.faultInjections.length, 1)
  const r = await cp.delete(['FaultInjection/default/backend-delay'])
  assert.equal(r.ok, true)
  await cp.waitForSync(5000)
  assert.equal(proxy.snapshot!.faultInjections.length, 0)
  const refused = await cp.delete(['Workload/default/backend-v2'])
  assert.equal(refused.code, 'MESH_ERR_CONFIG_CONFLICT', 'the backend route still sends to backend-v2')
  const missing = await fetch(new URL('/v1/resources/FaultInjection/default/nope', cp.url), { method: 'DELETE' })
  assert.equal(missing.status, 404)
  await missing.arrayBuffer()
  await client.close()
  await cp.close()
  const cp2 = await startControlPlane({ files: [MESH], port: 0, dataDir })
  cleanups.push(() => cp2.close())
  assert.ok(!cp2.resources().some(l => l.resource.kind === 'FaultInjection'), 'still deleted after a restart')
})

test('a hello that does not say who the proxy is is refused with 400 and the reason', async () => {
  const cp = await mesh()
  const post = async (body: unknown) => {
    const res = await fetch(new URL('/v1/stream', cp.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, code: res.headers.get('x-meshwork-error'), body: await res.json() as { code: string, message: string } }
  }
  const noService = await post({ id: 'x', role: 'sidecar' })
  assert.equal(noService.status, 400)
  assert.equal(noService.code, 'MESH_ERR_BAD_REQUEST')
  assert.match(noService.body.message, /^service: /)
  const unknownField = await post({ id: 'x', service: 'backend', colour: 'red' })
  assert.equal(unknownField.code, 'MESH_ERR_BAD_REQUEST')
  assert.equal(cp.registry.proxies.size, 0)
  const logs: string[] = []
  const client = startConfigClient(new FakeProxy(), { url: cp.url, id: 'x', role: 'sidecar', identity: false, backoff: { initialMs: 20, maxMs: 50 }, log: l => logs.push(l) })
  cleanups.push(() => client.close())
  await until(() => logs.length >= 2, 5000, 'retries logged')
  assert.match(logs[0], /HTTP 400 MESH_ERR_BAD_REQUEST/)
})

test('changes made in the same tick are pushed as one snapshot', async () => {
  const cp = await mesh()
  const { proxy, client } = connect(cp, 'backend-coalesce')
  await client.ready
  await cp.waitForSync(5000)
  const before = proxy.applied.length
  const results = await Promise.all([1, 2, 3].map(w => cp.apply(ROUTE_V2.replace('weight: 100', `weight: ${w}`), `w${w}.yaml`)))
  assert.ok(results.every(r => r.ok))
  await cp.waitForSync(5000)
  assert.equal(proxy.applied.length, before + 1)
  assert.equal(proxy.snapshot!.version, results[2].version)
})
