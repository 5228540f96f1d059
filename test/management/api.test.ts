import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { type ManagementServer, startManagementServer } from '../../src/management/server.ts'

const MESH = join(import.meta.dirname, '..', '..', 'samples', 'bookinfo', 'mesh.yaml')
let dir: string
let cp: Awaited<ReturnType<typeof startControlPlane>>
let server: ManagementServer

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mw-mgmt-'))
  cp = await startControlPlane({ files: [MESH], host: '127.0.0.1', port: 0, dataDir: join(dir, 'cp') })
  server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url), scrapeTargets: () => [], scrapeIntervalMs: 60_000, uiDir: join(dir, 'no-ui') })
})
after(async () => {
  await server?.close()
  await cp?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function call (path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const auth = { authorization: `Bearer ${server.token}` }
  const res = await fetch(`${server.url}${path}`, body === undefined ? { headers: auth } : { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

const SPLIT = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews-split }
spec:
  parentRefs: [{ kind: Service, name: reviews }]
  rules:
    - backendRefs: [{ name: reviews-v3, weight: 100 }]
`

test('reports the control plane as connected and serves the running config as YAML', async () => {
  const s = await call('/api/v1/status')
  assert.equal(s.status, 200)
  assert.equal(s.json.controlPlane.connected, true)
  const c = await call('/api/v1/config')
  assert.equal(c.status, 200)
  assert.match(c.json.yaml, /kind: Workload/)
  assert.ok(c.json.resources.some((r: any) => r.kind === 'Workload' && r.spec.service === 'reviews'))
})

test('validate names line, path and reason with the same schema as the CLI', async () => {
  const bad = SPLIT.replace('weight: 100', 'weight: -5')
  const r = await call('/api/v1/config/validate', { yaml: bad })
  assert.equal(r.json.ok, false)
  assert.equal(r.json.code, 'MESH_ERR_CONFIG_INVALID')
  assert.equal(r.json.problems[0].path, 'spec.rules[0].backendRefs[0].weight')
  assert.equal(r.json.problems[0].line, 7)
})

test('diff shows what apply would change, then apply pushes it to the control plane', async () => {
  const d = await call('/api/v1/config/diff', { yaml: SPLIT })
  assert.equal(d.status, 200)
  assert.deepEqual(d.json.changes.map((c: any) => [c.key, c.change]), [['HTTPRoute/default/reviews-split', 'added']])
  assert.ok(d.json.changes[0].diff.some((l: any) => l.op === '+' && l.line.includes('reviews-v3')))
  const a = await call('/api/v1/config/apply', { yaml: SPLIT })
  assert.equal(a.status, 200, JSON.stringify(a.json))
  assert.equal(a.json.ok, true)
  const c = await call('/api/v1/config')
  assert.ok(c.json.resources.some((r: any) => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews-split'))
})

test('a config the control plane rejects returns its code and reason, and the running config stays', async () => {
  const before = (await call('/api/v1/config')).json.yaml
  const unknownBackend = SPLIT.replace('reviews-split', 'reviews-bad').replace('reviews-v3', 'nonexistent-v9')
  const a = await call('/api/v1/config/apply', { yaml: unknownBackend })
  assert.notEqual(a.status, 200)
  assert.equal(a.json.ok, false)
  assert.match(a.json.code, /^MESH_ERR_CONFIG_/)
  assert.equal((await call('/api/v1/config')).json.yaml, before)
})

test('rejects API bodies that do not match the schema with a stable code', async () => {
  for (const body of [{}, { yaml: 42 }, { yaml: 'x', extra: true }]) {
    const r = await call('/api/v1/config/validate', body)
    assert.equal(r.status, 400)
    assert.equal(r.json.code, 'MESH_ERR_API_BAD_REQUEST')
  }
  const nf = await call('/api/v1/nope')
  assert.equal(nf.status, 404)
  assert.equal(nf.json.code, 'MESH_ERR_API_NOT_FOUND')
})

test('stores OTLP spans and lists them as traces', async () => {
  const span = (spanId: string, parent: string | undefined, name: string, start: number, end: number) => ({
    traceId: 'a'.repeat(32), spanId, parentSpanId: parent, name, kind: 2,
    startTimeUnixNano: String(BigInt(start) * 1_000_000n), endTimeUnixNano: String(BigInt(end) * 1_000_000n),
    attributes: [{ key: 'http.response.status_code', value: { intValue: 200 } }]
  })
  const body = {
    resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'productpage' } }] }, scopeSpans: [{ spans: [span('1'.repeat(16), undefined, 'GET /productpage', 1000, 1030)] }] },
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'reviews' } }] }, scopeSpans: [{ spans: [span('2'.repeat(16), '1'.repeat(16), 'GET /reviews/0', 1005, 1020)] }] }
    ]
  }
  const r = await call('/v1/traces', body)
  assert.equal(r.status, 200)
  const list = await call('/api/v1/traces')
  assert.equal(list.json.traces[0].traceId, 'a'.repeat(32))
  assert.deepEqual(list.json.traces[0].services.sort(), ['productpage', 'reviews'])
  assert.equal(list.json.traces[0].durationMs, 30)
  const one = await call(`/api/v1/traces/${'a'.repeat(32)}`)
  assert.equal(one.json.spans.length, 2)
})

test('keeps answering with the control plane down and reports it unreachable', async () => {
  const down = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend('http://127.0.0.1:9', { timeoutMs: 500 }), scrapeTargets: () => [], scrapeIntervalMs: 60_000 })
  try {
    const s = await fetch(`${down.url}/api/v1/status`, { headers: { authorization: `Bearer ${down.token}` } }).then(r => r.json()) as any
    assert.equal(s.controlPlane.connected, false)
    const a = await fetch(`${down.url}/api/v1/config/apply`, { method: 'POST', headers: { authorization: `Bearer ${down.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ yaml: SPLIT }) })
    assert.equal(a.status, 503)
    assert.equal((await a.json() as any).code, 'MESH_ERR_CONTROL_PLANE_UNAVAILABLE')
  } finally {
    await down.close()
  }
})

