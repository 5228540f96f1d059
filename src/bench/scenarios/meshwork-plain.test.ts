/**
 * The meshwork-plain scenario's path with real proxies in this process: load ─▶ client sidecar (outbound)
 * ──plain──▶ server sidecar (inbound) ─▶ app, built from the scenario's own snapshots (meshworkSnapshots).
 * Guards what a "plain slower than mTLS" suite result first pointed at: plain keep-alive connections must
 * be reused on both hops (no new connection per request, no per-request protocol sniffing).
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { after, before, test } from 'node:test'
import { Proxy as MeshProxy } from '../../dataplane/proxy.ts'
import { meshworkSnapshots } from './topology.ts'

const LOOP = { host: '127.0.0.1', port: 0 }
const counts = { app: 0, inbound: 0 }
const closers: Array<() => Promise<unknown>> = []
let outboundPort = 0

async function listen (server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>()
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  closers.push(() => new Promise(r => { for (const s of sockets) s.destroy(); server.close(r) }))
  return (server.address() as net.AddressInfo).port
}

before(async () => {
  const app = http.createServer((_req, res) => { res.setHeader('content-type', 'text/plain'); res.end('x'.repeat(100)) })
  app.on('connection', () => { counts.app++ })
  const appPort = await listen(app)

  const server = new MeshProxy({ listeners: { inbound: LOOP, admin: LOOP }, log: () => {} })
  closers.push(() => server.stop())
  await server.start()
  // Counts the connections the client sidecar opens to the server sidecar's inbound listener.
  const relay = net.createServer(down => {
    counts.inbound++
    const up = net.connect(server.addresses.inbound!.port, '127.0.0.1')
    down.on('error', () => up.destroy())
    up.on('error', () => down.destroy())
    down.pipe(up).pipe(down)
  })
  const relayPort = await listen(relay)

  const client = new MeshProxy({ listeners: { outbound: LOOP, admin: LOOP }, log: () => {} })
  closers.push(() => client.stop())
  await client.start()
  outboundPort = client.addresses.outbound!.port

  const snaps = meshworkSnapshots({ mtls: false, tracing: false, serverInboundPort: relayPort, appPort })
  assert.equal(server.applySnapshot(snaps.server).ok, true)
  assert.equal(client.applySnapshot(snaps.client).ok, true)
})
after(async () => {
  for (const c of closers.reverse()) await c()
})

function get (agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: outboundPort, path: '/', headers: { host: 'app' }, agent }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('request timeout')))
  })
}

test('plain sidecar-to-sidecar and sidecar-to-app connections are kept alive and reused', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
  try {
    const statuses: number[] = []
    // 4 concurrent callers, 50 sequential requests each, over at most 4 client connections.
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let i = 0; i < 50; i++) statuses.push(await get(agent))
    }))
    assert.equal(statuses.length, 200)
    assert.ok(statuses.every(s => s === 200), `statuses ${[...new Set(statuses)].join(',')}`)
    // One upstream connection per concurrent request at most, on each hop; a connection per request would be 200.
    assert.ok(counts.inbound >= 1 && counts.inbound <= 4, `client sidecar opened ${counts.inbound} connections to the inbound listener`)
    assert.ok(counts.app >= 1 && counts.app <= 4, `server sidecar opened ${counts.app} connections to the app`)
  } finally {
    agent.destroy()
  }
})
