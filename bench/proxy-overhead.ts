/**
 * Proxy overhead: what one and two proxy hops cost, Meshwork against nginx, measured interleaved in one
 * run on this machine.
 *
 *   direct                 wrk ─────────────────────────────────────────────▶ origin
 *   meshwork 1 hop         wrk ─▶ meshwork (outbound) ───────────────────────▶ origin
 *   nginx 1 hop            wrk ─▶ nginx (proxy_pass, keepalive) ─────────────▶ origin
 *   meshwork 2 hops mTLS   wrk ─▶ meshwork outbound ══mTLS══▶ meshwork inbound ─▶ origin
 *   nginx 2 hops TLS       wrk ─▶ nginx ══TLS (client cert)══▶ nginx ──────────▶ origin
 *   (root only: a real pod network, bench/captured-path.ts; wrk in the client pod, origin in the server pod)
 *   meshwork 2 hops pods   wrk ─▶ 127.0.0.1:15101 (explicit) ══mTLS══▶ <server pod>:15106 ─▶ origin
 *   meshwork 2 hops captured  wrk ─▶ <service address> ─rules─▶ sidecar ══mTLS══▶ <server pod>:80 ─rules─▶ sidecar ─▶ origin
 *
 * The origin is nginx answering 100 bytes. Every proxy is one process (nginx: `worker_processes 1`),
 * so each side has one core's worth of event loop. CPU per request per hop comes from
 * /proc/<pid>/stat (utime+stime) of the proxy processes before and after each run.
 *
 * Run: node --import tsx bench/proxy-overhead.ts
 * Env: BENCH_DURATION (s, default 5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
 *      BENCH_SCENARIOS (comma list of scenario ids to run), BENCH_JSON (write results to this file),
 *      BENCH_NODE_ARGS (node flags of the Meshwork proxies, default PROXY_NODE_FLAGS of src/runtime/proxy-node-flags.ts; add e.g.
 *      `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile), BENCH_PROXY_RUNNER=tsx (run the sources through tsx),
 *      BENCH_COMPARE=<main.js> (A/B: a second set of Meshwork proxies run from this esbuild output of another commit,
 *      measured as extra scenarios `meshwork-1-b`, `meshwork-2-mtls-b` interleaved with the others; B/A ratios printed),
 *      BENCH_SYSCALLS=1 (after the rounds, one more run per proxied scenario under `strace -c -f`: syscalls per
 *      request per proxy process; the slowed-down run itself is not reported), BENCH_PODS=0 (skip the pod
 *      scenarios, which run by default when this process may build pod networks: root).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createRootCa, issueTestIdentity } from '../src/pki/index.ts'
import { podNetworkUnsupportedReason } from '../src/runtime/netns/capability.ts'
import { type CapturedPath, startCapturedPath, type Wrap } from './captured-path.ts'
import { compileCli } from './compile-cli.ts'
import { PROXY_NODE_FLAGS } from '../src/runtime/proxy-node-flags.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const THREADS = Number(process.env.BENCH_THREADS ?? 2)
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map(s => s.trim()).filter(Boolean) ?? null
const ROOT = resolve(import.meta.dirname, '..')
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100)
const BODY = 'x'.repeat(99) + '\n'
/** Node flags of the Meshwork proxies: the same as every launched proxy (src/runtime/proxy-node-flags.ts). */
const DEFAULT_NODE_ARGS = PROXY_NODE_FLAGS.join(' ')
const SYSCALLS = process.env.BENCH_SYSCALLS === '1'
const COMPARE = process.env.BENCH_COMPARE !== undefined && process.env.BENCH_COMPARE !== '' ? resolve(process.env.BENCH_COMPARE) : null

interface Scenario {
  id: string
  label: string
  /** Port wrk hits (on 127.0.0.1 unless `url`). */
  port: number
  /** Pod scenarios: the URL wrk hits and how wrk is run inside the client pod. */
  url?: string
  inPod?: Wrap
  /** Proxy hops between wrk and the origin. */
  hops: number
  /** Processes whose CPU and memory count as proxy cost. */
  pids: () => number[]
}

interface RunResult { rps: number, p50: number, p99: number, requests: number, errors: number, cpuUsPerReqPerHop: number | null, userUsPerReqPerHop: number | null, involCsPerReqPerHop: number | null, rssMb: number | null, anonMb: number | null }

