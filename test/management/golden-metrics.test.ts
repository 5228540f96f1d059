// Golden-metric tables and series (issue 17): per service, workload, route and source from two stand-in proxies'
// /metrics over real sockets, through the management API; and the same series from a real Prometheus scraping them.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { startManagementServer } from '../../src/management/server.ts'
import { startPrometheus } from '../../src/runtime/prometheus.ts'

// 50 requests/s into reviews (10 % of them 503), half under 10 ms and the rest under 50 ms; productpage's outbound
// side sees the same calls.
const RATE = 50
const started = Date.now()
function text (side: 'inbound' | 'outbound'): string {
  const n = Math.floor(((Date.now() - started) / 1000) * RATE)
  const bad = Math.floor(n / 10)
  const labels = `direction="${side}",source="productpage",destination="reviews",destination_version="v1",route="reviews-default"`
  return [
    '# TYPE meshwork_requests_total counter',
    `meshwork_requests_total{${labels},code="200",class="2xx"} ${n - bad}`,
    `meshwork_requests_total{${labels},code="503",class="5xx"} ${bad}`,
    '# TYPE meshwork_request_duration_seconds histogram',
    `meshwork_request_duration_seconds_bucket{${labels},class="2xx",le="0.01"} ${Math.floor(n / 2)}`,
    `meshwork_request_duration_seconds_bucket{${labels},class="2xx",le="0.05"} ${n}`,
    `meshwork_request_duration_seconds_bucket{${labels},class="2xx",le="+Inf"} ${n}`,
    ''
  ].join('\n')
}

const servers: http.Server[] = []
const ports: Record<string, number> = {}
const dir = mkdtempSync(join(tmpdir(), 'mw-golden-'))
before(async () => {
  for (const side of ['inbound', 'outbound'] as const) {
    const s = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(req.url === '/metrics' ? text(side) : ''))
    s.listen(0, '127.0.0.1')
    await once(s, 'listening')
    servers.push(s)
    ports[side] = (s.address() as { port: number }).port
  }
})
after(() => {
  for (const s of servers) s.close()
  rmSync(dir, { recursive: true, force: true })
})

const targets = () => [
  { url: `http://127.0.0.1:${ports.inbound}/metrics`, proxyId: 'reviews-v1-0', role: 'sidecar' as const, service: 'reviews', version: 'v1' },
  { url: `http://127.0.0.1:${ports.outbound}/metrics`, proxyId: 'productpage-v1-0', role: 'sidecar' as const, service: 'productpage', version: 'v1' }
]

async function until<T> (what: string, fn: () => Promise<T | null>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const v = await fn()
    if (v !== null) return v
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('golden tables per service, workload, route and source: rps, success, p50/p95/p99 from the proxies\' metrics', async t => {
  // No control plane behind it: the metrics API does not need one.
  const server = await startManagementServer({ backend: new ControlPlaneBackend('http://127.0.0.1:9'), scrapeTargets: targets, scrapeIntervalMs: 500, dataDir: join(dir, 'a'), benchmarks: false })
  t.after(() => server.close())
  const get = async (path: string) => await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${server.token}` } }).then(async r => ({ status: r.status, body: await r.json() as any }))
  const svc = await until('a service row with traffic', async () => {
    const r = (await get('/metrics/golden?by=service')).body.rows.find((x: any) => x.key === 'reviews')
    return r !== undefined && r.rps > 0 ? r : null
  })
  assert.ok(Math.abs(svc.rps - RATE) < RATE * 0.25, `rps ${svc.rps}`)
  assert.ok(Math.abs(svc.successRate - 0.9) < 0.05, `success ${svc.successRate}`)
  // (integer counts per half-second interval put p50 near the 10 ms bucket edge, either side)
  assert.ok(svc.p50Ms > 0 && svc.p50Ms <= 15, `p50 ${svc.p50Ms}`)
  assert.ok(svc.p95Ms > 10 && svc.p95Ms <= 50, `p95 ${svc.p95Ms}`)
  assert.ok(svc.p99Ms >= svc.p95Ms && svc.p99Ms <= 50, `p99 ${svc.p99Ms}`)
  const wl = (await get('/metrics/golden?by=workload')).body.rows
  assert.deepEqual(wl.map((r: any) => [r.key, r.service, r.version]), [['reviews-v1-0', 'reviews', 'v1']])
  const routes = (await get('/metrics/golden?by=route&service=reviews')).body.rows
  assert.deepEqual(routes.map((r: any) => [r.key, r.route]), [['reviews/reviews-default', 'reviews-default']])
  const sources = (await get('/metrics/golden?by=source')).body.rows
  assert.deepEqual(sources.map((r: any) => [r.key, r.source, r.service]), [['productpage->reviews', 'productpage', 'reviews']])
  const series = (await get('/metrics/series?by=service&key=reviews&range=5m')).body
  assert.equal(series.source, 'proxies')
  assert.ok(series.points.length >= 1 && series.points.every((p: any) => typeof p.t === 'number' && p.rps >= 0))
  const bad = await get('/metrics/golden?by=pods')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'MESH_ERR_API_BAD_REQUEST')
  assert.equal((await get('/metrics/series?by=service&key=reviews&range=2d')).body.code, 'MESH_ERR_API_BAD_REQUEST')
})

test('with a Prometheus configured, a row over time comes from PromQL (rate, success, histogram_quantile)', async t => {
  const prom = await startPrometheus({
    dir: join(dir, 'prom'),
    scrapeIntervalMs: 1000,
    targets: targets().map(x => ({ address: new URL(x.url).host, labels: { proxy: x.proxyId, role: x.role, service: x.service, version: x.version } }))
  })
  t.after(() => prom.stop())
  const server = await startManagementServer({ backend: new ControlPlaneBackend('http://127.0.0.1:9'), scrapeTargets: targets, scrapeIntervalMs: 60_000, dataDir: join(dir, 'b'), benchmarks: false, prometheusUrl: prom.url })
  t.after(() => server.close())
  for (const [by, key] of [['service', 'reviews'], ['workload', 'reviews-v1-0'], ['route', 'reviews/reviews-default'], ['source', 'productpage->reviews']]) {
    const s = await until(`${by} series from Prometheus`, async () => {
      const body = await fetch(`${server.url}/api/v1/metrics/series?by=${by}&key=${encodeURIComponent(key)}&range=5m`, { headers: { authorization: `Bearer ${server.token}` } }).then(r => r.json()) as any
      const last = body.points.at(-1)
      // rate() over a 10 s window is an underestimate until the series is older than the window
      const live = body.points.filter((p: any) => p.rps > 0).length
      return body.source === 'prometheus' && live >= 8 && last.p99Ms !== null ? { body, last } : null
    }, 30_000)
    assert.equal(s.body.step, 2)
    assert.ok(Math.abs(s.last.rps - RATE) < RATE * 0.3, `${by} rps ${s.last.rps}`)
    assert.ok(Math.abs(s.last.successRate - 0.9) < 0.05, `${by} success ${s.last.successRate}`)
    assert.ok(s.last.p50Ms > 0 && s.last.p50Ms <= 15 && s.last.p99Ms > 10 && s.last.p99Ms <= 50, `${by} p50 ${s.last.p50Ms} p99 ${s.last.p99Ms}`)
  }
})