test('learn: the running config as Istio, Linkerd and Consul, with what each cannot express', async () => {
  const r = await call('/api/v1/translate')
  assert.equal(r.status, 200)
  assert.deepEqual(r.json.translations.map((t: any) => t.target), ['istio', 'linkerd', 'consul'])
  const istio = r.json.translations[0]
  assert.ok(istio.resources.some((o: any) => o.kind === 'VirtualService'), istio.yaml)
  assert.ok(Array.isArray(r.json.translations[1].unsupported))
  const one = await call('/api/v1/translate?to=consul')
  assert.deepEqual(one.json.translations.map((t: any) => t.target), ['consul'])
  const bad = await call('/api/v1/translate?to=kuma')
  assert.equal(bad.status, 400)
  assert.equal(bad.json.code, 'MESH_ERR_API_BAD_REQUEST')
})

test('benchmarks: scenarios listed, bad bodies refused with a stable code, a run completes with a result view and SMP export', async () => {
  const sc = await call('/api/v1/benchmarks/scenarios')
  assert.ok(sc.json.scenarios.some((s: any) => s.id === 'no-mesh'))
  for (const body of [{}, { scenarios: ['warp-drive'] }, { scenarios: ['no-mesh'], rate: -1 }, { scenarios: ['no-mesh'], durationMs: 10 }]) {
    const r = await call('/api/v1/benchmarks', body)
    assert.equal(r.status, 400, JSON.stringify(body))
    assert.equal(r.json.code, 'MESH_ERR_API_BAD_REQUEST')
  }
  const started = await call('/api/v1/benchmarks', { scenarios: ['no-mesh'], rate: 100, durationMs: 1000, connections: 2, repeats: 1 })
  assert.equal(started.status, 202, JSON.stringify(started.json))
  const id = started.json.id
  const busy = await call('/api/v1/benchmarks', { scenarios: ['no-mesh'], rate: 100, durationMs: 1000, connections: 2, repeats: 1 })
  assert.equal(busy.status, 409)
  assert.equal(busy.json.code, 'MESH_ERR_BENCH_BUSY')
  let run: any
  for (let i = 0; i < 480; i++) {
    run = (await call(`/api/v1/benchmarks/${id}`)).json
    if (run.status !== 'running') break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  assert.equal(run.status, 'done', JSON.stringify(run).slice(0, 500))
  assert.equal(run.results.length, 1)
  const r = run.results[0]
  assert.equal(r.scenario, 'no-mesh')
  assert.ok(r.rps > 10 && r.rps < 150, `rps ${r.rps}`)
  assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms)
  assert.equal(r.percentiles.length, 13)
  assert.ok(r.histogram.reduce((a: number, b: any) => a + b.count, 0) > 10)
  const smp = await fetch(`${server.url}/api/v1/benchmarks/${id}/export`, { headers: { authorization: `Bearer ${server.token}` } }).then(x => x.json()) as any[]
  assert.equal(smp.length, 1)
  assert.equal(typeof smp[0].actual_qps, 'number')
  assert.ok(smp[0].config && smp[0].env && smp[0].mesh_config)
  const list = await call('/api/v1/benchmarks')
  assert.ok(list.json.runs.some((x: any) => x.id === id))
})

