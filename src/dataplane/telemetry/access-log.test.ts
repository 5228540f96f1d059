import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { AccessLog } from './access-log.ts'

test('writes one JSON object per line to a file, with escaping and optional fields left out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-alog-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'access.log')
  const log = new AccessLog({ path })
  for (let i = 0; i < 500; i++) {
    log.log({ time: 1_700_000_000_000 + i, direction: 'inbound', method: 'GET', authority: 'reviews:9080', path: `/r/${i}?q="x"\n`, status: 200, duration_ms: 1.23456, bytes_in: 0, bytes_out: 10, upstream: '127.0.0.1:9080', source: 'spiffe://cluster.local/ns/default/sa/productpage', trace_id: 'abc' })
  }
  log.log({ method: 'POST', authority: 'ratings', path: '/', status: 503, duration_ms: 0, bytes_out: 0, error_code: 'MESH_ERR_UPSTREAM_CONNECT' })
  await log.close()
  const lines = readFileSync(path, 'utf8').split('\n')
  assert.equal(lines.pop(), '')
  assert.equal(lines.length, 501)
  const first = JSON.parse(lines[0])
  assert.deepEqual(first, {
    time: '2023-11-14T22:13:20.000Z', direction: 'inbound', method: 'GET', authority: 'reviews:9080', path: '/r/0?q="x"\n', status: 200,
    duration_ms: 1.235, bytes_in: 0, bytes_out: 10, upstream: '127.0.0.1:9080', source: 'spiffe://cluster.local/ns/default/sa/productpage', trace_id: 'abc'
  })
  assert.equal(JSON.parse(lines[499]).path, '/r/499?q="x"\n')
  const last = JSON.parse(lines[500])
  assert.equal(last.error_code, 'MESH_ERR_UPSTREAM_CONNECT')
  assert.equal(last.upstream, undefined)
  assert.equal(log.dropped, 0)
})

test('a destination that does not keep up: lines beyond the buffer are dropped and counted, never blocking', async () => {
  const chunks: string[] = []
  let release: (() => void) | null = null
  // A real Writable that accepts one chunk and then stalls until released.
  const slow = new Writable({
    highWaterMark: 1,
    write (chunk, _enc, cb) { chunks.push(String(chunk)); release = cb }
  })
  const log = new AccessLog({ stream: slow, maxBufferBytes: 2000, flushBytes: 1 })
  const entry = { method: 'GET', authority: 'a', path: '/', status: 200, duration_ms: 1, bytes_out: 1 }
  for (let i = 0; i < 100; i++) log.log(entry)
  assert.ok(log.dropped > 0, 'some lines dropped')
  const kept = 100 - log.dropped
  assert.equal(chunks.length, 1)
  // Unblock the writer: everything that was kept gets written.
  const drain = async () => { while (release !== null) { const r = release as () => void; release = null; r(); await new Promise(res => setImmediate(res)) } }
  await drain()
  const written = chunks.join('').split('\n').filter(Boolean)
  assert.equal(written.length, kept)
  for (const l of written) assert.equal(JSON.parse(l).status, 200)
})

test('stdout destination: lines reach the process stdout (child process)', async () => {
  const { spawnSync } = await import('node:child_process')
  const mod = new URL('./access-log.ts', import.meta.url).href
  const code = `import { AccessLog } from ${JSON.stringify(mod)}
const log = new AccessLog()
for (let i = 0; i < 3; i++) log.log({ method: 'GET', authority: 'a', path: '/' + i, status: 200, duration_ms: 1, bytes_out: 1 })
await log.close()
process.stdout.write('done\\n')`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.deepEqual(lines.slice(0, 3).map(l => JSON.parse(l).path), ['/0', '/1', '/2'])
  assert.equal(lines[3], 'done')
})
