// `meshwork up` as a user runs it: the CLI process, its printed URLs, Ctrl-C (SIGINT), and no process
// left behind (every pid the runtime logged is gone).
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { alive, closeClients, get, waitUntil } from './http-client.ts'

function startUp (args: string[]): { child: ChildProcess, out: () => string, err: () => string } {
  const { command, args: full } = meshworkCommand(['up', ...args])
  const child = spawn(command, full, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', c => { out += c })
  child.stderr!.setEncoding('utf8').on('data', c => { err += c })
  return { child, out: () => out, err: () => err }
}

/** Every pid the runtime logged as started (`[meshwork] started <name> pid <n>`). */
function loggedPids (dataDir: string): number[] {
  const dir = join(dataDir, 'logs')
  const pids: number[] = []
  for (const f of readdirSync(dir)) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\[meshwork\] started \S+ pid (\d+)/g)) pids.push(Number(m[1]))
  }
  return pids
}

test('meshwork up prints the URLs, serves Bookinfo and the UI, and Ctrl-C leaves no process behind', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-up-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const up = startUp(['--ingress-port', '0', '--control-port', '0', '--ui-port', '0', '--data-dir', dir, '--quiet'])
  t.after(() => { if (up.child.exitCode === null) up.child.kill('SIGKILL') })
  await waitUntil(() => up.out().includes('Press Ctrl-C') || up.child.exitCode !== null, 'meshwork up to be up', 120_000)
  assert.equal(up.child.exitCode, null, up.err())
  const ingress = /ingress:\s+(http:\/\/127\.0\.0\.1:\d+)\/productpage/.exec(up.out())?.[1]
  const uiLine = /UI:\s+(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/.exec(up.out())
  const ui = uiLine?.[1]
  const control = /control plane:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(up.out())?.[1]
  assert.ok(ingress && ui && control, up.out())
  assert.equal((await get(`${control}/v1/status`)).status, 200)
  assert.equal((await get(`${ui}/api/v1/status`)).status, 401, 'the UI API needs the printed token')
  assert.equal((await get(`${ui}/api/v1/status`, { authorization: `Bearer ${uiLine![2]}` })).status, 200)
  const page = await get(`${ingress}/productpage`)
  assert.equal(page.status, 200, page.body)
  assert.match(page.body, /reviews-version: v[123]/)
  closeClients()

  const pids = loggedPids(dir)
  assert.equal(pids.length, 16) // 7 sidecars, 7 apps, 2 gateways
  for (const pid of pids) assert.ok(alive(pid))
  up.child.kill('SIGINT')
  const [code] = await once(up.child, 'exit')
  assert.equal(code, 0, up.err())
  assert.match(up.out(), /no process left behind/)
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived`)
})

test('meshwork up refuses a taken ingress port with MESH_ERR_PORT_IN_USE and starts nothing', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-up-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  t.after(() => srv.close())
  const taken = (srv.address() as { port: number }).port
  const up = startUp(['--ingress-port', String(taken), '--control-port', '0', '--data-dir', dir, '--quiet', '--no-ui'])
  const [code] = await once(up.child, 'exit')
  assert.equal(code, 1)
  assert.match(up.err(), /MESH_ERR_PORT_IN_USE/)
  assert.deepEqual(loggedPids(dir), [])
})

test('if meshwork up is SIGKILLed, its apps and proxies notice (stdin lifeline) and exit on their own', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-up-'))
  // loopback: the lifeline of plain processes; a SIGKILLed pods run (its namespaces are cleaned by the next
  // start) is test/e2e/capture-cleanup.test.ts
  const up = startUp(['--ingress-port', '0', '--control-port', '0', '--data-dir', dir, '--quiet', '--no-ui', '--network', 'loopback'])
  t.after(() => {
    if (up.child.exitCode === null) up.child.kill('SIGKILL')
    try {
      for (const pid of loggedPids(dir)) if (alive(pid)) process.kill(-pid, 'SIGKILL')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  await waitUntil(() => up.out().includes('Press Ctrl-C') || up.child.exitCode !== null, 'meshwork up to be up', 120_000)
  assert.equal(up.child.exitCode, null, up.err())
  const pids = loggedPids(dir)
  assert.equal(pids.length, 16) // 7 sidecars, 7 apps, 2 gateways
  up.child.kill('SIGKILL')
  await once(up.child, 'exit')
  await waitUntil(() => pids.every(pid => !alive(pid)), `orphans to exit (alive: ${pids.filter(alive).join(' ')})`, 30_000)
})
