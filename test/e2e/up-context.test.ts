// Issue 19, as a new user meets it: `meshwork up` on non-default ports says what each URL is for and
// records them in <data-dir>/context.json (0600), so the README's "Try it" commands work without flags;
// the printed Prometheus command runs as printed and scrapes every proxy; Ctrl-C removes the context, and
// `meshwork get` then says where it looked.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { cleanEnv, cli } from '../cli/cli.ts'
import { waitUntil } from './http-client.ts'

const ROOT = join(import.meta.dirname, '..', '..')

async function freePort (): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  await new Promise(resolve => s.close(resolve))
  return port
}

function line (out: string, label: string): string {
  const l = out.split('\n').find(x => x.startsWith(label))
  assert.ok(l !== undefined, `no "${label}" line in:\n${out}`)
  return l
}

test('meshwork up records its URLs, get/apply/bench find them, the summary explains each URL, Prometheus runs as printed', async t => {
  const project = mkdtempSync(join(tmpdir(), 'meshwork-up-context-'))
  const dataDir = join(project, '.meshwork')
  const children: ChildProcess[] = []
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    rmSync(project, { recursive: true, force: true })
  })
  // the default data dir, ./.meshwork, in the user's working directory
  const { command, args } = meshworkCommand(['up', '--ingress-port', '0', '--control-port', '0', '--ui-port', '0', '--quiet'])
  const up = spawn(command, args, { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(up)
  let out = ''
  let err = ''
  up.stdout!.setEncoding('utf8').on('data', c => { out += c })
  up.stderr!.setEncoding('utf8').on('data', c => { err += c })
  await waitUntil(() => out.includes('Press Ctrl-C') || up.exitCode !== null, 'meshwork up to be up', 120_000)
  assert.equal(up.exitCode, null, err)

  // What each URL is for.
  const ingress = /^ingress:\s+(http:\/\/127\.0\.0\.1:\d+)\/productpage\s+the app through the ingress gateway/m.exec(out)?.[1]
  const ui = /^UI:\s+(http:\/\/127\.0\.0\.1:\d+)\/\?token=[\w-]{40,}\s+playground: live topology, config editor/m.exec(out)?.[1]
  const control = /^control plane:\s+(http:\/\/127\.0\.0\.1:\d+)\s+API of meshwork get\/apply; get, apply and bench find this mesh through (\S+)/m.exec(out)
  const egress = /^egress:\s+(http:\/\/127\.0\.0\.1:\d+)\s+gateway for calls leaving the mesh: HTTPRoutes attached to Gateway "egress" \(none yet\)/m.exec(out)?.[1]
  assert.ok(ingress && ui && control && egress, out)
  assert.match(line(out, 'logs:'), /one file per process/)
  assert.match(line(out, 'prometheus:'), /not started; to scrape every proxy/)
  assert.match(out, /^proxies \(admin: \/ready \/config \/tap · metrics: Prometheus text\):$/m)

  // The context: where the summary says, 0600, with the URLs the summary printed.
  const file = join(dataDir, 'context.json')
  assert.equal(control[2], file)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  const ctx = JSON.parse(readFileSync(file, 'utf8'))
  assert.deepEqual({ cp: ctx.controlPlaneUrl, ui: ctx.managementUrl, ingress: ctx.ingressUrl, dataDir: ctx.dataDir, pid: ctx.pid }, { cp: control[1], ui, ingress, dataDir, pid: up.pid })

  // The README's "Try it", run where the user ran `meshwork up`, without flags.
  const env = cleanEnv()
  const proxies = await cli(['get', 'proxies'], { cwd: project, env })
  assert.equal(proxies.code, 0, proxies.stderr)
  assert.match(proxies.stdout, /reviews-v2-0\s+sidecar\s+reviews\s+v2\s+yes/)
  const applied = await cli(['apply', '-f', join(ROOT, 'samples', 'bookinfo', 'examples', 'reviews-v3.yaml')], { cwd: project, env })
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /applied version \d+: HTTPRoute\/default\/reviews/)
  const bench = await cli(['bench', 'run', '-c', '2', '-t', '1', '-d', '1s', '--warmup', '200ms', '--json', '--no-store'], { cwd: project, env, timeoutMs: 90_000 })
  assert.equal(bench.code, 0, bench.stderr)
  const smp = JSON.parse(bench.stdout)
  assert.deepEqual(smp.config.clients[0].endpoint_urls, [`${ingress}/productpage`])
  assert.ok(smp.meshwork.requests > 0)

  // The Prometheus command runs as printed (here on a free port instead of 9090) and scrapes every proxy.
  const printed = out.split('\n')[out.split('\n').findIndex(l => l.startsWith('prometheus:')) + 1].trim()
  assert.match(printed, /^prometheus --config\.file=\S+ --storage\.tsdb\.path=\S+ --web\.listen-address=127\.0\.0\.1:9090$/)
  const promPort = await freePort()
  const prom = spawn('bash', ['-c', `exec ${printed.replace('127.0.0.1:9090', `127.0.0.1:${promPort}`)} --log.level=warn`], { stdio: ['ignore', 'ignore', 'pipe'] })
  children.push(prom)
  let promErr = ''
  prom.stderr!.setEncoding('utf8').on('data', c => { promErr += c })
  // admin URLs on loopback, or (root: meshwork up --network pods, the default there) at the pods' addresses
  const proxyCount = (out.match(/^ {2}\S+ {2,}http:\/\/(?:127\.0\.0\.1|198\.18\.\d+\.\d+):\d+ {2}http:\/\/(?:127\.0\.0\.1|198\.18\.\d+\.\d+):\d+\/metrics$/gm) ?? []).length
  assert.equal(proxyCount, 9) // 7 sidecars, 2 gateways
  await waitUntil(async () => {
    if (prom.exitCode !== null) return true
    // (503 "Service Unavailable" while Prometheus starts)
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`).then(res => (res.ok ? res.json() : null)).catch(() => null) as { data?: { activeTargets: Array<{ health: string }> } } | null
    return (r?.data?.activeTargets ?? []).filter(x => x.health === 'up').length === proxyCount
  }, 'Prometheus to scrape every proxy', 60_000)
  assert.equal(prom.exitCode, null, promErr)
  prom.kill('SIGTERM')
  await once(prom, 'exit')

  // Ctrl-C: the context goes with the mesh, and get then says where it looked and what to pass.
  up.kill('SIGINT')
  const [code] = await once(up, 'exit')
  assert.equal(code, 0, err)
  assert.equal(existsSync(file), false)
  const down = await cli(['get', 'proxies'], { cwd: project, env })
  // (unless another mesh serves the default port on this shared machine)
  if (down.code === 0) return
  assert.equal(down.code, 1)
  assert.match(down.stderr, /MESH_ERR_CONTROL_PLANE_UNAVAILABLE: cannot reach the control plane at http:\/\/127\.0\.0\.1:15010/)
  assert.match(down.stderr, new RegExp(`no ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))
  assert.match(down.stderr, /--control-plane <url>/)
})
