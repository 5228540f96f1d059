import assert from 'node:assert/strict'
import { test } from 'node:test'
import { judgeProbe, nextRate, type SearchProbe } from './search.ts'
import type { PerformanceTestResult } from './smp.ts'

const plan = { startRate: 100, maxRate: 10_000, precision: 0.05 }
const p = (rate: number, pass: boolean): SearchProbe => ({ rate, pass, p99: 1, actualQps: rate })

/** Drive the planner against a target whose true limit is `limit` rps; returns the probed rates. */
function simulate (limit: number, maxSteps = 20): { rates: number[], best: number } {
  const probes: SearchProbe[] = []
  for (let i = 0; i < maxSteps; i++) {
    const r = nextRate(probes, plan)
    if (r === null) break
    probes.push(p(r, r <= limit))
  }
  const passes = probes.filter(x => x.pass).map(x => x.rate)
  return { rates: probes.map(x => x.rate), best: passes.length ? Math.max(...passes) : 0 }
}

test('search doubles while probes pass, then bisects between the last pass and the first fail', () => {
  const { rates, best } = simulate(1500)
  assert.deepEqual(rates.slice(0, 6), [100, 200, 400, 800, 1600, 1200])
  assert.ok(best <= 1500 && best >= 1500 * 0.94, `best ${best}`)
})

test('search stops at the max rate when everything passes, and goes down when the first rate fails', () => {
  assert.equal(simulate(1e9).best, 10_000)
  const low = simulate(30)
  assert.equal(low.rates[0], 100)
  assert.equal(low.rates[1], 50)
  assert.ok(low.best > 0 && low.best <= 30)
})

test('a probe fails on p99 over the SLO, on a rate it could not keep, or on an error', () => {
  const r = (qps: number, p99: number): PerformanceTestResult => ({ actual_qps: qps, latencies: { min: 0, average: 0, p50: 0, p90: 0, p99, max: 0 } }) as PerformanceTestResult
  assert.equal(judgeProbe(1000, 5, r(999, 4)).pass, true)
  assert.equal(judgeProbe(1000, 5, r(999, 6)).reason, 'p99')
  assert.equal(judgeProbe(1000, 5, r(800, 1)).reason, 'rate')
  assert.equal(judgeProbe(1000, 5, r(999, 1), 'MESH_ERR_BENCH_TARGET_ERRORS').pass, false)
})
