/**
 * The control plane killed and restarted under load. Two sidecars (in this process: `Proxy` + the real
 * config client, mTLS STRICT with certificates from the control plane's CA) carry traffic
 * client → echo while the control plane, in its own process, is SIGKILLed, stays down, and is started
 * again on the same port and data directory. Nothing may fail; after the restart both proxies reconnect,
 * and a config change applied to the new control plane reaches them.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ConfigClient, startConfigClient } from '../../../src/dataplane/config-client.ts'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from '../../../src/dataplane/proxy.ts'
import { startRecordingApp } from '../harness.ts'
import { getVia, runLoad, summaryLine, type LoadResult } from '../load.ts'
import { until } from '../mesh.ts'

const FIXTURE = fileURLToPath(new URL('../fixtures/control-plane.ts', import.meta.url))

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT } }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: client }
spec: { service: client, port: 9080, command: [unused] }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: echo-v1 }
spec: { service: echo, version: v1, port: 9080, command: [unused] }
`
const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo }
spec:
  parentRefs: [{ kind: Service, name: echo }]
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-gen, value: after-restart }] } }]
      backendRefs: [{ name: echo }]
`

/** Start the control-plane process; resolves with its URL once it listens. */
async function spawnControlPlane (file: string, port: number, dataDir: string): Promise<{ child: ChildProcess, url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file, String(port), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', d => { err += d })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`control plane did not start in 60 s: ${err}`)) }, 60_000)
    child.stdout!.on('data', d => {
      out += d
      const m = /READY (\S+)/.exec(out)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`control plane exited (${code}): ${err}`)) })
  })
  return { child, url }
}

function kill (child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise(resolve => { child.once('exit', () => resolve()); child.kill(signal) })
}

export interface ControlPlaneRestartReport { load: LoadResult, reconnects: number, line: string }

export async function runControlPlaneRestart (seconds: number): Promise<ControlPlaneRestartReport> {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-rel-cp-'))
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, MESH)
  const loop = { host: '127.0.0.1', port: 0 }
  const app = await startRecordingApp()
  const proxies: Proxy[] = []
  const clients: ConfigClient[] = []
  let cp: { child: ChildProcess, url: string } | null = null
  try {
    cp = await spawnControlPlane(file, 0, join(dir, 'data'))
    const port = Number(new URL(cp.url).port)
    const sidecar = async (service: string, version: string, appPort?: number): Promise<{ proxy: Proxy, client: ConfigClient }> => {
      const proxy = new Proxy({ listeners: { inbound: loop, outbound: loop, admin: loop }, log: () => {} })
      proxies.push(proxy)
      await proxy.start()
      const inbound = proxy.addresses.inbound!
      const client = startConfigClient(proxy, {
        url: cp!.url, id: `${service}-${version}-0`, service, version,
        inbound: { host: '127.0.0.1', port: inbound.port },
        app: appPort !== undefined ? { host: '127.0.0.1', port: appPort } : undefined,
        backoff: { initialMs: 50, maxMs: 500 }
      })
      clients.push(client)
      return { proxy, client }
    }
    const echo = await sidecar('echo', 'v1', app.port)
    const client = await sidecar('client', 'v1')
    await Promise.all([echo.client.ready, client.client.ready])
    await until(() => client.proxy.snapshot?.services.find(s => s.name === 'echo')?.endpoints.some(e => e.healthy) === true, 30_000, 'echo endpoint healthy in the client snapshot')

    const events: string[] = []
    const t0 = Date.now()
    const faults = (async () => {
      await new Promise(resolve => setTimeout(resolve, seconds * 1000 * 0.2))
      await kill(cp!.child, 'SIGKILL')
      events.push(`control plane SIGKILL @${Date.now() - t0}ms`)
      await until(() => !echo.client.state.connected && !client.client.state.connected, 30_000, 'both proxies to see the control plane gone')
      await new Promise(resolve => setTimeout(resolve, seconds * 1000 * 0.2))
      cp = await spawnControlPlane(file, port, join(dir, 'data'))
      events.push(`control plane restarted @${Date.now() - t0}ms`)
      await until(() => echo.client.state.connected && client.client.state.connected, 30_000, 'both proxies to reconnect')
      events.push(`both reconnected @${Date.now() - t0}ms`)
      const r = await fetch(`${cp.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: ROUTE, source: 'after-restart.yaml', waitMs: 10_000 }) })
      assert.equal(r.status, 200, await r.text())
      events.push(`config applied @${Date.now() - t0}ms`)
    })()
    const load = await runLoad({
      name: 'control-plane-restart',
      port: client.proxy.addresses.outbound!.port,
      host: 'echo',
      durationMs: seconds * 1000,
      concurrency: 8
    })
    await faults
    // The change applied after the restart reaches the traffic (the recording app sees the header).
    await until(async () => {
      const before = app.requests.length
      const r = await getVia(client.proxy.addresses.outbound!.port, 'echo', '/after')
      return r.status === 200 && app.requests.slice(before).some(q => q.headers['x-gen'] === 'after-restart')
    }, 15_000, 'the change applied after the restart to reach the proxies')
    const reconnects = echo.client.state.reconnects + client.client.state.reconnects
    const line = summaryLine(load, `reconnects=${reconnects} events=[${events.join('; ')}]`)
    console.log(line)
    assert.equal(load.failures, 0, `failed requests: ${JSON.stringify(load.firstFailures)}`)
    assert.ok(load.requests > seconds * 20, `only ${load.requests} requests in ${seconds} s`)
    assert.ok(echo.client.state.connected && client.client.state.connected)
    return { load, reconnects, line }
  } finally {
    for (const c of clients) await c.close()
    for (const p of proxies) await p.stop()
    await app.close()
    if (cp !== null) await kill(cp.child, 'SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}
