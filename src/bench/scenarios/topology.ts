import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { haproxyArgs, NGINX_TEMP_DIRS, nginxArgs, renderHaproxySidecar, renderNginxSidecar } from '../../adapters/nginx/index.ts'
import { BenchOptionInvalidError, BenchScenarioStartError } from '../../errors.ts'
import { meshworkCommand } from '../../runtime/meshwork-command.ts'
import { PortAllocator } from '../../runtime/ports.ts'
import type { SmpMesh } from '../smp.ts'
import { type IdentityFiles, writeBenchIdentities } from './certs.ts'
import { type ManagedProcess, startProcess } from './managed-process.ts'
import { type OtlpSink, startOtlpSink } from './otlp-sink.ts'
import { findExecutable, type ScenarioName, scenarioAvailability } from './scenarios.ts'

const HOST = '127.0.0.1'
/** Service name the client sidecar routes by (Host header of the load). */
export const APP_SERVICE = 'app'
const APP_SERVICE_PORT = 80

/** A scenario ready to take load. */
export interface RunningScenario {
  name: ScenarioName
  /** Where the load goes. */
  url: string
  /** Extra request headers (the Host the client sidecar routes by). */
  headers: Record<string, string>
  mesh: SmpMesh
  /**
   * Proxy processes whose CPU and memory are reported (pid = root of the process tree); `metricsUrl`: the
   * proxy's Prometheus endpoint (Meshwork's admin /metrics: pause histograms for bench/tail-latency.ts).
   */
  proxies: Array<{ name: string, pid: number, metricsUrl?: string }>
}

export interface Topology {
  app: ManagedProcess
  appPort: number
  scenarios: RunningScenario[]
  otlp: OtlpSink | null
  workDir: string
  stop (): Promise<void>
}

export interface TopologyOptions {
  scenarios: ScenarioName[]
  /** App response body size (default 100 bytes). */
  bodySize?: number
  signal?: AbortSignal
  /** Start-up bound per process. */
  startTimeoutMs?: number
  onLog?: (line: string) => void
}

function nodeScript (rel: string): { command: string, args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts')
  const file = fileURLToPath(new URL(fromSource ? `${rel}.ts` : `${rel}.js`, import.meta.url))
  return { command: process.execPath, args: fromSource ? ['--import', import.meta.resolve('tsx'), file] : [file] }
}

/**
 * Start the app once and, for every scenario, its data plane in front of it, as child processes.
 * Everything started is stopped by `stop()`, also when start-up fails half-way.
 * @example const topo = await startTopology({ scenarios: ['no-mesh', 'nginx-mtls'] }); …; await topo.stop()
 */
