// Issue 19: `meshwork get` and `apply` find the control plane a `meshwork up` recorded in its data dir
// (flag > $MESHWORK_CONTROL_PLANE > <data-dir>/context.json > default), and an unreachable control plane
// always comes with a hint naming the flag and the context file.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { writeContext } from '../../src/cli/context.ts'
import { type ControlPlane, startControlPlane } from '../../src/controlplane/index.ts'
import { cleanEnv, cli } from './cli.ts'

const root = mkdtempSync(join(tmpdir(), 'meshwork-context-'))
const project = join(root, 'project')
const dataDir = join(project, '.meshwork')
const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: context-probe-v1 }
spec: { service: context-probe, version: v1, command: [node, app.mjs] }
`
let cp: ControlPlane
let closedUrl: string

/** A loopback URL nothing listens on (a port bound, then released). */
async function closedPort (): Promise<string> {
  const s = createServer().listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as { port: number }).port
  await new Promise(resolve => s.close(resolve))
  return `http://127.0.0.1:${port}`
}

/** The pid of a process that has exited. */
async function deadPid (): Promise<number> {
  const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(p, 'exit')
  return p.pid!
}

before(async () => {
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(join(root, 'mesh.yaml'), MESH)
  cp = await startControlPlane({ files: [join(root, 'mesh.yaml')], host: '127.0.0.1', port: 0, dataDir: join(root, 'cp') })
  closedUrl = await closedPort()
  // what `meshwork up` writes; this test process stands in for the running `meshwork up`
  writeContext({ controlPlaneUrl: cp.url, managementUrl: null, ingressUrl: null, dataDir, pid: process.pid, startedAt: new Date().toISOString() })
})
after(async () => {
  await cp?.close()
  rmSync(root, { recursive: true, force: true })
})

const services = (stdout: string): string[] => (JSON.parse(stdout) as Array<{ name: string }>).map(s => s.name)

test('without flag or variable, get finds the control plane in ./.meshwork/context.json', async () => {
  const r = await cli(['get', 'services', '-o', 'json'], { cwd: project, env: cleanEnv() })
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(services(r.stdout), ['context-probe'])
})

test('apply finds it too, and so does any directory with --data-dir or $MESHWORK_DATA_DIR', async () => {
  const route = join(root, 'route.yaml')
  writeFileSync(route, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: context-probe }\nspec:\n  parentRefs: [{ kind: Service, name: context-probe }]\n  rules:\n    - backendRefs: [{ name: context-probe }]\n      timeouts: { request: 3s }\n')
  const applied = await cli(['apply', '-f', route, '--wait', '0s'], { cwd: project, env: cleanEnv() })
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /applied version \d+: HTTPRoute\/default\/context-probe/)
  const byFlag = await cli(['get', 'routes', '-o', 'json', '--data-dir', dataDir], { cwd: root, env: cleanEnv() })
  assert.equal(byFlag.code, 0, byFlag.stderr)
  assert.ok((JSON.parse(byFlag.stdout) as Array<{ name: string }>).some(r => r.name === 'context-probe'))
  const byEnv = await cli(['get', 'services', '-o', 'json'], { cwd: root, env: cleanEnv({ MESHWORK_DATA_DIR: dataDir }) })
  assert.equal(byEnv.code, 0, byEnv.stderr)
  assert.deepEqual(services(byEnv.stdout), ['context-probe'])
})

test('the flag beats $MESHWORK_CONTROL_PLANE, which beats the context file', async () => {
  const envWins = await cli(['get', 'services'], { cwd: project, env: cleanEnv({ MESHWORK_CONTROL_PLANE: closedUrl }) })
  assert.equal(envWins.code, 1)
  assert.match(envWins.stderr, /MESH_ERR_CONTROL_PLANE_UNAVAILABLE/)
  assert.match(envWins.stderr, new RegExp(`at ${closedUrl} \\(ECONNREFUSED\\); the URL is from \\$MESHWORK_CONTROL_PLANE`))
  const flagWins = await cli(['get', 'services', '-o', 'json', '--control-plane', cp.url], { cwd: root, env: cleanEnv({ MESHWORK_CONTROL_PLANE: closedUrl }) })
  assert.equal(flagWins.code, 0, flagWins.stderr)
  assert.deepEqual(services(flagWins.stdout), ['context-probe'])
})

test('ECONNREFUSED names the flag, the variable and the context file, for get and for apply', async () => {
  const empty = join(root, 'elsewhere')
  mkdirSync(empty, { recursive: true })
  for (const args of [['get', 'proxies'], ['apply', '-f', join(root, 'mesh.yaml')]]) {
    const r = await cli([...args, '--control-plane', closedUrl], { cwd: empty, env: cleanEnv() })
    assert.equal(r.code, 1, args.join(' '))
    assert.match(r.stderr, /^meshwork: MESH_ERR_CONTROL_PLANE_UNAVAILABLE: cannot reach the control plane at .* \(ECONNREFUSED\); the URL is from --control-plane/)
    assert.match(r.stderr, /hint: .*meshwork up.*context\.json.*--data-dir.*--control-plane <url>.*\$MESHWORK_CONTROL_PLANE/)
  }
})

test('a context whose meshwork up is gone is ignored, and the message says so', async () => {
  const stale = join(root, 'stale')
  mkdirSync(join(stale, '.meshwork'), { recursive: true })
  writeContext({ controlPlaneUrl: cp.url, managementUrl: null, ingressUrl: null, dataDir: join(stale, '.meshwork'), pid: await deadPid(), startedAt: new Date().toISOString() })
  const r = await cli(['get', 'services'], { cwd: stale, env: cleanEnv({ MESHWORK_CONTROL_PLANE: '' }) })
  // falls back to the default URL; whatever answers there (usually nothing), the stale file was not used
  if (r.code === 0) {
    assert.doesNotMatch(r.stdout, /context-probe/)
  } else {
    assert.match(r.stderr, /the URL is the default; .*context\.json was ignored: the meshwork up that wrote it \(pid \d+\) is not running/)
  }
})
