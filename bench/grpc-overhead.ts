/**
 * gRPC overhead: unary calls/s, p50 and p99 through two Meshwork sidecars with mTLS against two nginx hops
 * with `grpc_pass` over TLS and against no proxy at all, measured interleaved in one run on this machine.
 *
 *   direct               loadgen ──h2c──▶ backend
 *   meshwork 2 mTLS      loadgen ──h2c──▶ meshwork outbound ══mTLS, ALPN h2══▶ meshwork inbound ──h2c──▶ backend
 *   nginx 2 TLS          loadgen ──h2c──▶ nginx (grpc_pass grpcs) ══TLS h2, client cert══▶ nginx (grpc_pass grpc) ──h2c──▶ backend
 *
 * The load generator is `meshwork bench`'s gRPC mode (src/bench/loadgen/grpc-client.ts: our codec's client
 * role, one call in flight per connection, closed loop) run in worker threads of this process. The backend is
 * a real @grpc/grpc-js server (BENCH_BACKEND=codec: the same service on our codec, for when grpc-js is the
 * bottleneck: its CPU share is printed). Every proxy is one process (nginx `worker_processes 1`); nginx
 * configs are rendered by src/adapters/nginx (grpc: true). CPU per call per hop comes from /proc/<pid>/stat of
 * the proxy processes over the measured phase.
 *
 * Targets (issue 12): two Meshwork hops ≥ 0.7× the nginx pair's calls/s; ≤ 30 µs CPU per call per hop.
 *
 * Run: flock /tmp/meshwork-bench.lock node --import tsx bench/grpc-overhead.ts
 * Env: BENCH_DURATION (s, default 5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (1, load
 *      generator threads), BENCH_MESSAGE_SIZE (100 bytes), BENCH_BACKEND (grpc-js | codec),
 *      BENCH_SCENARIOS (comma list of direct, meshwork-2-mtls, nginx-2-tls), BENCH_JSON (write results here),
 *      BENCH_NODE_ARGS (node flags added to the Meshwork proxies', e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { NGINX_TEMP_DIRS, nginxArgs, renderNginxSidecar } from '../src/adapters/nginx/nginx-config.ts'
import { runLoad, type LoadResult } from '../src/bench/loadgen/run.ts'
import { processTree, sampleTree } from '../src/bench/proc-stats.ts'
import { writeBenchIdentities } from '../src/bench/scenarios/certs.ts'
import { type ManagedProcess, startProcess } from '../src/bench/scenarios/managed-process.ts'
import { findExecutable } from '../src/bench/scenarios/scenarios.ts'
import { PROXY_NODE_FLAGS } from '../src/runtime/proxy-node-flags.ts'
import { compileCli } from './compile-cli.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const THREADS = Number(process.env.BENCH_THREADS ?? 1)
const MESSAGE_SIZE = Number(process.env.BENCH_MESSAGE_SIZE ?? 100)
const BACKEND = process.env.BENCH_BACKEND === 'codec' ? 'codec' : 'grpc-js'
const EXTRA_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map(s => s.trim()).filter(Boolean) ?? null
const ROOT = resolve(import.meta.dirname, '..')
const METHOD = '/bench.Echo/Unary'
/** What the app calls: the service name the client sidecar routes by (`:authority`). */
const AUTHORITY = 'echo:50051'

interface Scenario { id: string, label: string, port: number, hops: number, pids: () => number[] }
interface Run { rps: number, p50: number, p99: number, calls: number, errors: number, cpuUsPerCallPerHop: number | null, backendCpuShare: number }

const procs: ManagedProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'meshwork-grpc-overhead-'))

async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<import('node:net').Server>(res => { const s = createServer(); s.listen(0, '127.0.0.1', () => res(s)) })))
  const ports = servers.map(s => (s.address() as import('node:net').AddressInfo).port)
  await Promise.all(servers.map(s => new Promise(res => s.close(res))))
  return ports
}

function buildBackend (): string {
  const out = join(ROOT, 'test-artifacts', 'grpc-overhead')
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [join(ROOT, 'bench/grpc-backend.ts'), '--bundle', '--platform=node', '--format=esm',
    '--packages=external', '--target=node20', `--outdir=${out}`, '--log-level=warning'], { stdio: 'inherit' })
  return join(out, 'grpc-backend.js')
}

async function start (name: string, command: string, args: string[], ready: Parameters<typeof startProcess>[0]['ready']): Promise<ManagedProcess> {
  const p = await startProcess({ name, command, args, ready, timeoutMs: 60_000 })
  procs.push(p)
  return p
}

