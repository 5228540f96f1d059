import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { stringify } from 'yaml'
import { SnapshotFile } from '../../src/dataplane/snapshot-file.ts'
import { PROXY_NODE_FLAGS } from '../../src/runtime/proxy-node-flags.ts'
import { client, snapshot, startOrigin, startProxy, text } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-snap-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function writeAtomic (file: string, content: string): void {
  writeFileSync(file + '.tmp', content)
  renameSync(file + '.tmp', file)
}

test('hot-swaps a changed snapshot file under load with zero failed requests', async (t) => {
  const a = await startOrigin('a')
  const b = await startOrigin('b')
  const p = await startProxy(null)
  t.after(async () => { await p.close(); await a.close(); await b.close() })
  const file = join(dir, 'swap.yaml')
  const snapFor = (v: number) => snapshot(`v${v}`, { reviews: { endpoints: [{ id: v % 2 === 0 ? 'a' : 'b', port: v % 2 === 0 ? a.port : b.port }] } })
  writeAtomic(file, stringify(snapFor(0)))
  const results: string[] = []
  const watcher = new SnapshotFile(file, p.proxy, { debounceMs: 10, onResult: r => results.push(r.ok ? r.version : r.error.code) })
  t.after(() => watcher.close())
  assert.equal((await watcher.load()).ok, true)
  watcher.watch()

  let stop = false
  let ok = 0
  const failures: string[] = []
  const seenNames = new Set<string>()
  const worker = async (): Promise<void> => {
    const c = client(p.outbound)
    try {
      while (!stop) {
        try {
          const r = await c.request({ method: 'POST', path: '/load', headers: { host: 'reviews' }, body: 'x'.repeat(100) })
          const body = await r.body.text()
          if (r.statusCode !== 200) failures.push(`${r.statusCode} ${body}`)
          else { ok++; seenNames.add(JSON.parse(body).name) }
        } catch (err) {
          failures.push(String(err))
        }
      }
    } finally {
      await c.close()
    }
  }
  const workers = Array.from({ length: 8 }, worker)
  for (let v = 1; v <= 6; v++) {
    await new Promise(resolve => setTimeout(resolve, 150))
    writeAtomic(file, stringify(snapFor(v)))
    const deadline = Date.now() + 5000
    while (p.proxy.snapshot?.version !== `v${v}` && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(p.proxy.snapshot?.version, `v${v}`)
  }
  await new Promise(resolve => setTimeout(resolve, 150))
  stop = true
  await Promise.all(workers)
  assert.deepEqual(failures, [])
  assert.ok(ok > 50, `only ${ok} requests went through`)
  assert.deepEqual([...seenNames].sort(), ['a', 'b'])
})

test('an invalid snapshot file is reported with file, path and reason; the last good one keeps serving', async (t) => {
  const o = await startOrigin('good')
  const p = await startProxy(null)
  t.after(async () => { await p.close(); await o.close() })
  const file = join(dir, 'bad.yaml')
  writeAtomic(file, stringify(snapshot('good', { reviews: { endpoints: [{ id: 'g', port: o.port }] } })))
  const errors: string[] = []
  const watcher = new SnapshotFile(file, p.proxy, { onResult: r => { if (!r.ok) errors.push(r.error.message) } })
  assert.equal((await watcher.load()).ok, true)
  const bad = snapshot('bad', { reviews: { endpoints: [{ id: 'g', port: 99999 }] } })
  writeAtomic(file, stringify(bad))
  const r = await watcher.load()
  assert.equal(r.ok, false)
  if (!r.ok) {
    assert.equal(r.error.code, 'MESH_ERR_SNAPSHOT_REJECTED')
    assert.ok(r.error.message.includes(file))
    assert.ok(r.error.message.includes('services[0].endpoints[0].port'))
  }
  writeAtomic(file, 'version: [unclosed\n')
  const r2 = await watcher.load()
  assert.equal(r2.ok, false)
  if (!r2.ok) assert.ok(r2.error.message.startsWith(file))
  assert.equal(p.proxy.snapshot?.version, 'good')
  const res = await text(p.outbound, '/')
  assert.equal(res.status, 404) // no Host → no route, but the proxy is up on the good snapshot
  const c = client(p.outbound)
  const ok = await c.request({ method: 'GET', path: '/', headers: { host: 'reviews' } })
  assert.equal(ok.statusCode, 200)
  await ok.body.text()
  await c.close()
})

test('`meshwork proxy --snapshot` serves from the file, /ready turns 200, SIGTERM stops it', async (t) => {
  const o = await startOrigin('cli')
  t.after(() => o.close())
  const file = join(dir, 'cli.json')
  writeFileSync(file, JSON.stringify(snapshot('cli-1', { reviews: { endpoints: [{ id: 'c', port: o.port }] } })))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let err = ''
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('proxy did not start: ' + err)), 30_000)
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /listening (.*)\n/.exec(err)
      if (m && err.includes('applied snapshot')) {
        clearTimeout(timer)
        resolve(Object.fromEntries(m[1].split(' ').map(kv => { const [k, v] = kv.split('='); return [k, Number(v.split(':').pop())] })))
      }
    })
  })
  assert.equal((await text(ports.admin, '/ready')).status, 200)
  const c = client(ports.outbound)
  const r = await c.request({ method: 'GET', path: '/hello', headers: { host: 'reviews' } })
  assert.equal(r.statusCode, 200)
  assert.equal((await r.body.json() as { name: string }).name, 'cli')
  await c.close()
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})

