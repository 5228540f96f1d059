import assert from 'node:assert/strict'
import { test } from 'node:test'
import { scenarioAvailability, type ScenarioName } from '../../src/bench/scenarios/scenarios.ts'
import { runSearch } from '../../src/bench/search.ts'
import { runSuite } from '../../src/bench/suite.ts'
import { runSweep } from '../../src/bench/sweep.ts'

const avail = scenarioAvailability()
const wanted: ScenarioName[] = ['no-mesh', 'meshwork-plain', 'meshwork-mtls', 'meshwork-mtls-tracing', 'nginx-mtls', 'haproxy-mtls']
const scenarios = wanted.filter(s => avail[s] === null)
const short = { durationMs: 1000, warmupMs: 200, connections: 2, threads: 1 }

test('suite: every scenario runs interleaved and repeated; medians, ratios to no-mesh, CPU and RSS of each proxy', async () => {
  const order: string[] = []
  const r = await runSuite({ scenarios, repeat: 2, load: { ...short, rate: 100 }, onEvent: e => { if (e.type === 'run-start') order.push(`${e.scenario}#${e.repeat}`) } })
  assert.deepEqual(r.failures, [])
  // Interleaved: round 1 runs every scenario before round 2 starts.
  assert.deepEqual(order, [...scenarios.map(s => `${s}#1`), ...scenarios.map(s => `${s}#2`)])
  assert.equal(r.results.length, scenarios.length * 2)
  const base = r.summary.find(s => s.scenario === 'no-mesh')!
  assert.equal(base.p50Ratio, 1)
  for (const s of r.summary) {
    assert.equal(s.runs, 2, s.scenario)
    assert.ok(s.qps > 50, `${s.scenario} qps ${s.qps}`)
    assert.ok(Number.isFinite(s.p99Ratio), s.scenario)
    if (s.scenario === 'no-mesh') { assert.equal(s.proxies.length, 0); continue }
    assert.deepEqual(s.proxies.map(p => p.name), ['client-sidecar', 'server-sidecar'])
    for (const p of s.proxies) {
      assert.ok(p.rssBytes > 1e6, `${s.scenario}/${p.name} rss ${p.rssBytes}`)
      // /proc CPU times tick every 10 ms: 100 requests through nginx/HAProxy (~10 µs each) may read 0.
      assert.ok(Number.isFinite(p.cpuUsPerRequest) && p.cpuUsPerRequest >= 0, `${s.scenario}/${p.name} cpu ${p.cpuUsPerRequest}`)
      if (s.mesh === 'meshwork') assert.ok(p.cpuUsPerRequest > 0, `${s.scenario}/${p.name} cpu ${p.cpuUsPerRequest}`)
    }
  }
  const smp = r.results[0]
  assert.equal(smp.meshwork.group, r.group)
  assert.ok(smp.env.node.cpu_cores >= 1)
})

test('sweep: connections × scenario table with ratios to the lowest concurrency and to no-mesh', async () => {
  const two = scenarios.filter(s => s === 'no-mesh' || s === 'nginx-mtls' || s === 'meshwork-mtls').slice(0, 2)
  const r = await runSweep({ scenarios: two, connections: [4, 2], load: { durationMs: 800, warmupMs: 200, threads: 1, rate: 100 } })
  assert.deepEqual(r.connections, [2, 4])
  assert.equal(r.cells.length, two.length * 2)
  for (const c of r.cells) {
    assert.equal(c.failed, 0)
    if (c.connections === 2) assert.equal(c.latencyRatioToLowest, 1)
    if (c.scenario === 'no-mesh') assert.equal(c.overheadRatioToNoMesh, 1)
    assert.ok(Number.isFinite(c.overheadRatioToNoMesh))
  }
})

test('search: finds the highest rate under the SLO within its step budget', async () => {
  const r = await runSearch({ scenario: 'no-mesh', sloP99Ms: 200, startRate: 50, maxRate: 200, maxSteps: 4, load: { durationMs: 800, warmupMs: 100, connections: 4, threads: 1 } })
  assert.ok(r.probes.length <= 4)
  assert.deepEqual(r.probes.map(p => p.rate), [50, 100, 200])
  assert.equal(r.maxRate, 200)
})
