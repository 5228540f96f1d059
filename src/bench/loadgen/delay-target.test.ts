import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type DelayTarget, startDelayTarget } from './delay-target.ts'
import { runLoad } from './run.ts'

let target: DelayTarget
before(async () => { target = await startDelayTarget({ delayMs: 5 }) })
after(() => target.close())

test('the delay target holds every request about its delay and counts it', async () => {
  target.reset()
  const r = await runLoad({ url: `http://127.0.0.1:${target.port}/`, connections: 2, threads: 1, durationMs: 300, warmupMs: 0 })
  const hold = target.hold()
  assert.ok(hold.count >= r.requests, `held ${hold.count}, measured ${r.requests}`)
  assert.ok(hold.min >= 4, `hold min ${hold.min} ms`) // a 5 ms timer fires after at least ~4 ms of loop time
})

test('closed loop against a known-latency target: p50 is the target\'s own hold plus a round trip, never less', async () => {
  // Each request's measured interval contains the target's hold of it (stamped before the write, after
  // the read), so the generator's p50 cannot be below the target's; a stale or shared stamp would be.
  const r = await runLoad({ url: `http://127.0.0.1:${target.port}/`, connections: 8, threads: 1, durationMs: 1500, warmupMs: 300 }, {
    onPhase: p => { if (p === 'measure') target.reset() }
  })
  const hold = target.hold()
  assert.ok(r.requests > 200, `requests ${r.requests}`)
  assert.ok(r.latency.p50 >= hold.p50 * 0.98, `p50 ${r.latency.p50} ms below the target's hold p50 ${hold.p50} ms`)
  // Generous upper bound (a loaded 2-core machine): the round trip and the generator's own work are far below 20 ms.
  assert.ok(r.latency.p50 <= hold.p50 + 20, `p50 ${r.latency.p50} ms, hold p50 ${hold.p50} ms`)
  assert.ok(r.latencyWrkCorrected !== undefined && r.latencyWrkCorrected.p50 >= r.latency.p50)
})