test('`./meshwork proxy` (the launcher, as a user or a container runs it) starts node with the proxy flags: heap trim on', { skip: existsSync('dist/cli/main.js') ? false : 'no dist/: scripts/test builds it before the tests' }, async (t) => {
  const file = join(dir, 'launcher.json')
  writeFileSync(file, JSON.stringify(snapshot('launcher-1', {})))
  const child = spawn('bash', ['./meshwork', 'proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let err = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('proxy did not start: ' + err)), 60_000)
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('applied snapshot')) { clearTimeout(timer); resolve() }
    })
  })
  assert.match(err, /heap trim on \(2 MB\)/)
  const admin = Number(/admin=[\d.]+:(\d+)/.exec(err)?.[1])
  assert.equal((await text(admin, '/ready')).status, 200)
  // the launcher execs node: same pid
  const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')
  for (const f of PROXY_NODE_FLAGS) assert.ok(argv.includes(f), `${f} missing from ${argv.join(' ')}`)
  assert.ok(argv.indexOf(PROXY_NODE_FLAGS[0]) < argv.findIndex(a => a.endsWith('dist/cli/main.js')), 'node flags before the entry point')
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})

test('`meshwork proxy` without --expose-gc says the heap trim is off', async (t) => {
  const file = join(dir, 'no-gc.json')
  writeFileSync(file, JSON.stringify(snapshot('no-gc-1', {})))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let err = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('proxy did not start: ' + err)), 30_000)
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
      if (err.includes('applied snapshot')) { clearTimeout(timer); resolve() }
    })
  })
  assert.match(err, /heap trim off \(node runs without --expose-gc/)
  const admin = Number(/admin=[\d.]+:(\d+)/.exec(err)?.[1])
  assert.equal((await text(admin, '/ready')).status, 200)
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  child.kill('SIGTERM')
  assert.equal(await exited, 0)
})

test('`meshwork proxy`: a SIGTERM during start-up (before the snapshot is applied) is a clean stop, exit 0', async (t) => {
  const file = join(dir, 'early-term.json')
  writeFileSync(file, JSON.stringify(snapshot('early-1', {})))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const exited = new Promise<[number | null, string | null]>(resolve => child.once('exit', (code, signal) => resolve([code, signal])))
  let err = ''
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString()
    // the first line is printed once the listeners are bound, before the snapshot file is read
    if (err.includes('listening') && child.signalCode === null && !err.includes('sent')) { err += 'sent'; child.kill('SIGTERM') }
  })
  assert.deepEqual(await exited, [0, null], err)
})