const children: ChildProcess[] = []
const dir = mkdtempSync(join(tmpdir(), 'meshwork-bench-'))
let pods: CapturedPath | null = null
const same: Wrap = (command, args) => ({ command, args })

/** n distinct free ports (all held open until every one is known, so none repeats). */
async function freePorts (n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => res(s))
  })))
  const ports = servers.map(s => (s.address() as { port: number }).port)
  await Promise.all(servers.map(s => new Promise(r => s.close(r))))
  return ports
}

function ensureTools (): void {
  const missing = ['wrk', 'nginx'].filter(c => { try { execFileSync('sh', ['-c', `command -v ${c}`]); return false } catch { return true } })
  if (missing.length > 0) {
    console.error(`proxy-overhead: installing ${missing.join(', ')} (scripts/install-system-deps.sh)`)
    execFileSync('bash', [join(ROOT, 'scripts/install-system-deps.sh')], { stdio: 'inherit' })
  }
}

function nginxConf (name: string, server: string): string {
  const t = (k: string): string => `${k} ${join(dir, `${name}-${k}`)};`
  return `worker_processes 1;
daemon off;
pid ${join(dir, name + '.pid')};
error_log ${join(dir, name + '.err')} warn;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  ${t('client_body_temp_path')} ${t('proxy_temp_path')} ${t('fastcgi_temp_path')} ${t('uwsgi_temp_path')} ${t('scgi_temp_path')}
  ${server}
}
`
}

function startNginx (name: string, server: string, wrap: Wrap = same): ChildProcess {
  const conf = join(dir, name + '.conf')
  writeFileSync(conf, nginxConf(name, server))
  const cmd = wrap('nginx', ['-p', dir, '-c', conf])
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'ignore', 'inherit'] })
  children.push(child)
  return child
}

/** The master and its workers. */
function nginxPids (master: ChildProcess): number[] {
  const out = [master.pid!]
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === master.pid) out.push(Number(d))
    } catch {}
  }
  return out
}

/** utime and stime (clock ticks) of `pids`, summed. */
function cpuTicks (pids: number[]): { user: number, sys: number } {
  let user = 0
  let sys = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      user += Number(f[11]) // utime (field 14)
      sys += Number(f[12]) // stime (field 15)
    } catch {}
  }
  return { user, sys }
}

/** Context switches (voluntary, involuntary) of `pids` and all their threads. */
function contextSwitches (pids: number[]): { vol: number, invol: number } {
  let vol = 0
  let invol = 0
  for (const pid of pids) {
    let tasks: string[] = []
    try { tasks = readdirSync(`/proc/${pid}/task`) } catch {}
    for (const t of tasks) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8')
        vol += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
        invol += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0)
      } catch {}
    }
  }
  return { vol, invol }
}

/** Largest VmRSS (or RssAnon: private memory, without the executable's shared file pages) among `pids`, MB. */
function rssMb (pids: number[], field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  let max = 0
  for (const pid of pids) {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) max = Math.max(max, Number(m[1]) / 1024)
    } catch {}
  }
  return max
}

/** The compiled CLI (compile-cli.ts); BENCH_PROXY_RUNNER=tsx runs the sources instead. */
function meshworkEntry (): string[] {
  if (process.env.BENCH_PROXY_RUNNER === 'tsx') return ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')]
  return [compileCli('bench-proxy')]
}

let entry: string[] | null = null

/** `main`: another build of the CLI (BENCH_COMPARE) instead of the sources of this checkout. */
function startMeshwork (name: string, args: string[], main: string | null = null, wrap: Wrap = same): Promise<ChildProcess> {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? DEFAULT_NODE_ARGS).split(' ').filter(Boolean)
  entry ??= meshworkEntry()
  const cmd = wrap(process.execPath, [...nodeArgs, ...(main !== null ? [main] : entry), 'proxy', ...args])
  const child = spawn(cmd.command, cmd.args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(child)
  return new Promise((res, rej) => {
    let err = ''
    const timer = setTimeout(() => rej(new Error(`${name} did not start:\n${err}`)), 60_000)
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('applied snapshot')) { clearTimeout(timer); res(child) }
      if (err.includes('MESH_ERR')) { clearTimeout(timer); rej(new Error(`${name}: ${err}`)) }
    })
    child.once('exit', code => { clearTimeout(timer); rej(new Error(`${name} exited (${code}):\n${err}`)) })
  })
}

