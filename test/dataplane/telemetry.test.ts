import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { client, snapshot, startOrigin, startProxy, text, type Origin, type RunningProxy } from './helpers.ts'

let app: Origin
let collector: Server
let spans: { traceId: string, spanId: string, parentSpanId?: string, name: string, kind: number }[] = []
let p: RunningProxy
const dir = mkdtempSync(join(tmpdir(), 'meshwork-telemetry-'))
const logFile = join(dir, 'access.log')

before(async () => {
  app = await startOrigin('reviews')
  collector = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString())
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>(resolve => collector.listen(0, '127.0.0.1', resolve))
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
  p = await startProxy(null)
  const r = p.proxy.applySnapshot(snapshot('t1', { reviews: { endpoints: [{ id: 'reviews-v1-0', port: app.port, version: 'v1' }] } }, {
    mesh: { mtls: { mode: 'DISABLE' }, tracing: { enabled: true, sampling: 100, otlpEndpoint: otlp }, accessLog: { enabled: true, path: logFile } }
  }))
  assert.equal(r.ok, true)
})

after(async () => {
  await p.close()
  await app.close()
  await new Promise<void>(resolve => collector.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
})

test('admin /ready is 503 MESH_ERR_NOT_READY before the first snapshot', async () => {
  const fresh = await startProxy(null)
  try {
    const r = await text(fresh.admin, '/ready')
    assert.equal(r.status, 503)
    assert.equal(r.headers['x-meshwork-error'], 'MESH_ERR_NOT_READY')
    const c = client(fresh.outbound)
    const res = await c.request({ method: 'GET', path: '/', headers: { host: 'reviews' } })
    assert.equal(res.headers['x-meshwork-error'], 'MESH_ERR_NOT_READY')
    await res.body.text()
    await c.close()
  } finally {
    await fresh.close()
  }
})

test('continues the caller trace: traceparent forwarded with a new span id, span exported over OTLP', async () => {
  spans = []
  const traceId = '0af7651916cd43dd8448eb211c80319c'
  const parent = 'b7ad6b7169203331'
  const c = client(p.outbound)
  const r = await c.request({ method: 'GET', path: '/traced', headers: { host: 'reviews', traceparent: `00-${traceId}-${parent}-01`, tracestate: 'k=v' } })
  const seen = (await r.body.json() as { headers: Record<string, string> }).headers
  await c.close()
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen.traceparent)
  assert.ok(m, seen.traceparent)
  assert.equal(m[1], traceId)
  assert.notEqual(m[2], parent)
  assert.equal(seen.tracestate, 'k=v')
  const deadline = Date.now() + 5000
  while (spans.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  const span = spans.find(s => s.traceId === traceId)
  assert.ok(span, 'span exported')
  assert.equal(span.spanId, m[2])
  assert.equal(span.parentSpanId, parent)
})

test('B3 on input is accepted and turned into traceparent', async () => {
  const c = client(p.outbound)
  const r = await c.request({ method: 'GET', path: '/b3', headers: { host: 'reviews', b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' } })
  const seen = (await r.body.json() as { headers: Record<string, string> }).headers
  await c.close()
  assert.match(seen.traceparent, /^00-80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-01$/)
  assert.equal(seen.b3, undefined)
})

test('golden metrics and the JSON access log record each request', async () => {
  await text(p.outbound, '/') // no Host: 404 from the proxy, counted with its error code
  const c = client(p.outbound)
  const r = await c.request({ method: 'GET', path: '/logged', headers: { host: 'reviews' } })
  await r.body.text()
  await c.close()
  const metrics = (await text(p.admin, '/metrics')).body
  assert.match(metrics, /meshwork_requests_total\{direction="outbound",source="client",destination="reviews",destination_version="v1",route="default",code="200",class="2xx",grpc_status=""\} \d+/)
  assert.match(metrics, /meshwork_request_duration_seconds_bucket\{direction="outbound",source="client",destination="reviews"/)
  assert.match(metrics, /meshwork_errors_total\{direction="outbound",destination="unknown",code="MESH_ERR_NO_ROUTE"\} 1/)
  const deadline = Date.now() + 5000
  let lines: { path: string, status: number, direction: string }[] = []
  while (Date.now() < deadline) {
    try { lines = readFileSync(logFile, 'utf8').trim().split('\n').map(l => JSON.parse(l)) } catch {}
    if (lines.some(l => l.path === '/logged')) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const line = lines.find(l => l.path === '/logged')
  assert.ok(line)
  assert.equal(line.status, 200)
  assert.equal(line.direction, 'outbound')
})

test('/tap streams finished requests as NDJSON, filtered by service', async () => {
  const events: { destination: string, path: string }[] = []
  const done = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p.admin, path: '/tap?service=reviews&limit=2' }, res => {
      assert.equal(res.headers['content-type'], 'application/x-ndjson')
      let buf = ''
      res.on('data', d => { buf += d })
      res.on('end', () => { for (const l of buf.trim().split('\n')) events.push(JSON.parse(l)); resolve() })
    })
    req.on('error', reject)
    req.end()
  })
  await new Promise(resolve => setTimeout(resolve, 100))
  const c = client(p.outbound)
  for (const path of ['/tap1', '/tap2']) {
    const r = await c.request({ method: 'GET', path, headers: { host: 'reviews' } })
    await r.body.text()
  }
  await c.close()
  await done
  assert.deepEqual(events.map(e => [e.destination, e.path]), [['reviews', '/tap1'], ['reviews', '/tap2']])
})
