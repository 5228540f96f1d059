import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { test } from 'node:test'
import type { PlannedInstance } from './mesh-plan.ts'
import { instanceFingerprint, WorkloadReconciler } from './workload-reconciler.ts'

function inst (id: string, env: Record<string, string> = {}, command = '/bin/app'): PlannedInstance {
  return { id, service: 's', version: 'v1', namespace: 'default', replica: 0, port: 80, workloadIndex: 0, command, args: [], cwd: '/', env, readinessPath: '/healthz' }
}

/** A fake mesh: `running` is what start/stop leave behind, `wanted` what the config asks for. */
function world (wanted: PlannedInstance[]) {
  const running = new Map<string, string>()
  const calls: string[] = []
  const source = new EventEmitter()
  let changed = 0
  const state = { wanted, failOn: null as string | null }
  const r = new WorkloadReconciler(source, {
    plan: () => state.wanted,
    running: () => [...running].map(([id, fingerprint]) => ({ id, fingerprint })),
    start: async i => {
      calls.push(`start ${i.id}`)
      await new Promise(resolve => setTimeout(resolve, 5))
      if (i.command === state.failOn) throw Object.assign(new Error('no such command'), { code: 'MESH_ERR_RUNTIME_START' })
      running.set(i.id, instanceFingerprint(i))
    },
    stop: async id => { calls.push(`stop ${id}`); running.delete(id) },
    changed: () => { changed++ },
    log: () => {}
  })
  return { r, running, calls, source, state, changes: () => changed }
}

test('starts missing instances, stops extra ones and replaces changed ones', async () => {
  const w = world([inst('a-0'), inst('a-1')])
  let res = await w.r.run()
  assert.deepEqual(res.started, ['a-0', 'a-1'])
  w.state.wanted = [inst('a-0', { X: '1' })]
  res = await w.r.run()
  assert.deepEqual(res.stopped, ['a-0', 'a-1'])
  assert.deepEqual(res.started, ['a-0'])
  assert.deepEqual(w.calls, ['start a-0', 'start a-1', 'stop a-0', 'stop a-1', 'start a-0'])
  res = await w.r.run()
  assert.deepEqual(res, { started: [], stopped: [], failed: [] })
  assert.equal(w.changes(), 2)
  await w.r.close()
})

test('a spec that fails to start is reported and not retried until it changes', async () => {
  const w = world([inst('b-0', {}, '/bad')])
  w.state.failOn = '/bad'
  const res = await w.r.run()
  assert.deepEqual(res.failed.map(f => f.id), ['b-0'])
  assert.match(res.failed[0].reason, /^MESH_ERR_RUNTIME_START/)
  assert.deepEqual((await w.r.run()).failed, [])
  assert.deepEqual(w.calls, ['start b-0'])
  w.state.wanted = [inst('b-0', {}, '/good')]
  assert.deepEqual((await w.r.run()).started, ['b-0'])
  await w.r.close()
})

test('config change events trigger a pass; passes never overlap', async () => {
  const w = world([inst('c-0')])
  w.source.emit('change')
  w.source.emit('change')
  const a = w.r.run()
  const b = w.r.run()
  await Promise.all([a, b])
  await new Promise(resolve => setTimeout(resolve, 300)) // the debounced pass
  assert.deepEqual(w.calls, ['start c-0'])
  await w.r.close()
  w.state.wanted = [inst('c-0'), inst('c-1')]
  w.source.emit('change')
  await new Promise(resolve => setTimeout(resolve, 300))
  assert.deepEqual(w.calls, ['start c-0']) // closed: no more passes
})