async function waitPort (port: number): Promise<void> {
  const { connect } = await import('node:net')
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>(res => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => { s.destroy(); res(true) })
      s.once('error', () => res(false))
    })
    if (ok) return
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`port ${port} did not open`)
}

function toMs (v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v)
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1)
}

function wrk (s: Pick<Scenario, 'port' | 'url' | 'inPod'>, seconds: number): { rps: number, p50: number, p99: number, requests: number, errors: number } {
  const cmd = (s.inPod ?? same)('wrk', ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', '-H', 'Host: origin', s.url ?? `http://127.0.0.1:${s.port}/`])
  const out = execFileSync(cmd.command, cmd.args, { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN)
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '')
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '')
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0)
  return { rps, p50, p99, requests, errors }
}

function measure (s: Scenario, seconds: number): RunResult {
  const pids = s.pids()
  const before = cpuTicks(pids)
  const csBefore = contextSwitches(pids)
  const r = wrk(s, seconds)
  const after = cpuTicks(pids)
  const csAfter = contextSwitches(pids)
  const perReqPerHop = (ticks: number): number | null => pids.length > 0 && r.requests > 0 ? ticks * TICK_US / r.requests / s.hops : null
  return {
    ...r,
    cpuUsPerReqPerHop: perReqPerHop(after.user + after.sys - before.user - before.sys),
    userUsPerReqPerHop: perReqPerHop(after.user - before.user),
    // Perf evidence: a proxy preempted by the peers its writes wake pays a context switch each time
    involCsPerReqPerHop: pids.length > 0 && r.requests > 0 ? (csAfter.invol - csBefore.invol) / r.requests / s.hops : null,
    rssMb: pids.length > 0 ? rssMb(pids) : null,
    anonMb: pids.length > 0 ? rssMb(pids, 'RssAnon') : null
  }
}

/** Syscall counts (`strace -c` summary) of one process and its threads while `run` goes on. */
async function countSyscalls (pid: number, run: () => void): Promise<Map<string, number>> {
  const out = join(dir, `strace-${pid}.txt`)
  const st = spawn('strace', ['-c', '-f', '-q', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(st)
  await new Promise(r => setTimeout(r, 1000)) // attach to every thread
  run()
  const exited = new Promise(r => st.once('exit', r))
  st.kill('SIGINT')
  await exited
  const counts = new Map<string, number>()
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line)
    if (m && m[2] !== 'total') counts.set(m[2], Number(m[1]))
  }
  return counts
}

