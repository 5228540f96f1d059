import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PerformanceTestResult } from './smp.ts'
import { summarizeSuite } from './suite.ts'
import { sweepCells } from './sweep.ts'

function fake (scenario: string, qps: number, p50: number, p99: number, extra: Partial<PerformanceTestResult['meshwork']> = {}): PerformanceTestResult {
  return {
    actual_qps: qps,
    latencies: { min: 0, average: p50, p50, p90: p50, p99, max: p99 },
    mesh_config: { type: scenario === 'no-mesh' ? 'none' : 'nginx', version: '', config: {} },
    meshwork: { scenario, p999: p99, proxies: scenario === 'no-mesh' ? [] : [{ name: 'client-sidecar', cpuSeconds: 1, cpuCores: 0.5, cpuUsPerRequest: 20, rssBytes: 10e6, peakRssBytes: 12e6 }], ...extra }
  } as unknown as PerformanceTestResult
}

test('suite summary takes medians over repeats and ratios to the no-mesh medians', () => {
  const rs = [
    fake('no-mesh', 1000, 1, 2), fake('nginx-mtls', 500, 2, 5),
    fake('no-mesh', 1200, 1.2, 2.2), fake('nginx-mtls', 400, 3, 6),
    fake('no-mesh', 1100, 1.1, 2.1), fake('nginx-mtls', 450, 2.5, 5.5)
  ]
  const [base, nginx] = summarizeSuite(rs, ['no-mesh', 'nginx-mtls'])
  assert.equal(base.qps, 1100)
  assert.equal(base.qpsRatio, 1)
  assert.equal(nginx.runs, 3)
  assert.equal(nginx.qps, 450)
  assert.equal(nginx.p50, 2.5)
  assert.ok(Math.abs(nginx.qpsRatio - 450 / 1100) < 1e-9)
  assert.ok(Math.abs(nginx.p50Ratio - 2.5 / 1.1) < 1e-9)
  assert.ok(Math.abs(nginx.p99AddedMs - 3.4) < 1e-9)
  assert.ok(Math.abs(nginx.p90AddedMs - 1.4) < 1e-9) // fake p90 = p50
  assert.equal(base.p90AddedMs, 0)
  assert.equal(nginx.proxies[0].cpuUsPerRequest, 20)
})

test('partial runs are left out of the medians', () => {
  const rs = [fake('no-mesh', 1000, 1, 2), fake('no-mesh', 10, 100, 200, { stopped: 'MESH_ERR_BENCH_TARGET_ERRORS: x' })]
  const [base] = summarizeSuite(rs, ['no-mesh'], [{ scenario: 'no-mesh', repeat: 2, code: 'MESH_ERR_BENCH_TARGET_ERRORS', message: 'x' }])
  assert.equal(base.runs, 1)
  assert.equal(base.failed, 1)
  assert.equal(base.qps, 1000)
})

test('sweep cells: latency ratio to the lowest concurrency and overhead ratio to no-mesh', () => {
  const raw = [
    { scenario: 'no-mesh', connections: 8, smp: fake('no-mesh', 1000, 1, 2) },
    { scenario: 'no-mesh', connections: 32, smp: fake('no-mesh', 2000, 2, 4) },
    { scenario: 'nginx-mtls', connections: 8, smp: fake('nginx-mtls', 500, 2, 4) },
    { scenario: 'nginx-mtls', connections: 32, smp: fake('nginx-mtls', 800, 6, 9) }
  ]
  const cells = sweepCells(raw, ['no-mesh', 'nginx-mtls'], [8, 32])
  const c = cells.find(x => x.scenario === 'nginx-mtls' && x.connections === 32)!
  assert.equal(c.latencyRatioToLowest, 3)
  assert.equal(c.overheadRatioToNoMesh, 3)
  assert.equal(c.throughputCostToNoMesh, 2.5)
})
