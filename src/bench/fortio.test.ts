import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { exportFortio, importFortio, parseRequestedQps } from './fortio.ts'
import { decodeHistogram } from './loadgen/histogram.ts'

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/bench/fixtures/${name}`, import.meta.url), 'utf8'))

test('imports a fortio result with RequestedQPS as a string; seconds become ms', () => {
  const f = fixture('fortio-istio-1000qps.json') as any
  const r = importFortio(f, { mesh: { type: 'istio', version: '1.20', config: {} } })
  assert.equal(r.config.clients[0].rps, 1000)
  assert.equal(r.config.clients[0].load_generator, 'fortio')
  assert.equal(r.meshwork.mode, 'open-loop')
  assert.equal(r.actual_qps, 999.87)
  assert.equal(r.mesh_config.type, 'istio')
  const p50 = f.DurationHistogram.Percentiles.find((p: any) => p.Percentile === 50).Value
  assert.ok(Math.abs(r.latencies.p50 - p50 * 1000) < 0.001)
  assert.ok(Math.abs(r.latencies.max - 23.1) < 0.001)
  assert.equal(r.meshwork.requests, 29996)
  assert.deepEqual(r.meshwork.ret_codes, { 200: 29996 })
  assert.equal(r.meshwork.duration_ms, 30003)
  assert.equal(r.start_time, '2024-03-11T14:02:17.123Z')
  // The histogram is rebuilt from fortio's buckets: same count, percentiles near fortio's own.
  const h = decodeHistogram(r.meshwork.histogram)
  assert.equal(h.totalCount, 29996)
  assert.ok(Math.abs(h.getValueAtPercentile(50) / 1000 - r.latencies.p50) / r.latencies.p50 < 0.15)
})

test('imports RequestedQPS as a number (0 = max) and counts non-2xx in the error ratio', () => {
  const r = importFortio(fixture('fortio-linkerd-max-numeric.json'))
  assert.equal(r.config.clients[0].rps, 0)
  assert.equal(r.meshwork.mode, 'closed-loop')
  assert.ok(Math.abs(r.meshwork.error_ratio - 125 / 84125) < 1e-9)
  assert.equal(r.mesh_config.type, 'unknown')
})

test('RequestedQPS forms', () => {
  assert.equal(parseRequestedQps('1000'), 1000)
  assert.equal(parseRequestedQps(250.5), 250.5)
  assert.equal(parseRequestedQps('max'), 0)
  assert.equal(parseRequestedQps(-1), 0)
  assert.throws(() => parseRequestedQps('lots'), { code: 'MESH_ERR_BENCH_IMPORT_INVALID' })
})

test('a file that is not a fortio result is refused with MESH_ERR_BENCH_IMPORT_INVALID', () => {
  assert.throws(() => importFortio(fixture('fortio-invalid.json')), { code: 'MESH_ERR_BENCH_IMPORT_INVALID' })
  assert.throws(() => importFortio([1, 2]), { code: 'MESH_ERR_BENCH_IMPORT_INVALID' })
  const f = fixture('fortio-istio-1000qps.json') as any
  assert.throws(() => importFortio({ ...f, StartTime: 'yesterday' }), { code: 'MESH_ERR_BENCH_IMPORT_INVALID' })
})

test('export to fortio-like JSON and back keeps the figures', () => {
  const r = importFortio(fixture('fortio-istio-1000qps.json'))
  const f = exportFortio(r) as any
  assert.equal(f.RequestedQPS, '1000')
  assert.equal(f.DurationHistogram.Count, 29996)
  assert.equal(f.DurationHistogram.Data.at(-1).Percent, 100)
  const back = importFortio(f)
  assert.equal(back.actual_qps, r.actual_qps)
  assert.ok(Math.abs(back.latencies.p99 - r.latencies.p99) < 0.001)
  assert.equal(back.meshwork.requests, r.meshwork.requests)
})