function startNginx (name: string, conf: string): Promise<ManagedProcess> {
  const d = join(dir, name)
  for (const t of NGINX_TEMP_DIRS) mkdirSync(join(d, t), { recursive: true })
  writeFileSync(join(d, 'nginx.conf'), conf)
  const port = Number(/listen 127\.0\.0\.1:(\d+)/.exec(conf)![1])
  return start(name, findExecutable('nginx')!, nginxArgs(d, join(d, 'nginx.conf')), { kind: 'tcp', host: '127.0.0.1', port })
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function measure (sc: Scenario, backendPids: number[]): Promise<Run> {
  let before = sampleTree([])
  let backendBefore = sampleTree([])
  let beforeAt = 0
  let proxyCpu = 0
  let backendCpu = 0
  let wall = 0
  const r: LoadResult = await runLoad({
    url: `http://127.0.0.1:${sc.port}${METHOD}`,
    protocol: 'grpc',
    messageSize: MESSAGE_SIZE,
    headers: { host: AUTHORITY },
    connections: CONNECTIONS,
    threads: THREADS,
    durationMs: DURATION * 1000,
    warmupMs: 500
  }, {
    onPhase: phase => {
      if (phase === 'measure') { before = sampleTree(sc.pids()); backendBefore = sampleTree(backendPids); beforeAt = performance.now(); return }
      const after = sampleTree(sc.pids())
      proxyCpu = after.cpuSeconds - before.cpuSeconds
      backendCpu = sampleTree(backendPids).cpuSeconds - backendBefore.cpuSeconds
      wall = (performance.now() - beforeAt) / 1000
    }
  })
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0) + Object.entries(r.retCodes).filter(([c]) => c !== '0').reduce((a, [, n]) => a + n, 0)
  return {
    rps: r.actualQps,
    p50: r.latency.p50,
    p99: r.latency.p99,
    calls: r.requests,
    errors,
    cpuUsPerCallPerHop: sc.hops === 0 || r.requests === 0 ? null : proxyCpu * 1e6 / r.requests / sc.hops,
    backendCpuShare: wall > 0 ? backendCpu / wall : 0
  }
}

