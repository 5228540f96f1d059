import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHistogram } from 'node:perf_hooks'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Registry } from './metrics.ts'
import { fillFromHdr, PAUSE_BUCKETS } from './pause-metrics.ts'

/** `name{labels} value` lines of a rendered registry. */
function sample (text: string, series: string): number {
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  assert.ok(line !== undefined, `no series ${series} in\n${text}`)
  return Number(line.slice(series.length + 1))
}

test('fillFromHdr: bucket counts from an HDR histogram, cumulative and complete', () => {
  const h = createHistogram()
  for (let i = 0; i < 900; i++) h.record(30_000) // 30 µs
  for (let i = 0; i < 90; i++) h.record(3_000_000) // 3 ms
  for (let i = 0; i < 10; i++) h.record(40_000_000) // 40 ms
  const r = new Registry()
  const hist = r.histogram('x_seconds', 'X.', [], PAUSE_BUCKETS)
  fillFromHdr(hist.labels(), h, PAUSE_BUCKETS.map(b => b * 1e9))
  const text = r.render()
  assert.equal(sample(text, 'x_seconds_bucket{le="0.00005"}'), 900)
  assert.equal(sample(text, 'x_seconds_bucket{le="0.002"}'), 900)
  assert.equal(sample(text, 'x_seconds_bucket{le="0.005"}'), 990)
  assert.equal(sample(text, 'x_seconds_bucket{le="0.02"}'), 990)
  assert.equal(sample(text, 'x_seconds_bucket{le="0.05"}'), 1000)
  assert.equal(sample(text, 'x_seconds_bucket{le="+Inf"}'), 1000)
  assert.equal(sample(text, 'x_seconds_count'), 1000)
  assert.ok(Math.abs(sample(text, 'x_seconds_sum') - (900 * 30e-6 + 90 * 3e-3 + 10 * 40e-3)) < 0.01)
})

// A real process with --expose-gc: a forced full collection (the heap trim's gc()) and scavenges show up by
// kind, and a 60 ms busy loop shows up in the event-loop delay histogram above 50 ms.
test('registerPauseMetrics: GC pauses by kind (forced = gc()) and an event-loop stall, in a node process', () => {
  const mod = fileURLToPath(new URL('./pause-metrics.ts', import.meta.url))
  const reg = fileURLToPath(new URL('./metrics.ts', import.meta.url))
  const script = `
    const { registerPauseMetrics } = await import(${JSON.stringify(mod)})
    const { Registry } = await import(${JSON.stringify(reg)})
    const r = new Registry()
    registerPauseMetrics(r, { resolutionMs: 5 })
    globalThis.gc()
    let keep = []
    for (let i = 0; i < 200000; i++) { keep.push({ i }); if (keep.length > 100) keep = [] }
    await new Promise(res => setTimeout(res, 50))
    const t = performance.now(); while (performance.now() - t < 60) {}
    await new Promise(res => setTimeout(res, 50))
    process.stdout.write(r.render())
  `
  const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(out.status, 0, out.stderr)
  const text = out.stdout
  assert.ok(sample(text, 'nodejs_gc_duration_seconds_count{kind="major",forced="true"}') >= 1)
  assert.ok(sample(text, 'nodejs_gc_duration_seconds_count{kind="minor",forced="false"}') >= 1)
  const delays = sample(text, 'nodejs_eventloop_delay_seconds_count')
  assert.ok(delays >= 5, `delay samples: ${delays}`)
  const below50 = sample(text, 'nodejs_eventloop_delay_seconds_bucket{le="0.05"}')
  assert.ok(delays - below50 >= 1, `the 60 ms stall is above 50 ms: ${below50} of ${delays} at or below`)
})
