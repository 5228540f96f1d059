import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { startConfigClient } from '../../src/dataplane/config-client.ts'
import { FakeProxy, MESH, until } from './helpers.ts'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

function cli (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

test('meshwork check: exit 0 on a consistent mesh, 1 with file:line, path and reason otherwise', async () => {
  const ok = await cli(['check', '-f', MESH])
  assert.equal(ok.code, 0, ok.stderr)
  const bad = await cli(['check', '-f', new URL('./fixtures/conflicts.yaml', import.meta.url).pathname, '-o', 'json'])
  assert.equal(bad.code, 1)
  const out = JSON.parse(bad.stdout)
  assert.equal(out.code, 'MESH_ERR_CONFIG_CONFLICT')
  assert.equal(out.problems.length, 4)
  const dir = await mkdtemp(join(tmpdir(), 'meshwork-check-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const zero = join(dir, 'zero.yaml')
  await writeFile(zero, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  parentRefs: [{ name: backend }]\n  rules:\n    - backendRefs: [{ name: backend-v1, weight: 0 }]\n')
  const z = await cli(['check', '--base', MESH, '-f', zero, '-o', 'json'])
  assert.equal(z.code, 1)
  const zj = JSON.parse(z.stdout)
  assert.equal(zj.code, 'MESH_ERR_CONFIG_INVALID')
  assert.equal(zj.problems[0].path, 'spec.rules[0].backendRefs')
  assert.equal(zj.problems[0].line, 7)
})

test('meshwork control + apply + get: applied, ACKed, NACK reported with its reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshwork-cli-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'control', '-f', MESH, '--port', '0', '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanups.push(() => new Promise<void>(resolve => { if (child.exitCode !== null) resolve(); else { child.once('exit', () => resolve()); child.kill('SIGTERM') } }))
  let out = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  await until(() => /listening on (http:\/\/\S+)/.test(out), 30_000, 'control plane start')
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]
  const env = { MESHWORK_CONTROL_PLANE: url }

  const proxy = new FakeProxy()
  proxy.reject = raw => raw.routes?.some((r: any) => r.metadata.annotations?.poison) ? 'poisoned route' : null
  const client = startConfigClient(proxy, { url, id: 'backend-v1-0', service: 'backend', version: 'v1', inbound: { host: '127.0.0.1', port: 23001 }, identity: false })
  cleanups.push(() => client.close())
  await client.ready

  const route = join(dir, 'route.yaml')
  await writeFile(route, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: backend }\nspec:\n  parentRefs: [{ name: backend }]\n  rules:\n    - backendRefs: [{ name: backend-v2 }]\n')
  const applied = await cli(['apply', '-f', route], env)
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /applied version \d+: HTTPRoute\/default\/backend/)
  assert.match(applied.stdout, /proxies: 1\/1 in sync/)

  const invalid = join(dir, 'invalid.yaml')
  await writeFile(invalid, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: backend }\nspec:\n  parentRefs: [{ name: backend }]\n  rules:\n    - backendRefs: [{ name: backend-v2, weight: -1 }]\n')
  const refused = await cli(['apply', '-f', invalid], env)
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /MESH_ERR_CONFIG_INVALID/)
  assert.ok(refused.stderr.includes(`${invalid}:7:49 (HTTPRoute/backend): spec.rules[0].backendRefs[0].weight:`), refused.stderr)

  const poison = join(dir, 'poison.yaml')
  await writeFile(poison, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: backend, annotations: { poison: "yes" } }\nspec:\n  parentRefs: [{ name: backend }]\n  rules:\n    - backendRefs: [{ name: backend-v1 }]\n')
  const nacked = await cli(['apply', '-f', poison], env)
  assert.equal(nacked.code, 3, nacked.stdout + nacked.stderr)
  assert.match(nacked.stdout, /NACK backend-v1-0: MESH_ERR_SNAPSHOT_REJECTED: poisoned route/)

  const proxies = await cli(['get', 'proxies', '-o', 'json'], env)
  const listed = JSON.parse(proxies.stdout)
  assert.equal(listed[0].sync, 'NACKED')
  assert.equal(listed[0].lastNack.code, 'MESH_ERR_SNAPSHOT_REJECTED')
  const table = await cli(['get', 'proxies'], env)
  assert.match(table.stdout, /^ID\s+ROLE\s+SERVICE/)
  assert.match(table.stdout, /backend-v1-0\s+sidecar\s+backend\s+v1\s+yes/)
  const services = JSON.parse((await cli(['get', 'services', '-o', 'json'], env)).stdout)
  assert.deepEqual(services.map((s: { name: string }) => s.name).sort(), ['backend', 'frontend'])
  const routes = await cli(['get', 'routes'], env)
  assert.match(routes.stdout, /backend\s+Service\/backend\s+\*\s+\/\s+backend-v1=1/)
  const deleted = await cli(['apply', '--delete', '-f', route], env)
  assert.equal(deleted.code, 0, deleted.stderr)
  assert.match(deleted.stdout, /deleted version \d+: HTTPRoute\/default\/backend/)
  assert.deepEqual(JSON.parse((await cli(['get', 'routes', '-o', 'json'], env)).stdout).map((r: { name: string }) => r.name), ['frontend-ingress'])
  const down = await cli(['get', 'routes'], { MESHWORK_CONTROL_PLANE: 'http://127.0.0.1:9' })
  assert.equal(down.code, 1)
  assert.match(down.stderr, /cannot reach the control plane/)
})
