// Admin `/app-health`: how the runtime (and kubelet, after `meshwork inject` rewrote the probes) sees an app
// whose port is captured by the pod's rules: the sidecar's own probe of it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import { after, test } from 'node:test'
import { AppProbe } from './app-probe.ts'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from './proxy.ts'

const LOOP = { host: '127.0.0.1', port: 0 }
const cleanups: (() => unknown)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

async function get (port: number, path: string): Promise<{ status: number, code: string | undefined }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`)
  await r.text()
  return { status: r.status, code: r.headers.get('x-meshwork-error') ?? undefined }
}

test('/app-health follows the app probe: 503 MESH_ERR_NOT_READY before the first probe and while the app fails, 200 when it answers', async () => {
  let healthy = false
  const app = createServer((_req, res) => { res.writeHead(healthy ? 200 : 500).end() }).listen(0, '127.0.0.1')
  await once(app, 'listening')
  cleanups.push(() => app.close())
  const proxy = new Proxy({ listeners: { admin: LOOP }, log: () => {} })
  await proxy.start()
  cleanups.push(() => proxy.stop())
  const admin = proxy.addresses.admin!.port
  assert.equal((await get(admin, '/app-health')).status, 404, 'no app source: not a sidecar')

  const probe = new AppProbe({ host: '127.0.0.1', port: (app.address() as { port: number }).port }, { path: '/healthz', intervalMs: 20 })
  cleanups.push(() => probe.close())
  proxy.setAppHealthSource(() => probe.known ? probe.healthy : null)
  assert.deepEqual(await get(admin, '/app-health'), { status: 503, code: 'MESH_ERR_NOT_READY' })
  probe.start()
  await once(probe, 'change')
  assert.deepEqual(await get(admin, '/app-health'), { status: 503, code: 'MESH_ERR_NOT_READY' })
  healthy = true
  await once(probe, 'change')
  assert.deepEqual(await get(admin, '/app-health'), { status: 200, code: undefined })
})

test('/app-health/<port><path> makes a registered probe of the app now; anything not registered is 404 (no open proxy to the app)', async () => {
  let live = true
  const app = createServer((req, res) => { res.writeHead(req.url === '/livez?deep=1' && live ? 200 : 500).end() }).listen(0, '127.0.0.1')
  await once(app, 'listening')
  cleanups.push(() => app.close())
  const port = (app.address() as { port: number }).port
  const proxy = new Proxy({ listeners: { admin: LOOP }, log: () => {} })
  proxy.setAppProbes('127.0.0.1', [`${port}/livez?deep=1`])
  await proxy.start()
  cleanups.push(() => proxy.stop())
  const admin = proxy.addresses.admin!.port
  assert.deepEqual(await get(admin, `/app-health/${port}/livez?deep=1`), { status: 200, code: undefined })
  live = false
  assert.deepEqual(await get(admin, `/app-health/${port}/livez?deep=1`), { status: 503, code: 'MESH_ERR_NOT_READY' })
  assert.equal((await get(admin, `/app-health/${port}/admin/secrets`)).status, 404)
  assert.equal((await get(admin, `/app-health/${port}/livez`)).status, 404)
})
