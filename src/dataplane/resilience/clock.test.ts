import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { armedFastTimers, clearFastTimeout, FastTimer, fastTimeout, now, preciseNow, TICK_MS } from './clock.ts'

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
