import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHistogram } from './histogram.ts'
import { correctHistogramLikeWrk, correctLikeWrk, parseWrkDump, percentileUs, uncorrectWrk, wrkInterval } from './wrk-latency.ts'

test('wrk correction adds one sample per interval below a long latency, none for latencies under two intervals', () => {
  // interval 100 µs: 450 → synthetic 350, 250, 150 (each > 100); 150 and 199 add nothing.
  const measured = new Map([[50, 10], [150, 2], [199, 1], [450, 1]])
  const corrected = correctLikeWrk(measured, 100)
  assert.deepEqual([...corrected].sort((a, b) => a[0] - b[0]), [[50, 10], [150, 3], [199, 1], [250, 1], [350, 1], [450, 1]])
})

test('undoing the wrk correction gives back exactly what was measured', () => {
  let seed = 7
  const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const measured = new Map<number, number>()
  for (let i = 0; i < 5000; i++) {
    const us = rand() < 0.97 ? 200 + Math.floor(rand() * 300) : 1000 + Math.floor(rand() * 40_000) // a fast body and stalls
    measured.set(us, (measured.get(us) ?? 0) + 1)
  }
  const interval = wrkInterval(2_000_000, 80_000, 16) // 16 connections, 5000 requests each in 2 s: 400 µs
  assert.equal(interval, 400)
  const corrected = correctLikeWrk(measured, interval)
  const back = uncorrectWrk(corrected, interval)
  assert.deepEqual([...back].sort((a, b) => a[0] - b[0]), [...measured].sort((a, b) => a[0] - b[0]))
  // The stalls' synthetic samples sit above the interval and lift the median.
  assert.ok(percentileUs(corrected, 50) > percentileUs(measured, 50))
})

test('percentiles follow wrk: the smallest value whose cumulative count reaches the rank', () => {
  const counts = new Map([[10, 1], [20, 1], [30, 1], [40, 1]])
  assert.equal(percentileUs(counts, 50), 30) // rank = round(0.5 · 4 + 0.5) = 3 (C's round: half away from zero)
  assert.equal(percentileUs(counts, 25), 20) // rank = round(1.5) = 2
})

test('parses the done() dump: runtime, requests, µs buckets', () => {
  const d = parseWrkDump('2003025 80506\n17 1\n19 3\n')
  assert.equal(d.runtimeUs, 2003025)
  assert.equal(d.complete, 80506)
  assert.deepEqual([...d.counts], [[17, 1], [19, 3]])
  assert.equal(wrkInterval(d.runtimeUs, d.complete, 16), Math.floor(2003025 / Math.floor(80506 / 16)))
})

test('our histogram with the wrk correction: a stall lifts the median above what was measured', () => {
  const h = createHistogram()
  h.recordValueWithCount(300, 1000)
  h.recordValue(20_000)
  const c = correctHistogramLikeWrk(h, 400)
  assert.equal(c.totalCount, 1001 + 49) // 20000 − k·400 for k = 1…49 (HdrHistogram keeps values ≥ the interval)
  assert.ok(c.getValueAtPercentile(99) > h.getValueAtPercentile(99))
})
