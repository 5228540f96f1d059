import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { PROXY_NODE_FLAGS } from '../runtime/proxy-node-flags.ts'
import { startHeapTrim } from './heap-trim.ts'
import { Registry } from './telemetry/metrics.ts'

const MB = 1024 * 1024

/** A trim driven by hand: `old` is the old generation's size, `t` the clock, `collect` a full GC back to `live`. */
function harness (opts: { growthBytes?: number, minIntervalMs?: number } = {}) {
  const state = { old: 8 * MB, live: 8 * MB, t: 0, collects: 0 }
  const registry = new Registry()
  const trim = startHeapTrim({
    ...opts,
    checkIntervalMs: 3_600_000, // the test calls check() itself
    collect: () => { state.collects++; state.old = state.live; state.t += 5 },
    oldGenerationBytes: () => state.old,
    now: () => state.t,
    registry
  })
  assert.ok(trim !== null)
  return { state, trim, registry }
}

test('no gc function (node without --expose-gc): no trim', () => {
  if (typeof (globalThis as { gc?: unknown }).gc === 'function') return // the runner itself exposes gc
  assert.equal(startHeapTrim({ oldGenerationBytes: () => 0 }), null)
})

test('collects once the old generation has grown by the threshold, then counts from the size after the collection', (t) => {
  const { state, trim, registry } = harness({ growthBytes: 2 * MB, minIntervalMs: 10_000 })
  t.after(() => trim.stop())
  state.t = 60_000
  state.old = 9.9 * MB
  trim.check()
  assert.equal(state.collects, 0, 'below the threshold')
  state.old = 10.1 * MB
  trim.check()
  assert.equal(state.collects, 1)
  assert.equal(trim.collections, 1)
  state.old = 9 * MB
  state.t += 60_000
  trim.check()
  assert.equal(state.collects, 1, 'the floor is the size after the collection')
  const text = registry.render()
  assert.match(text, /^nodejs_heap_trims_total 1$/m)
  assert.match(text, /^nodejs_heap_trim_seconds_total 0\.005$/m)
})

test('never collects more often than minIntervalMs, even when the live set grows', (t) => {
  const { state, trim } = harness({ growthBytes: 2 * MB, minIntervalMs: 10_000 })
  t.after(() => trim.stop())
  state.live = 20 * MB // a bigger live set: a collection does not bring the heap back to the old floor
  state.old = 20 * MB
  state.t = 10_000
  trim.check()
  assert.equal(state.collects, 1)
  state.old = 23 * MB
  state.t += 9_000
  trim.check()
  assert.equal(state.collects, 1, 'within minIntervalMs')
  state.t += 2_000
  trim.check()
  assert.equal(state.collects, 2)
})

test("V8's own full collection lowers the floor", (t) => {
  const { state, trim } = harness({ growthBytes: 2 * MB, minIntervalMs: 10_000 })
  t.after(() => trim.stop())
  state.t = 60_000
  state.old = 9.5 * MB
  trim.check()
  state.old = 7 * MB // V8 collected by itself
  trim.check()
  state.old = 8.5 * MB
  trim.check()
  assert.equal(state.collects, 0, '1.5 MB over the new floor')
  state.old = 9.1 * MB
  trim.check()
  assert.equal(state.collects, 1, '2.1 MB over the new floor')
})

test('in a node started with the proxy flags, the trim returns promoted garbage that V8 would keep', () => {
  const heapTrim = fileURLToPath(new URL('./heap-trim.ts', import.meta.url))
  // Garbage that survives two scavenges lands in the old generation; V8 alone lets ≥ 8 MB of it accumulate.
  const script = `
    const { startHeapTrim, oldGenerationUsedBytes } = await import(${JSON.stringify(heapTrim)})
    const trim = startHeapTrim({ growthBytes: 2 * 1024 * 1024, minIntervalMs: 0, checkIntervalMs: 3600000 })
    if (trim === null) throw new Error('no trim although --expose-gc')
    let keep = []
    for (let i = 0; i < 200000; i++) { keep.push({ i, s: "x".repeat(40) + i }); if (keep.length > 50000) keep = [] }
    const before = oldGenerationUsedBytes()
    trim.check()
    const after = oldGenerationUsedBytes()
    console.log(JSON.stringify({ before, after, collections: trim.collections }))
    trim.stop()
  `
  const r = spawnSync(process.execPath, [...PROXY_NODE_FLAGS, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const { before, after, collections } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { before: number, after: number, collections: number }
  assert.equal(collections, 1, `old generation ${before} bytes`)
  assert.ok(after < before - 2 * MB, `old generation ${before} → ${after} bytes`)
})