test('apply with prune deletes what the editor removed (e.g. a fault), checked by the control plane', async () => {
  const fault = `apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: ratings-fault }
spec:
  targetRef: { name: ratings }
  abort: { httpStatus: 503, percentage: 50 }
`
  assert.equal((await call('/api/v1/config/apply', { yaml: fault })).status, 200)
  const withFault = (await call('/api/v1/config')).json.yaml as string
  assert.match(withFault, /ratings-fault/)
  const without = withFault.split('---\n').filter(doc => !doc.includes('kind: FaultInjection')).join('---\n')
  const d = await call('/api/v1/config/diff', { yaml: without, prune: true })
  assert.deepEqual(d.json.changes.map((c: any) => [c.key, c.change]), [['FaultInjection/default/ratings-fault', 'removed']])
  const a = await call('/api/v1/config/apply', { yaml: without, prune: true })
  assert.equal(a.status, 200, JSON.stringify(a.json))
  assert.doesNotMatch((await call('/api/v1/config')).json.yaml, /ratings-fault/)
})

test('benchmarks: results POSTed by an in-cluster Job (SMP or fortio JSON) are imported as a run', async () => {
  const runs = (await call('/api/v1/benchmarks')).json.runs
  const done = runs.find((r: any) => r.status === 'done')
  assert.ok(done, 'needs the earlier benchmark run')
  const smp = await fetch(`${server.url}/api/v1/benchmarks/${done.id}/export`, { headers: { authorization: `Bearer ${server.token}` } }).then(x => x.json()) as any[]
  const imp = await call('/api/v1/benchmarks/import', smp[0])
  assert.equal(imp.status, 201, JSON.stringify(imp.json))
  const view = (await call(`/api/v1/benchmarks/${imp.json.id}`)).json
  assert.equal(view.results.length, 1)
  const fortio = { RequestedQPS: '100', ActualQPS: 99.5, ActualDuration: 1e9, NumThreads: 2, RunType: 'HTTP', StartTime: '2026-11-25T10:00:00Z', URL: 'http://127.0.0.1/', RetCodes: { 200: 100 },
    DurationHistogram: { Count: 100, Min: 0.001, Max: 0.01, Sum: 0.3, Avg: 0.003, StdDev: 0.001, Data: [{ Start: 0.001, End: 0.002, Percent: 50, Count: 50 }, { Start: 0.002, End: 0.01, Percent: 100, Count: 50 }], Percentiles: [{ Percentile: 50, Value: 0.002 }, { Percentile: 90, Value: 0.008 }, { Percentile: 99, Value: 0.0099 }] } }
  const f = await call('/api/v1/benchmarks/import', fortio)
  assert.equal(f.status, 201, JSON.stringify(f.json))
  const bad = await call('/api/v1/benchmarks/import', { hello: 'world' })
  assert.equal(bad.status, 400)
  assert.equal(bad.json.code, 'MESH_ERR_API_BAD_REQUEST')
})