/** One run under strace per proxy process of `s`: the syscalls each process makes per request. */
async function syscallsPerRequest (s: Scenario, seconds: number): Promise<void> {
  // nginx masters only supervise: count the worker (the last pid of each master's list)
  const pids = s.pids()
  for (const pid of pids) {
    let requests = 0
    const counts = await countSyscalls(pid, () => { requests = wrk(s, seconds).requests })
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    if (total < requests / 10) continue // an idle nginx master
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k} ${(v / requests).toFixed(2)}`).join(', ')
    console.log(`  ${s.label.padEnd(22)} pid ${pid}: ${(total / requests).toFixed(2)} syscalls/req (${top})  [${requests} requests under strace]`)
  }
}

function median (xs: number[]): number {
  const s = xs.filter(x => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

async function main (): Promise<void> {
  ensureTools()
  // --- identities for the TLS hops (one CA; client and server leaves with SPIFFE IDs) ---
  const root = await createRootCa({ commonName: 'meshwork bench root', ttlMs: 86_400_000 })
  const ids = {
    client: await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/client', 86_400_000),
    origin: await issueTestIdentity(root, 'spiffe://cluster.local/ns/default/sa/origin', 86_400_000)
  }
  const pem = (name: string, content: string): string => { const f = join(dir, name); writeFileSync(f, content); return f }
  const ca = pem('ca.pem', root.certPem)
  const clientCert = pem('client.pem', ids.client.certPem)
  const clientKey = pem('client.key', ids.client.privateKeyPem)
  const originCert = pem('origin.pem', ids.origin.certPem)
  const originKey = pem('origin.key', ids.origin.privateKeyPem)

  const pp = await freePorts(16)
  const port = { origin: pp[0], mw1: pp[1], mwOut: pp[2], mwIn: pp[3], ng1: pp[4], ngA: pp[5], ngB: pp[6], mw1B: pp[10], mwOutB: pp[11], mwInB: pp[12] }
  const admin = [...pp.slice(7, 10), ...pp.slice(13, 16)]

  // --- origin ---
  startNginx('origin', `server { listen 127.0.0.1:${port.origin} reuseport; location / { default_type text/plain; return 200 "${BODY.slice(0, -1)}\\n"; } }`)
  await waitPort(port.origin)

  // --- nginx proxies ---
  const upstreamOrigin = `upstream origin_up { server 127.0.0.1:${port.origin}; keepalive 64; }`
  const proxyLoc = (up: string, extra = ''): string => `location / { proxy_pass ${up}; proxy_http_version 1.1; proxy_set_header Connection ""; ${extra} }`
  const ng1 = startNginx('nginx-1hop', `${upstreamOrigin} server { listen 127.0.0.1:${port.ng1}; ${proxyLoc('http://origin_up')} }`)
  const ngB = startNginx('nginx-tls-server', `${upstreamOrigin} server { listen 127.0.0.1:${port.ngB} ssl; ssl_certificate ${originCert}; ssl_certificate_key ${originKey}; ssl_client_certificate ${ca}; ssl_verify_client on; ssl_session_cache shared:SSL:1m; ${proxyLoc('http://origin_up')} }`)
  const ngA = startNginx('nginx-tls-client', `upstream b_up { server 127.0.0.1:${port.ngB}; keepalive 64; } server { listen 127.0.0.1:${port.ngA}; ${proxyLoc('https://b_up', `proxy_ssl_certificate ${clientCert}; proxy_ssl_certificate_key ${clientKey}; proxy_ssl_trusted_certificate ${ca}; proxy_ssl_verify off; proxy_ssl_session_reuse on;`)} }`)

  // --- meshwork proxies (static snapshots) ---
  const snap = (file: string, s: unknown): string => pem(file, JSON.stringify(s))
  const mw1Snap = snap('mw1.json', {
    version: 'bench', node: { id: 'mw1', service: 'client' }, mesh: { mtls: { mode: 'DISABLE' }, tracing: { enabled: false } },
    services: [{ name: 'origin', port: 80, endpoints: [{ id: 'origin-0', address: '127.0.0.1', port: port.origin }] }]
  })
  const outSnap = (inPort: number): unknown => ({
    version: 'bench', node: { id: 'mw-out', service: 'client' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'origin', port: 80, endpoints: [{ id: 'origin-sidecar-0', address: '127.0.0.1', port: inPort, tls: true, identity: ids.origin.spiffeId }] }]
  })
  const mwOutSnap = snap('mw-out.json', outSnap(port.mwIn))
  const mwInSnap = snap('mw-in.json', {
    version: 'bench', node: { id: 'mw-in', service: 'origin' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: port.origin }
  })
  const startSet = (main: string | null, p: { mw1: number, mwOut: number, mwIn: number }, outSnapFile: string, a: number[], tag: string): Promise<ChildProcess[]> => Promise.all([
    startMeshwork(`meshwork-1hop${tag}`, ['--snapshot', mw1Snap, '--outbound', `127.0.0.1:${p.mw1}`, '--admin', `127.0.0.1:${a[0]}`], main),
    startMeshwork(`meshwork-client-sidecar${tag}`, ['--snapshot', outSnapFile, '--outbound', `127.0.0.1:${p.mwOut}`, '--admin', `127.0.0.1:${a[1]}`, '--cert', clientCert, '--key', clientKey, '--ca', ca], main),
    startMeshwork(`meshwork-server-sidecar${tag}`, ['--snapshot', mwInSnap, '--inbound', `127.0.0.1:${p.mwIn}`, '--admin', `127.0.0.1:${a[2]}`, '--cert', originCert, '--key', originKey, '--ca', ca], main)
  ])
  const [mw1, mwOut, mwIn] = await startSet(null, port, mwOutSnap, admin, '')
  const [mw1B, mwOutB, mwInB] = COMPARE !== null
    ? await startSet(COMPARE, { mw1: port.mw1B, mwOut: port.mwOutB, mwIn: port.mwInB }, snap('mw-out-b.json', outSnap(port.mwInB)), admin.slice(3), ' [B]')
    : []
  await Promise.all([port.ng1, port.ngA, port.ngB].map(waitPort))

  // --- the captured path: a pod network (root only) ---
  const podsWanted = process.env.BENCH_PODS !== '0' && (ONLY === null || ONLY.some(id => id.startsWith('meshwork-2-mtls-')))
  const podsUnsupported = podsWanted ? podNetworkUnsupportedReason() : null
  if (podsWanted && podsUnsupported === null) {
    pods = await startCapturedPath({
      dir,
      files: { ca, clientCert, clientKey, originCert, originKey },
      originIdentity: ids.origin.spiffeId,
      originServer: `server { listen 127.0.0.1:80 reuseport; location / { default_type text/plain; return 200 "${BODY.slice(0, -1)}\\n"; } }`,
      startNginx: (name, server, wrap) => startNginx(name, server, wrap),
      startMeshwork: (name, args, wrap) => startMeshwork(name, args, null, wrap)
    })
  } else if (podsWanted) {
    console.log(`proxy-overhead: pod scenarios skipped: pod networking ${podsUnsupported}`)
  }

  const all: Scenario[] = [
    { id: 'direct', label: 'direct', port: port.origin, hops: 1, pids: () => [] },
    { id: 'meshwork-1', label: 'meshwork 1 hop', port: port.mw1, hops: 1, pids: () => [mw1.pid!] },
    ...(mw1B !== undefined ? [{ id: 'meshwork-1-b', label: 'meshwork 1 hop [B]', port: port.mw1B, hops: 1, pids: () => [mw1B.pid!] }] : []),
    { id: 'nginx-1', label: 'nginx 1 hop', port: port.ng1, hops: 1, pids: () => nginxPids(ng1) },
    { id: 'meshwork-2-mtls', label: 'meshwork 2 hops mTLS', port: port.mwOut, hops: 2, pids: () => [mwOut.pid!, mwIn.pid!] },
    ...(mwOutB !== undefined ? [{ id: 'meshwork-2-mtls-b', label: 'meshwork 2 hops mTLS [B]', port: port.mwOutB, hops: 2, pids: () => [mwOutB.pid!, mwInB.pid!] }] : []),
    { id: 'nginx-2-tls', label: 'nginx 2 hops TLS', port: port.ngA, hops: 2, pids: () => [...nginxPids(ngA), ...nginxPids(ngB)] },
    ...(pods !== null
      ? [
          { id: 'meshwork-2-mtls-pods', label: 'meshwork 2 hops pods', port: 0, url: pods.explicitUrl, inPod: pods.inClient, hops: 2, pids: () => [pods!.explicit.client.pid!, pods!.explicit.server.pid!] },
          { id: 'meshwork-2-mtls-captured', label: 'meshwork 2 hops captured', port: 0, url: pods.capturedUrl, inPod: pods.inClient, hops: 2, pids: () => [pods!.captured.client.pid!, pods!.captured.server.pid!] }
        ]
      : [])
  ]
  const scenarios = all.filter(s => ONLY === null || ONLY.includes(s.id.replace(/-b$/, '')))

  // sanity: every path answers 200 with the 100-byte body
  for (const s of scenarios) {
    const r = wrk(s, 1)
    if (r.errors > 0 || !(r.rps > 0)) throw new Error(`${s.label}: warm-up failed (${r.errors} errors, ${r.rps} req/s)`)
  }
  console.log(`proxy-overhead: ${ROUNDS} rounds × ${scenarios.length} scenarios × ${DURATION}s, wrk -t${THREADS} -c${CONNECTIONS}, 100-byte responses, ${process.version}`)
  const results = new Map<string, RunResult[]>()
  for (let round = 1; round <= ROUNDS; round++) {
    // even rounds run the scenarios in reverse order, so no scenario always follows the same one
    for (const s of round % 2 === 0 ? [...scenarios].reverse() : scenarios) {
      const r = measure(s, DURATION)
      results.set(s.id, [...(results.get(s.id) ?? []), r])
      console.log(`  round ${round} ${s.label.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
        (r.cpuUsPerReqPerHop !== null ? `  ${r.cpuUsPerReqPerHop.toFixed(1)} µs CPU/req/hop (user ${r.userUsPerReqPerHop!.toFixed(1)}, ${r.involCsPerReqPerHop!.toFixed(2)} preemptions)  RSS ${r.rssMb!.toFixed(1)} MB (private ${r.anonMb!.toFixed(1)})` : '') + (r.errors > 0 ? `  ERRORS ${r.errors}` : ''))
    }
  }

  const summary = scenarios.map(s => {
    const rs = results.get(s.id)!
    return {
      id: s.id,
      label: s.label,
      rps: median(rs.map(r => r.rps)),
      p50Ms: median(rs.map(r => r.p50)),
      p99Ms: median(rs.map(r => r.p99)),
      cpuUsPerReqPerHop: rs[0].cpuUsPerReqPerHop === null ? null : median(rs.map(r => r.cpuUsPerReqPerHop!)),
      userUsPerReqPerHop: rs[0].userUsPerReqPerHop === null ? null : median(rs.map(r => r.userUsPerReqPerHop!)),
      rssMb: rs[0].rssMb === null ? null : Math.max(...rs.map(r => r.rssMb!)),
      anonMb: rs[0].anonMb === null ? null : Math.max(...rs.map(r => r.anonMb!)),
      errors: rs.reduce((a, r) => a + r.errors, 0)
    }
  })
  console.log('\nmedians')
  console.log('scenario                  req/s    p50 ms   p99 ms   CPU µs/req/hop (user)   RSS MB  private MB  errors')
  for (const s of summary) {
    console.log(`${s.label.padEnd(22)} ${s.rps.toFixed(0).padStart(8)} ${s.p50Ms.toFixed(2).padStart(9)} ${s.p99Ms.toFixed(2).padStart(8)} ${(s.cpuUsPerReqPerHop?.toFixed(1) ?? '-').padStart(16)} ${(s.userUsPerReqPerHop !== null ? `(${s.userUsPerReqPerHop.toFixed(1)})` : '').padStart(7)} ${(s.rssMb?.toFixed(1) ?? '-').padStart(8)} ${(s.anonMb?.toFixed(1) ?? '-').padStart(11)} ${String(s.errors).padStart(7)}`)
  }
  const by = (id: string) => summary.find(s => s.id === id)
  const ratios: Record<string, number> = {}
  const m1 = by('meshwork-1')
  const n1 = by('nginx-1')
  const m2 = by('meshwork-2-mtls')
  const n2 = by('nginx-2-tls')
  if (m1 && n1) {
    ratios.rps1HopMeshworkOverNginx = m1.rps / n1.rps
    ratios.cpu1HopMeshworkOverNginx = m1.cpuUsPerReqPerHop! / n1.cpuUsPerReqPerHop!
  }
  if (m2 && n2) {
    ratios.rps2HopsMtlsMeshworkOverNginx = m2.rps / n2.rps
    ratios.cpu2HopsMeshworkOverNginx = m2.cpuUsPerReqPerHop! / n2.cpuUsPerReqPerHop!
  }
  console.log('\nratios Meshwork / nginx')
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(34)} ${v.toFixed(2)}`)
  // the cost of transparent capture: the captured path against the explicit-proxy path (HTTP_PROXY style),
  // on loopback (today's meshwork up --network loopback) and in pods (same veths and bridge, no rule)
  const mp = by('meshwork-2-mtls-pods')
  const mc = by('meshwork-2-mtls-captured')
  if (mc !== undefined) {
    console.log('\ncapture (2 hops mTLS, ratio of medians)')
    if (m2 !== undefined) {
      ratios.rpsCapturedOverExplicitLoopback = mc.rps / m2.rps
      ratios.cpuCapturedOverExplicitLoopback = mc.cpuUsPerReqPerHop! / m2.cpuUsPerReqPerHop!
      console.log(`  captured pods / explicit loopback   req/s ${ratios.rpsCapturedOverExplicitLoopback.toFixed(2)}   CPU/req/hop ${ratios.cpuCapturedOverExplicitLoopback.toFixed(2)}   p50 +${(mc.p50Ms - m2.p50Ms).toFixed(2)} ms`)
    }
    if (mp !== undefined) {
      ratios.rpsCapturedOverExplicitPods = mc.rps / mp.rps
      ratios.cpuCapturedOverExplicitPods = mc.cpuUsPerReqPerHop! / mp.cpuUsPerReqPerHop!
      console.log(`  captured pods / explicit pods       req/s ${ratios.rpsCapturedOverExplicitPods.toFixed(2)}   CPU/req/hop ${ratios.cpuCapturedOverExplicitPods.toFixed(2)}   (the rules alone)`)
    }
    if (n2 !== undefined) {
      ratios.rpsCapturedOverNginx2Tls = mc.rps / n2.rps
      console.log(`  captured pods / nginx 2 hops TLS    req/s ${ratios.rpsCapturedOverNginx2Tls.toFixed(2)}`)
    }
  }
  // today's targets on today's paths; the captured path is reported beside them (capture section above)
  const meshCpu = Math.max(m1?.cpuUsPerReqPerHop ?? 0, m2?.cpuUsPerReqPerHop ?? 0)
  const meshRss = Math.max(m1?.rssMb ?? 0, m2?.rssMb ?? 0)
  const meshAnon = Math.max(m1?.anonMb ?? 0, m2?.anonMb ?? 0)
  if (COMPARE !== null) {
    console.log(`\nA/B: B = ${COMPARE}, A = this checkout (per round B/A, then ratio of medians)`)
    for (const id of ['meshwork-1', 'meshwork-2-mtls']) {
      const a = results.get(id)
      const b = results.get(id + '-b')
      if (a === undefined || b === undefined) continue
      const rps = a.map((r, i) => (b[i].rps / r.rps).toFixed(2)).join(' ')
      const cpu = a.map((r, i) => (b[i].cpuUsPerReqPerHop! / r.cpuUsPerReqPerHop!).toFixed(2)).join(' ')
      console.log(`  ${id.padEnd(16)} req/s B/A ${rps} → ${(by(id + '-b')!.rps / by(id)!.rps).toFixed(3)}   CPU/req B/A ${cpu} → ${(by(id + '-b')!.cpuUsPerReqPerHop! / by(id)!.cpuUsPerReqPerHop!).toFixed(3)}`)
    }
  }
  console.log('\ntargets')
  if (ratios.rps2HopsMtlsMeshworkOverNginx !== undefined) console.log(`  two Meshwork hops with mTLS ≥ 0.7× two nginx hops with TLS: ${ratios.rps2HopsMtlsMeshworkOverNginx.toFixed(2)}× ${ratios.rps2HopsMtlsMeshworkOverNginx >= 0.7 ? 'MET' : 'MISSED'}`)
  if (meshCpu > 0) console.log(`  ≤ 25 µs CPU per request per hop: ${meshCpu.toFixed(1)} µs (worst Meshwork scenario) ${meshCpu <= 25 ? 'MET' : 'MISSED'}`)
  if (meshRss > 0) console.log(`  proxy RSS ≤ 60 MB: ${meshRss.toFixed(1)} MB ${meshRss <= 60 ? 'MET' : 'MISSED'} (private ${meshAnon.toFixed(1)} MB; the rest is the node executable's shared, file-backed pages)`)
  if (mc !== undefined) console.log(`  captured path (for reference): ${mc.cpuUsPerReqPerHop!.toFixed(1)} µs CPU/req/hop, RSS ${mc.rssMb!.toFixed(1)} MB, ${ratios.rpsCapturedOverNginx2Tls?.toFixed(2) ?? '-'}× two nginx TLS hops`)
  if (SYSCALLS) {
    console.log('\nsyscalls per request per proxy process (strace -c -f, one extra run per process)')
    for (const s of scenarios) if (s.hops > 0 && s.pids().length > 0) await syscallsPerRequest(s, Math.min(DURATION, 3))
  }
  if (process.env.BENCH_JSON) {
    writeFileSync(process.env.BENCH_JSON, JSON.stringify({ date: new Date().toISOString(), node: process.version, duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, threads: THREADS, summary, ratios, runs: Object.fromEntries(results) }, null, 2))
  }
}

/** Stop what we started: SIGTERM (nginx masters stop their workers), then SIGKILL any pid still alive. */
async function cleanup (): Promise<void> {
  const workers = new Set<number>()
  for (const c of children) if (c.spawnargs[0] === 'nginx') for (const pid of nginxPids(c)) workers.add(pid)
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  await Promise.race([
    Promise.all(children.map(c => c.exitCode !== null || c.signalCode !== null ? null : new Promise(r => c.once('exit', r)))),
    new Promise(r => setTimeout(r, 3000))
  ])
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const pid of workers) { try { process.kill(pid, 'SIGKILL') } catch {} }
  // the pod network goes with whatever still runs in it
  await pods?.close().catch(err => console.error(`proxy-overhead: pod network clean-up: ${(err as Error).message}`))
  rmSync(dir, { recursive: true, force: true })
}

process.on('SIGINT', () => { void cleanup().then(() => process.exit(130)) })
main().then(() => cleanup(), async (err: unknown) => {
  console.error(err)
  await cleanup()
  process.exitCode = 1
})
