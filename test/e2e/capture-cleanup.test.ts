// `meshwork up --network pods` as a user runs it, with an app that knows nothing of the mesh (Python's
// http.server, which ignores the stdin lifeline): a SIGKILLed run leaves its pods behind, the next start removes
// them (and the app still running in one); Ctrl-C leaves no namespace, veth, bridge, rule or /etc/netns entry.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { podNetworkUnsupportedReason } from '../../src/runtime/netns/capability.ts'
import { alive, waitUntil } from './http-client.ts'
import { hostRuleset, runLeftovers } from './pod-helpers.ts'

const unsupported = podNetworkUnsupportedReason()
const skip = unsupported === null ? false : `--network pods unavailable here: ${unsupported}`
const dir = mkdtempSync(join(tmpdir(), 'meshwork-capture-cli-'))
const started: ChildProcess[] = []
after(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT } }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: files }
spec: { service: files, port: 8000, readinessPath: /, command: [/bin/sh, -c, 'exec /usr/bin/python3 -m http.server "$PORT" --bind 127.0.0.1'] }
`

function up (dataDir: string): { child: ChildProcess, out: () => string } {
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, MESH)
  const { command, args } = meshworkCommand(['up', '--network', 'pods', '-f', file, '--control-port', '0', '--ingress-port', '0', '--no-ui', '-q', '--data-dir', dataDir])
  // from a directory only root may enter (mkdtemp: 0700), as a root shell in /root: the sidecars (uid 1337) still start
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  started.push(child)
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', c => { out += c })
  child.stderr!.setEncoding('utf8').on('data', c => { out += c })
  return { child, out: () => out }
}

async function whenUp (u: ReturnType<typeof up>): Promise<{ run: string }> {
  await waitUntil(() => u.out().includes('Press Ctrl-C') || u.child.exitCode !== null, 'meshwork up to be up', 120_000)
  assert.equal(u.child.exitCode, null, u.out())
  assert.match(u.out(), /^meshwork up: network: pods /m)
  const run = /run ([0-9a-f]{6})/.exec(u.out())?.[1]
  assert.ok(run, u.out())
  return { run }
}

/** Alive and not a zombie (an orphan's parent is gone; who reaps it, and when, is up to pid 1). */
function running (pid: number): boolean {
  if (!alive(pid)) return false
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function loggedPid (dataDir: string, name: string): number {
  const m = /\[meshwork\] started (\S+) pid (\d+)/g
  for (const x of readFileSync(join(dataDir, 'logs', `${name}.log`), 'utf8').matchAll(m)) if (x[1] === name) return Number(x[2])
  throw new Error(`no pid for ${name}`)
}

test('a SIGKILLed run is cleaned by the next start (even an app that ignores the lifeline); Ctrl-C leaves nothing behind', { skip }, async () => {
  const rules = await hostRuleset()
  const d1 = join(dir, 'one')
  const first = up(d1)
  const { run: stale } = await whenUp(first)
  const app = loggedPid(d1, 'files-v1-0')
  const sidecar = loggedPid(d1, 'files-v1-0-sidecar')
  first.child.kill('SIGKILL')
  await once(first.child, 'exit')
  await waitUntil(() => !alive(sidecar), 'the sidecar to exit on its stdin lifeline', 30_000)
  assert.ok(alive(app), 'http.server does not watch stdin: it is still running in its pod')
  assert.ok((await runLeftovers(stale)).length > 0, 'the killed run left its pod network')

  const d2 = join(dir, 'two')
  const second = up(d2)
  const { run } = await whenUp(second)
  assert.notEqual(run, stale)
  assert.deepEqual(await runLeftovers(stale), [], 'the next start removed the stale run')
  assert.equal(running(app), false, 'and the app left in it')
  assert.match(readFileSync(join(d2, 'logs', 'control-plane.log'), 'utf8'), new RegExp(`removed the pod network of stale run ${stale}`))

  second.child.kill('SIGINT')
  const [code] = await once(second.child, 'exit')
  assert.equal(code, 0, second.out())
  assert.match(second.out(), /no process left behind/)
  assert.deepEqual(await runLeftovers(run), [])
  assert.equal(await hostRuleset(), rules)
})
