import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { createGoldenMetrics } from './golden.ts'
import { escapeLabelValue, formatValue, Registry } from './metrics.ts'
import { registerProcessMetrics } from './process-metrics.ts'

const hasPromtool = spawnSync('promtool', ['--version']).status === 0

function promtoolCheck (text: string): { status: number | null, out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

test('counter children are cached per label values and render with HELP/TYPE', () => {
  const r = new Registry()
  const c = r.counter('app_hits_total', 'Hits.', ['method', 'code'])
  const a = c.labels('GET', '200')
  assert.equal(c.labels('GET', '200'), a)
  assert.notEqual(c.labels('GET', '500'), a)
  a.inc(); a.inc(2); a.inc(-5)
  assert.equal(r.render(), '# HELP app_hits_total Hits.\n# TYPE app_hits_total counter\napp_hits_total{method="GET",code="200"} 3\napp_hits_total{method="GET",code="500"} 0\n')
  assert.throws(() => c.labels('GET'), TypeError)
})

test('label values and HELP are escaped', () => {
  const r = new Registry()
  const g = r.gauge('x_value', 'Line one\nback\\slash', ['path'])
  g.labels('a"b\\c\nd').set(1.5)
  assert.equal(r.render(), '# HELP x_value Line one\\nback\\\\slash\n# TYPE x_value gauge\nx_value{path="a\\"b\\\\c\\nd"} 1.5\n')
  assert.equal(escapeLabelValue('plain'), 'plain')
  assert.equal(formatValue(Number.POSITIVE_INFINITY), '+Inf')
  assert.equal(formatValue(Number.NaN), 'NaN')
})

test('histogram renders cumulative buckets, +Inf, _sum and _count', () => {
  const r = new Registry()
  const h = r.histogram('lat_seconds', 'Latency.', ['route'], [0.1, 1])
  const c = h.labels('a')
  c.observe(0.05); c.observe(0.1); c.observe(0.5); c.observe(7)
  assert.equal(r.render(), [
    '# HELP lat_seconds Latency.', '# TYPE lat_seconds histogram',
    'lat_seconds_bucket{route="a",le="0.1"} 2', 'lat_seconds_bucket{route="a",le="1"} 3', 'lat_seconds_bucket{route="a",le="+Inf"} 4',
    'lat_seconds_sum{route="a"} 7.65', 'lat_seconds_count{route="a"} 4', ''
  ].join('\n'))
  const plain = r.histogram('plain_seconds', 'No labels.', [], [1])
  plain.observe(2)
  assert.match(r.render(), /plain_seconds_bucket\{le="1"\} 0\nplain_seconds_bucket\{le="\+Inf"\} 1\nplain_seconds_sum 2\nplain_seconds_count 1\n/)
  assert.throws(() => r.histogram('bad', 'x', ['le']), TypeError)
})

test('invalid names and duplicate registration are refused', () => {
  const r = new Registry()
  assert.throws(() => r.counter('bad-name', 'x'), TypeError)
  assert.throws(() => r.counter('ok_total', 'x', ['bad-label']), TypeError)
  r.counter('dup_total', 'x')
  assert.throws(() => r.counter('dup_total', 'x'), TypeError)
})

test('remove drops a series', () => {
  const r = new Registry()
  const g = r.gauge('conns', 'c', ['endpoint'])
  g.labels('a').set(1); g.labels('b').set(2)
  g.remove('a')
  assert.equal(g.size, 1)
  assert.doesNotMatch(r.render(), /endpoint="a"/)
  assert.notEqual(g.labels('a').value, 1, 'a fresh child after removal')
})

test('golden metrics: forRoute records requests by code/class, latency, bytes; config version info swaps', () => {
  const r = new Registry()
  const golden = createGoldenMetrics(r)
  const m = golden.forRoute('outbound', 'productpage', 'reviews', 'v2', 'reviews-route')
  assert.equal(golden.forRoute('outbound', 'productpage', 'reviews', 'v2', 'reviews-route'), m)
  m.record(200, 0.004, 10, 1000)
  m.record(200, 0.006, 0, 1000)
  m.record(503, 0.0002, 0, 20)
  m.record(200, 0.001, 5, 7, 14)
  m.record(200, 0.001, 5, 7, 14)
  m.record(200, 0.001, 5, 7, 0)
  m.retries.inc()
  m.errorCounter(golden.errors, 'MESH_ERR_UPSTREAM_CONNECT').inc()
  golden.configApplied('v1'); golden.configApplied('v2'); golden.configRejected()
  const text = r.render()
  const base = 'direction="outbound",source="productpage",destination="reviews",destination_version="v2",route="reviews-route"'
  assert.ok(text.includes(`meshwork_requests_total{${base},code="200",class="2xx",grpc_status=""} 2\n`))
  assert.ok(text.includes(`meshwork_requests_total{${base},code="503",class="5xx",grpc_status=""} 1\n`))
  // gRPC: the status of the trailers counted apart, HTTP 200 either way
  assert.ok(text.includes(`meshwork_requests_total{${base},code="200",class="2xx",grpc_status="14"} 2\n`))
  assert.ok(text.includes(`meshwork_requests_total{${base},code="200",class="2xx",grpc_status="0"} 1\n`))
  assert.ok(text.includes(`meshwork_request_duration_seconds_bucket{${base},class="2xx",le="0.005"} 4\n`))
  assert.ok(text.includes(`meshwork_request_duration_seconds_bucket{${base},class="5xx",le="0.0005"} 1\n`))
  assert.ok(text.includes(`meshwork_request_duration_seconds_count{${base},class="2xx"} 5\n`))
  assert.ok(text.includes(`meshwork_request_bytes_total{${base}} 25\n`))
  assert.ok(text.includes(`meshwork_response_bytes_total{${base}} 2041\n`))
  assert.ok(text.includes('meshwork_retries_total{direction="outbound",source="productpage",destination="reviews",route="reviews-route"} 1\n'))
  assert.ok(text.includes('meshwork_errors_total{direction="outbound",destination="reviews",code="MESH_ERR_UPSTREAM_CONNECT"} 1\n'))
  assert.ok(text.includes('meshwork_config_version_info{version="v2"} 1\n'))
  assert.ok(!text.includes('version="v1"'))
  assert.ok(text.includes('meshwork_config_reloads_total{result="ack"} 2\n'))
  assert.ok(text.includes('meshwork_config_reloads_total{result="nack"} 1\n'))
  for (const family of ['meshwork_outlier_ejections_total', 'meshwork_upstream_connections']) assert.ok(text.includes(`# TYPE ${family} `))
})

test('process metrics are refreshed on scrape', async () => {
  const r = new Registry()
  const stop = registerProcessMetrics(r)
  try {
    await new Promise(res => setTimeout(res, 50))
    const text = r.render()
    const rss = Number(/\nprocess_resident_memory_bytes (\d+)/.exec(text)?.[1])
    assert.ok(rss > 10_000_000)
    assert.ok(Number(/\nprocess_open_fds (\d+)/.exec(text)?.[1]) > 2)
    assert.ok(Number(/\nprocess_cpu_seconds_total ([\d.e-]+)/.exec(text)?.[1]) > 0)
    assert.match(text, /\nnodejs_eventloop_lag_seconds [\d.e-]+\n/)
  } finally { stop() }
})

test('promtool check metrics accepts the full exposition (golden + process + escaping)', { skip: hasPromtool ? false : 'promtool not installed' }, () => {
  const r = new Registry()
  const golden = createGoldenMetrics(r)
  const stop = registerProcessMetrics(r)
  try {
    golden.forRoute('inbound', 'spiffe://cluster.local/ns/default/sa/productpage', 'reviews', 'v1', 'default').record(200, 0.01, 5, 50)
    golden.forRoute('gateway', 'unknown', 'productpage', '', 'a "quoted"\\route\n').record(404, 0.001, 0, 0)
    golden.upstreamConnections.labels('reviews', '127.0.0.1:9080').set(3)
    golden.outlierEjections.labels('reviews', '127.0.0.1:9080').inc()
    golden.configApplied('42')
    const res = promtoolCheck(r.render())
    assert.equal(res.status, 0, res.out)
    // And the checker does catch a broken exposition (so this test can fail).
    assert.notEqual(promtoolCheck('# TYPE x counter\nx{a="b} 1\n').status, 0)
  } finally { stop() }
})