export async function startTopology (o: TopologyOptions): Promise<Topology> {
  const avail = scenarioAvailability()
  for (const s of o.scenarios) {
    if (avail[s] !== null) throw new BenchOptionInvalidError(`scenario ${s} cannot run here: ${avail[s]}`)
  }
  const workDir = mkdtempSync(join(tmpdir(), 'meshwork-bench-'))
  const ports = new PortAllocator(HOST)
  const procs: ManagedProcess[] = []
  let otlp: OtlpSink | null = null
  const stopAll = async (): Promise<void> => {
    await Promise.all(procs.map(p => p.stop()))
    await otlp?.close()
    rmSync(workDir, { recursive: true, force: true })
  }
  const log = o.onLog ?? (() => {})
  const timeoutMs = o.startTimeoutMs ?? 20_000
  try {
    const appPort = await ports.allocate()
    const appCmd = nodeScript('../app/main')
    const app = await startProcess({ name: 'app', command: appCmd.command, args: [...appCmd.args, 'http', String(appPort), String(o.bodySize ?? 100)], ready: { kind: 'tcp', host: HOST, port: appPort }, timeoutMs, signal: o.signal })
    procs.push(app)
    log(`app listening on ${HOST}:${appPort} (pid ${app.pid})`)
    const needsCerts = o.scenarios.some(s => s !== 'no-mesh' && s !== 'meshwork-plain')
    const ids = needsCerts ? await writeBenchIdentities(workDir, ['bench-client', APP_SERVICE]) : null
    if (o.scenarios.includes('meshwork-mtls-tracing')) otlp = await startOtlpSink()
    const scenarios: RunningScenario[] = []
    for (const name of o.scenarios) {
      const ctx: Ctx = { name, workDir: join(workDir, name), ports, procs, appPort, ids, otlp, timeoutMs, signal: o.signal }
      mkdirSync(ctx.workDir, { recursive: true })
      const s = await startScenario(ctx)
      scenarios.push(s)
      log(`${name}: ${s.url} (proxies ${s.proxies.map(p => `${p.name}=${p.pid}`).join(', ') || 'none'})`)
    }
    return { app, appPort, scenarios, otlp, workDir, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}

interface Ctx {
  name: ScenarioName
  workDir: string
  ports: PortAllocator
  procs: ManagedProcess[]
  appPort: number
  ids: Record<string, IdentityFiles> | null
  otlp: OtlpSink | null
  timeoutMs: number
  signal?: AbortSignal
}

async function startScenario (c: Ctx): Promise<RunningScenario> {
  switch (c.name) {
    case 'no-mesh':
      return { name: c.name, url: `http://${HOST}:${c.appPort}/`, headers: {}, mesh: { type: 'none', version: '', config: {} }, proxies: [] }
    case 'meshwork-plain':
      return startMeshwork(c, false, false)
    case 'meshwork-mtls':
      return startMeshwork(c, true, false)
    case 'meshwork-mtls-tracing':
      return startMeshwork(c, true, true)
    case 'nginx-mtls':
      return startNginx(c)
    case 'haproxy-mtls':
      return startHaproxy(c)
  }
}

async function spawnTracked (c: Ctx, name: string, command: string, args: string[], ready: Parameters<typeof startProcess>[0]['ready']): Promise<ManagedProcess> {
  const p = await startProcess({ name: `${c.name}/${name}`, command, args, ready, timeoutMs: c.timeoutMs, signal: c.signal })
  c.procs.push(p)
  return p
}

/** Snapshots for the two Meshwork sidecars, as the control plane would compile them. */
export function meshworkSnapshots (o: { mtls: boolean, tracing: boolean, otlpEndpoint?: string, serverInboundPort: number, appPort: number, clientId?: string, serverId?: string }): { client: unknown, server: unknown } {
  const mesh = {
    mtls: { mode: o.mtls ? 'STRICT' : 'DISABLE' },
    tracing: { enabled: o.tracing, sampling: 100, ...(o.tracing && o.otlpEndpoint ? { otlpEndpoint: o.otlpEndpoint } : {}) },
    accessLog: { enabled: false, path: 'stdout' }
  }
  const client = {
    version: 'bench-1',
    node: { id: 'bench-client-0', role: 'sidecar', service: 'bench-client', namespace: 'default', ...(o.clientId ? { identity: o.clientId } : {}) },
    mesh,
    services: [{
      name: APP_SERVICE,
      port: APP_SERVICE_PORT,
      endpoints: [{ id: 'app-0', address: HOST, port: o.serverInboundPort, tls: o.mtls, protocol: 'http1', healthy: true, ...(o.mtls && o.serverId ? { identity: o.serverId } : {}) }]
    }]
  }
  const server = {
    version: 'bench-1',
    node: { id: 'app-0', role: 'sidecar', service: APP_SERVICE, namespace: 'default', ...(o.serverId ? { identity: o.serverId } : {}) },
    mesh,
    localApp: { address: HOST, port: o.appPort, protocol: 'http1' }
  }
  return { client, server }
}

async function startMeshwork (c: Ctx, mtls: boolean, tracing: boolean): Promise<RunningScenario> {
  const [outbound, inbound, adminC, adminS] = [await c.ports.allocate(), await c.ports.allocate(), await c.ports.allocate(), await c.ports.allocate()]
  const clientId = c.ids?.['bench-client']
  const serverId = c.ids?.[APP_SERVICE]
  const snaps = meshworkSnapshots({ mtls, tracing, otlpEndpoint: c.otlp?.url, serverInboundPort: inbound, appPort: c.appPort, clientId: clientId?.spiffeId, serverId: serverId?.spiffeId })
  const clientSnap = join(c.workDir, 'client-snapshot.json')
  const serverSnap = join(c.workDir, 'server-snapshot.json')
  writeFileSync(clientSnap, JSON.stringify(snaps.client, null, 2))
  writeFileSync(serverSnap, JSON.stringify(snaps.server, null, 2))
  const tlsArgs = (id: IdentityFiles | undefined): string[] => mtls && id ? ['--cert', id.certFile, '--key', id.keyFile, '--ca', id.caFile] : []
  const srv = meshworkCommand(['proxy', '--snapshot', serverSnap, '--inbound', `${HOST}:${inbound}`, '--admin', `${HOST}:${adminS}`, ...tlsArgs(serverId)])
  const server = await spawnTracked(c, 'server-sidecar', srv.command, srv.args, { kind: 'http', host: HOST, port: adminS, path: '/ready' })
  const cli = meshworkCommand(['proxy', '--snapshot', clientSnap, '--outbound', `${HOST}:${outbound}`, '--admin', `${HOST}:${adminC}`, ...tlsArgs(clientId)])
  const client = await spawnTracked(c, 'client-sidecar', cli.command, cli.args, { kind: 'http', host: HOST, port: adminC, path: '/ready' })
  return {
    name: c.name,
    url: `http://${HOST}:${outbound}/`,
    headers: { host: APP_SERVICE },
    mesh: { type: 'meshwork', version: '0.1.0', config: { mtls: { mode: mtls ? 'STRICT' : 'DISABLE' }, tracing: { enabled: tracing, sampling: tracing ? 100 : 0 }, accessLog: { enabled: false }, hops: 2 } },
    proxies: [
      { name: 'client-sidecar', pid: client.pid, metricsUrl: `http://${HOST}:${adminC}/metrics` },
      { name: 'server-sidecar', pid: server.pid, metricsUrl: `http://${HOST}:${adminS}/metrics` }
    ]
  }
}

async function startNginx (c: Ctx): Promise<RunningScenario> {
  const nginx = findExecutable('nginx')
  if (nginx === null || c.ids === null) throw new BenchScenarioStartError('nginx or certificates missing')
  const [outbound, inbound] = [await c.ports.allocate(), await c.ports.allocate()]
  const client = c.ids['bench-client']
  const server = c.ids[APP_SERVICE]
  const start = async (role: string, conf: string, port: number): Promise<ManagedProcess> => {
    const dir = join(c.workDir, role)
    for (const t of NGINX_TEMP_DIRS) mkdirSync(join(dir, t), { recursive: true })
    const file = join(dir, 'nginx.conf')
    writeFileSync(file, conf.replaceAll('@DIR@', dir))
    return spawnTracked(c, role, nginx, nginxArgs(dir, file), { kind: 'tcp', host: HOST, port })
  }
  const sDir = '@DIR@'
  const srv = await start('server-sidecar', renderNginxSidecar({
    workDir: sDir,
    listen: { host: HOST, port: inbound },
    upstream: { host: HOST, port: c.appPort },
    inboundTls: { certFile: server.certFile, keyFile: server.keyFile, caFile: server.caFile, peerName: client.name }
  }), inbound)
  const cli = await start('client-sidecar', renderNginxSidecar({
    workDir: sDir,
    listen: { host: HOST, port: outbound },
    upstream: { host: HOST, port: inbound },
    upstreamTls: { certFile: client.certFile, keyFile: client.keyFile, caFile: client.caFile, peerName: server.name }
  }), outbound)
  return {
    name: c.name,
    url: `http://${HOST}:${outbound}/`,
    headers: { host: APP_SERVICE },
    mesh: { type: 'nginx', version: 'system', config: { mtls: true, workers: 1, upstreamKeepalive: 256, hops: 2 } },
    proxies: [{ name: 'client-sidecar', pid: cli.pid }, { name: 'server-sidecar', pid: srv.pid }]
  }
}

async function startHaproxy (c: Ctx): Promise<RunningScenario> {
  const haproxy = findExecutable('haproxy')
  if (haproxy === null || c.ids === null) throw new BenchScenarioStartError('haproxy or certificates missing')
  const [outbound, inbound] = [await c.ports.allocate(), await c.ports.allocate()]
  const client = c.ids['bench-client']
  const server = c.ids[APP_SERVICE]
  const start = async (role: string, conf: string, port: number): Promise<ManagedProcess> => {
    const file = join(c.workDir, `${role}.cfg`)
    writeFileSync(file, conf)
    return spawnTracked(c, role, haproxy, haproxyArgs(file), { kind: 'tcp', host: HOST, port })
  }
  const srv = await start('server-sidecar', renderHaproxySidecar({
    listen: { host: HOST, port: inbound },
    upstream: { host: HOST, port: c.appPort },
    inboundTls: { certFile: server.certFile, keyFile: server.keyFile, caFile: server.caFile, pemFile: server.pemFile, peerName: client.name }
  }), inbound)
  const cli = await start('client-sidecar', renderHaproxySidecar({
    listen: { host: HOST, port: outbound },
    upstream: { host: HOST, port: inbound },
    upstreamTls: { certFile: client.certFile, keyFile: client.keyFile, caFile: client.caFile, pemFile: client.pemFile, peerName: server.name }
  }), outbound)
  return {
    name: c.name,
    url: `http://${HOST}:${outbound}/`,
    headers: { host: APP_SERVICE },
    mesh: { type: 'haproxy', version: 'system', config: { mtls: true, threads: 1, hops: 2 } },
    proxies: [{ name: 'client-sidecar', pid: cli.pid }, { name: 'server-sidecar', pid: srv.pid }]
  }
}