async function main (): Promise<void> {
  const nginx = findExecutable('nginx')
  if (nginx === null) console.error('grpc-overhead: nginx not found (scripts/install-system-deps.sh installs it): the nginx scenario is skipped')
  const ids = await writeBenchIdentities(dir, ['client', 'echo'])
  const [backendPort, outPort, inPort, ngA, ngB, adminOut, adminIn] = await freePorts(7)

  // --- backend ---
  const backend = await start(`backend (${BACKEND})`, process.execPath, [buildBackend(), BACKEND, String(backendPort)], { kind: 'tcp', host: '127.0.0.1', port: backendPort })
  const backendPids = (): number[] => [backend.pid]

  // --- meshwork sidecars (static snapshots; the compiled CLI, run with the proxies' node flags) ---
  const main = compileCli('bench-grpc')
  const snap = (name: string, s: unknown): string => { const f = join(dir, name); writeFileSync(f, JSON.stringify(s)); return f }
  const serverSnap = snap('mw-in.json', {
    version: 'bench', node: { id: 'echo-0', service: 'echo' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: backendPort, protocol: 'h2' }
  })
  const clientSnap = snap('mw-out.json', {
    version: 'bench', node: { id: 'client-0', service: 'client' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 50051, endpoints: [{ id: 'echo-0', address: '127.0.0.1', port: inPort, tls: true, identity: ids.echo.spiffeId, protocol: 'http1', sidecar: true }] }]
  })
  const tlsArgs = (id: typeof ids.echo): string[] => ['--cert', id.certFile, '--key', id.keyFile, '--ca', id.caFile]
  const mwIn = await start('meshwork server sidecar', process.execPath, [...PROXY_NODE_FLAGS, ...EXTRA_NODE_ARGS, main, 'proxy', '--snapshot', serverSnap, '--inbound', `127.0.0.1:${inPort}`, '--admin', `127.0.0.1:${adminIn}`, ...tlsArgs(ids.echo)], { kind: 'http', host: '127.0.0.1', port: adminIn, path: '/ready' })
  const mwOut = await start('meshwork client sidecar', process.execPath, [...PROXY_NODE_FLAGS, ...EXTRA_NODE_ARGS, main, 'proxy', '--snapshot', clientSnap, '--outbound', `127.0.0.1:${outPort}`, '--admin', `127.0.0.1:${adminOut}`, ...tlsArgs(ids.client)], { kind: 'http', host: '127.0.0.1', port: adminOut, path: '/ready' })

  // --- nginx pair ---
  let ngAProc: ManagedProcess | null = null
  let ngBProc: ManagedProcess | null = null
  if (nginx !== null) {
    ngBProc = await startNginx('nginx-server', renderNginxSidecar({ grpc: true, workDir: join(dir, 'nginx-server'), listen: { host: '127.0.0.1', port: ngB }, upstream: { host: '127.0.0.1', port: backendPort }, inboundTls: { certFile: ids.echo.certFile, keyFile: ids.echo.keyFile, caFile: ids.echo.caFile, peerName: ids.client.name } }))
    ngAProc = await startNginx('nginx-client', renderNginxSidecar({ grpc: true, workDir: join(dir, 'nginx-client'), listen: { host: '127.0.0.1', port: ngA }, upstream: { host: '127.0.0.1', port: ngB }, upstreamTls: { certFile: ids.client.certFile, keyFile: ids.client.keyFile, caFile: ids.client.caFile, peerName: ids.echo.name } }))
  }

  const all: Scenario[] = [
    { id: 'direct', label: 'direct (no proxy)', port: backendPort, hops: 0, pids: () => [] },
    { id: 'meshwork-2-mtls', label: 'meshwork 2 hops mTLS', port: outPort, hops: 2, pids: () => [mwOut.pid, mwIn.pid] },
    ...(ngAProc !== null && ngBProc !== null
      ? [{ id: 'nginx-2-tls', label: 'nginx 2 hops TLS (grpc_pass)', port: ngA, hops: 2, pids: () => [...processTree(ngAProc!.pid), ...processTree(ngBProc!.pid)] }]
      : [])
  ]
  const scenarios = all.filter(s => ONLY === null || ONLY.includes(s.id))
  console.log(`grpc-overhead: ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections (one call in flight each), ${THREADS} load thread(s), ${MESSAGE_SIZE}-byte requests, 100-byte replies, backend ${BACKEND}`)

  // warm-up (JIT, TLS sessions, pools), not recorded
  for (const sc of scenarios) await runLoad({ url: `http://127.0.0.1:${sc.port}${METHOD}`, protocol: 'grpc', headers: { host: AUTHORITY }, connections: CONNECTIONS, threads: THREADS, durationMs: 1000, warmupMs: 0, maxErrorRatio: 1 })

  const runs: Record<string, Run[]> = Object.fromEntries(scenarios.map(s => [s.id, []]))
  for (let round = 0; round < ROUNDS; round++) {
    // rotate the order so no scenario always runs first (or right after the most expensive one)
    const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length])
    for (const sc of order) {
      const r = await measure(sc, backendPids())
      runs[sc.id].push(r)
      console.log(`  round ${round + 1} ${sc.label.padEnd(30)} ${r.rps.toFixed(0).padStart(7)} calls/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms` +
        `${r.cpuUsPerCallPerHop !== null ? `  ${r.cpuUsPerCallPerHop.toFixed(1)} µs CPU/call/hop` : ''}  backend ${(r.backendCpuShare * 100).toFixed(0)}% of a core${r.errors > 0 ? `  ${r.errors} errors` : ''}`)
    }
  }

  const med = (id: string, f: (r: Run) => number | null): number | null => {
    const xs = (runs[id] ?? []).map(f).filter((x): x is number => x !== null)
    return xs.length === 0 ? null : median(xs)
  }
  console.log('\nmedians')
  const summary: Record<string, unknown> = {}
  for (const sc of scenarios) {
    const m = { rps: med(sc.id, r => r.rps)!, p50: med(sc.id, r => r.p50)!, p99: med(sc.id, r => r.p99)!, cpuUsPerCallPerHop: med(sc.id, r => r.cpuUsPerCallPerHop), backendCpuShare: med(sc.id, r => r.backendCpuShare)! }
    summary[sc.id] = m
    console.log(`  ${sc.label.padEnd(30)} ${m.rps.toFixed(0).padStart(7)} calls/s  p50 ${m.p50.toFixed(3)} ms  p99 ${m.p99.toFixed(3)} ms${m.cpuUsPerCallPerHop !== null ? `  ${m.cpuUsPerCallPerHop.toFixed(1)} µs CPU/call/hop` : ''}  backend ${(m.backendCpuShare * 100).toFixed(0)}%`)
  }
  const mw = summary['meshwork-2-mtls'] as { rps: number, cpuUsPerCallPerHop: number | null } | undefined
  const ng = summary['nginx-2-tls'] as { rps: number, cpuUsPerCallPerHop: number | null } | undefined
  const direct = summary.direct as { rps: number } | undefined
  console.log('\nratios and targets')
  if (mw !== undefined && direct !== undefined) console.log(`  meshwork 2 hops / direct: ${(mw.rps / direct.rps).toFixed(2)}× calls/s`)
  if (ng !== undefined && direct !== undefined) console.log(`  nginx 2 hops / direct:    ${(ng.rps / direct.rps).toFixed(2)}× calls/s`)
  if (mw !== undefined && ng !== undefined) {
    const ratio = mw.rps / ng.rps
    summary.ratioMeshworkOverNginx = ratio
    console.log(`  two Meshwork hops with mTLS ≥ 0.7× two nginx grpc_pass hops with TLS: ${ratio.toFixed(2)}× ${ratio >= 0.7 ? 'MET' : 'MISSED'}`)
    if (ng.cpuUsPerCallPerHop !== null) console.log(`  nginx CPU per call per hop: ${ng.cpuUsPerCallPerHop.toFixed(1)} µs`)
  }
  if (mw?.cpuUsPerCallPerHop != null) console.log(`  ≤ 30 µs CPU per call per hop (Meshwork): ${mw.cpuUsPerCallPerHop.toFixed(1)} µs ${mw.cpuUsPerCallPerHop <= 30 ? 'MET' : 'MISSED'}`)
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ runs, summary }, null, 2))
}

try {
  await main()
} finally {
  await Promise.all(procs.map(p => p.stop()))
  rmSync(dir, { recursive: true, force: true })
}
