import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { armedFastTimers, clearFastTimeout, clockTicking, FastTimer, fastTimeout, now, preciseNow, TICK_MS } from './clock.ts'

test('now() is monotonic and trails the precise clock by at most about one tick', async () => {
  let prev = now()
  for (let i = 0; i < 5; i++) {
    await sleep(15)
    const n = now()
    assert.ok(n >= prev)
    // Generous: a loaded machine may delay the tick; it must still catch up, never run ahead.
    assert.ok(n <= preciseNow())
    assert.ok(preciseNow() - n < 250, `coarse clock ${preciseNow() - n} ms behind`)
    prev = n
  }
})

test('fastTimeout calls its callback with the argument after about the delay', async () => {
  const t0 = preciseNow()
  let firedAt = -1
  let got: unknown = null
  fastTimeout((arg: string) => { firedAt = preciseNow(); got = arg }, 50, 'ctx')
  await sleep(400)
  assert.equal(got, 'ctx')
  assert.ok(firedAt - t0 >= 50 - TICK_MS - 2, `fired after ${firedAt - t0} ms`)
})

test('clearFastTimeout prevents the callback and removes the timer', async () => {
  let fired = false
  const before = armedFastTimers()
  const t = fastTimeout(() => { fired = true }, 20)
  assert.equal(armedFastTimers(), before + 1)
  clearFastTimeout(t)
  assert.equal(armedFastTimers(), before)
  clearFastTimeout(t) // second clear is a no-op
  await sleep(100)
  assert.equal(fired, false)
})

test('a FastTimer can be re-armed; re-arming moves its deadline instead of adding a second firing', async () => {
  let fired = 0
  const t = new FastTimer(() => { fired++ }, null)
  t.arm(30)
  t.arm(60)
  assert.equal(t.armed, true)
  await sleep(20)
  assert.equal(fired, 0)
  await sleep(300)
  assert.equal(fired, 1)
  assert.equal(t.armed, false)
  t.arm(10)
  await sleep(200)
  assert.equal(fired, 2)
})

test('many timers fire in one tick and clearing some while others fire loses none', async () => {
  const fired: number[] = []
  const timers: FastTimer<number>[] = []
  for (let i = 0; i < 50; i++) timers.push(fastTimeout((n: number) => { fired.push(n) }, 20, i))
  for (let i = 0; i < 50; i += 2) clearFastTimeout(timers[i])
  await sleep(300)
  assert.deepEqual(fired.sort((a, b) => a - b), Array.from({ length: 25 }, (_, k) => 2 * k + 1))
})

test('the tick stops when idle and now() is fresh again on the first call after', async () => {
  now()
  await sleep(1500) // > 100 idle ticks of 10 ms, even on a slow machine the tick has run ~100 times
  const deadline = performance.now() + 10_000
  while (clockTicking() && performance.now() < deadline) await sleep(100)
  assert.equal(clockTicking(), false)
  const n = now()
  assert.ok(preciseNow() - n < 5, 'read from the real clock, not a stale value')
  assert.equal(clockTicking(), true)
})

test('a fast-timer callback that throws does not stop the clock or the other timers', () => {
  // In a child process: the throw is an uncaught exception there, as it would be with setTimeout.
  const clockUrl = new URL('./clock.ts', import.meta.url).href
  const code = `
    import { fastTimeout, now } from ${JSON.stringify(clockUrl)}
    let errors = 0
    process.on('uncaughtException', () => { errors++ })
    fastTimeout(() => { throw new Error('boom') }, 5)
    const t0 = now()
    fastTimeout(() => {
      const advanced = now() - t0
      console.log(JSON.stringify({ errors, advanced }))
      process.exit(0)
    }, 100)
    setTimeout(() => { console.log('{"stuck":true}'); process.exit(1) }, 10000)
  `
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr + r.stdout)
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  assert.equal(out.errors, 1)
  assert.ok(out.advanced >= 80, `clock advanced ${out.advanced} ms`)
})
