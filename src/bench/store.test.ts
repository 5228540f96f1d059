import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { importFortio } from './fortio.ts'
import { BenchStore, resolveDataDir } from './store.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const fixture = JSON.parse(readFileSync(new URL('../../test/bench/fixtures/fortio-istio-1000qps.json', import.meta.url), 'utf8'))

test('data dir: flag, then $MESHWORK_DATA_DIR, then .meshwork under cwd', () => {
  assert.equal(resolveDataDir('/x', { MESHWORK_DATA_DIR: '/y' }, '/c'), '/x')
  assert.equal(resolveDataDir(undefined, { MESHWORK_DATA_DIR: '/y' }, '/c'), '/y')
  assert.equal(resolveDataDir(undefined, {}, '/c'), '/c/.meshwork')
})

test('saves SMP results, lists newest first, finds by id prefix, survives reopening', () => {
  const s = BenchStore.open(dir)
  const a = importFortio(fixture, { scenario: 'a' })
  const b = { ...importFortio(fixture, { scenario: 'b' }), end_time: '2030-01-01T00:00:00.000Z' }
  b.meshwork = { ...b.meshwork, group: 'group-1' }
  s.save(a)
  s.save(b)
  s.saveGroup({ id: 'group-1', kind: 'suite', createdAt: new Date().toISOString(), name: 'b', summary: { x: 1 } })
  s.close()
  const s2 = BenchStore.open(dir)
  const rows = s2.list()
  assert.equal(rows[0].id, b.id)
  assert.equal(rows.length, 2)
  assert.deepEqual(s2.get(a.id.slice(0, 8)), a)
  assert.equal(s2.list({ group: 'group-1' })[0].id, b.id)
  assert.equal(s2.isGroup('group-1'), true)
  assert.deepEqual(s2.getGroup('group-1').summary, { x: 1 })
  assert.throws(() => s2.get('ffffffff'), { code: 'MESH_ERR_BENCH_RESULT_NOT_FOUND' })
  assert.throws(() => s2.get('ab'), { code: 'MESH_ERR_BENCH_OPTION_INVALID' })
  s2.close()
})
