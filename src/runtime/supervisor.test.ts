import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { LogSink } from './log-sink.ts'
import { PortAllocator } from './ports.ts'
import { probe } from './readiness.ts'
import { Supervisor } from './supervisor.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-sup-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const SERVER = `require('node:http').createServer((q, s) => s.end(String(process.pid))).listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))`

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitFor (cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

test('starts a process, waits until it is ready, and stops it leaving no pid alive', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const port = await new PortAllocator().allocate()
  const p = sup.add({ name: 'web', command: process.execPath, args: ['-e', SERVER], env: { PORT: String(port) }, log: new LogSink('web', dir) })
  await sup.startAndWait(p, `http://127.0.0.1:${port}/`)
  assert.equal(p.state, 'running')
  assert.equal(await probe(`http://127.0.0.1:${port}/`), 200)
  const pid = p.pid!
  assert.ok(alive(pid))
  await sup.stopAll()
  assert.equal(p.state, 'stopped')
  assert.equal(alive(pid), false)
  assert.match(readFileSync(join(dir, 'web.log'), 'utf8'), /started web pid/)
})

test('a crashing process is restarted with a growing backoff', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const p = sup.add({ name: 'crash', command: process.execPath, args: ['-e', 'process.exit(3)'], initialBackoffMs: 20, maxBackoffMs: 80, log: new LogSink('crash', dir) })
  const delays: number[] = []
  p.on('exit', (code: number | null, _s: unknown, restarting: boolean) => {
    assert.equal(code, 3)
    assert.equal(restarting, true)
    delays.push(p.lastBackoffMs)
  })
  p.start()
  await waitFor(() => delays.length >= 4, 'four crashes')
  assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80])
  assert.ok(p.restarts >= 3)
  await sup.stopAll()
  assert.equal(p.pid, undefined)
})

test('a killed process is restarted on the same port and serves again', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const port = await new PortAllocator().allocate()
  const p = sup.add({ name: 'killed', command: process.execPath, args: ['-e', SERVER], env: { PORT: String(port) }, initialBackoffMs: 50, log: new LogSink('killed', dir) })
  await sup.startAndWait(p, `http://127.0.0.1:${port}/`)
  const first = p.pid!
  process.kill(first, 'SIGKILL')
  await once(p, 'spawn')
  await waitFor(() => p.restarts === 1, 'restart')
  const end = Date.now() + 20_000
  while (await probe(`http://127.0.0.1:${port}/`) !== 200) {
    assert.ok(Date.now() < end, 'restarted process never served')
    await new Promise(r => setTimeout(r, 50))
  }
  assert.notEqual(p.pid, first)
  assert.equal(alive(first), false)
})

test('stopAll stops groups in reverse order, SIGKILLs a process ignoring SIGTERM, and takes its children along', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const order: string[] = []
  // Ignores SIGTERM and has a child of its own (the grandchild must not survive).
  const stubborn = `process.on('SIGTERM', () => {})
const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
console.log('child ' + c.pid)
setInterval(() => {}, 1000)`
  const gentle = "process.on('SIGTERM', () => process.exit(0)); console.log('up'); setInterval(() => {}, 1000)"
  const a = sup.add({ name: 'first', command: process.execPath, args: ['-e', gentle], log: new LogSink('first', dir) }, 'group-1')
  const b = sup.add({ name: 'second', command: process.execPath, args: ['-e', stubborn], stopTimeoutMs: 300, log: new LogSink('second', dir) }, 'group-2')
  for (const p of [a, b]) p.on('exit', () => order.push(p.spec.name))
  a.start()
  b.start()
  await waitFor(() => /child \d+/.test(readFileSync(join(dir, 'second.log'), 'utf8')), 'grandchild pid')
  const grandchild = Number(/child (\d+)/.exec(readFileSync(join(dir, 'second.log'), 'utf8'))![1])
  assert.ok(alive(grandchild))
  const pids = [a.pid!, b.pid!]
  await sup.stopAll()
  assert.deepEqual(order, ['second', 'first'])
  for (const pid of pids) assert.equal(alive(pid), false)
  await waitFor(() => !alive(grandchild), 'grandchild gone', 5000)
})

test('startAndWait reports MESH_ERR_RUNTIME_START when the process exits or never gets ready', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const port = await new PortAllocator().allocate()
  const dies = sup.add({ name: 'dies', command: process.execPath, args: ['-e', 'process.exit(1)'], restart: false, log: new LogSink('dies', dir) })
  await assert.rejects(sup.startAndWait(dies, `http://127.0.0.1:${port}/`, 20_000), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_RUNTIME_START')
  const idle = sup.add({ name: 'idle', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], log: new LogSink('idle', dir) })
  await assert.rejects(sup.startAndWait(idle, `http://127.0.0.1:${port}/`, 500), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_RUNTIME_START')
})

test('a command that cannot be run fails at once with MESH_ERR_RUNTIME_START and is not restarted', async t => {
  const sup = new Supervisor()
  t.after(() => sup.stopAll())
  const p = sup.add({ name: 'missing', command: join(dir, 'no-such-program'), args: [], log: new LogSink('missing', dir) })
  const started = Date.now()
  await assert.rejects(sup.startAndWait(p, 'http://127.0.0.1:9/', 60_000), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_RUNTIME_START')
  assert.ok(Date.now() - started < 30_000)
  assert.equal(p.state, 'stopped')
  assert.equal(p.restarts, 0)
  await sup.stopAll()
})

test('PortAllocator never hands out the same port twice and refuses a taken fixed port', async () => {
  const ports = new PortAllocator()
  const got = new Set<number>()
  for (let i = 0; i < 20; i++) got.add(await ports.allocate())
  assert.equal(got.size, 20)
  const { createServer } = await import('node:net')
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const taken = (srv.address() as { port: number }).port
  await assert.rejects(ports.claim(taken, 'ingress'), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_PORT_IN_USE')
  srv.close()
  const [p] = [...got]
  await assert.rejects(ports.claim(p, 'ui'), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_PORT_IN_USE')
})
