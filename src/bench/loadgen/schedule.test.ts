import assert from 'node:assert/strict'
import { test } from 'node:test'
import { OpenLoopSchedule, split } from './schedule.ts'

test('open-loop due times advance by the interval regardless of when requests are taken', () => {
  const s = new OpenLoopSchedule(1000, 100, 0, 1) // 100/s → every 10 ms
  assert.equal(s.take(), 1000)
  assert.equal(s.take(), 1010)
  assert.equal(s.peek(), 1020)
  assert.equal(s.take(), 1020)
  assert.equal(s.taken, 3)
})

test('connections are phase-shifted by their share of the interval', () => {
  const a = new OpenLoopSchedule(0, 100, 0, 4)
  const b = new OpenLoopSchedule(0, 100, 1, 4)
  const d = new OpenLoopSchedule(0, 100, 3, 4)
  assert.equal(a.peek(), 0)
  assert.equal(b.peek(), 2.5)
  assert.equal(d.peek(), 7.5)
})

test('split shares a total as evenly as possible', () => {
  assert.deepEqual(split(10, 3), [4, 3, 3])
  assert.deepEqual(split(2, 4), [1, 1, 0, 0])
  assert.equal(split(1001, 7).reduce((a, b) => a + b, 0), 1001)
})
