import assert from 'node:assert/strict'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { msToNanoString, nowMs, type SpanData, SpanExporter } from './otlp-exporter.ts'
import { newSpanId, newTraceId } from './trace-context.ts'

/** A real OTLP-ish collector on loopback that records every POSTed JSON body. */
async function collector (t: { after: (fn: () => void) => void }, status = 200) {
  const bodies: any[] = []
  const waiters: Array<() => void> = []
  const server = http.createServer((req, res) => {
    let data = ''
    req.setEncoding('utf8')
    req.on('data', d => { data += d })
    req.on('end', () => {
      assert.equal(req.method, 'POST')
      assert.equal(req.url, '/v1/traces')
      assert.equal(req.headers['content-type'], 'application/json')
      bodies.push(JSON.parse(data))
      res.statusCode = status
      res.end('{}')
      for (const w of waiters.splice(0)) w()
    })
  })
  t.after(() => { server.closeAllConnections(); server.close() })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`
  const waitFor = async (n: number) => { while (bodies.length < n) await new Promise<void>(r => waiters.push(r)) }
  return { endpoint, bodies, waitFor, spans: () => bodies.flatMap(b => b.resourceSpans[0].scopeSpans[0].spans) }
}

function span (i: number, extra: Partial<SpanData> = {}): SpanData {
  const start = nowMs()
  return {
    traceId: newTraceId(), spanId: newSpanId(), name: `GET /r/${i}`, kind: 'server', startTimeMs: start, endTimeMs: start + 1.5,
    attributes: { 'http.request.method': 'GET', 'url.path': `/r/${i}`, 'http.response.status_code': 200, 'server.address': 'reviews', 'meshwork.route': 'default', 'meshwork.retry': false, 'meshwork.weight': 0.5 },
    ...extra
  }
}

test('spans are POSTed as OTLP/HTTP JSON within the flush interval', async (t) => {
  const c = await collector(t)
  const ex = new SpanExporter({ endpoint: c.endpoint, serviceName: 'reviews', resource: { 'service.version': 'v2' }, flushIntervalMs: 50 })
  t.after(() => ex.shutdown())
  const parent = newSpanId()
  ex.export(span(1, { parentSpanId: parent, kind: 'client', statusCode: 2, statusMessage: 'MESH_ERR_UPSTREAM_RESET' }))
  await c.waitFor(1)
  const body = c.bodies[0]
  const rs = body.resourceSpans[0]
  assert.deepEqual(rs.resource.attributes, [{ key: 'service.name', value: { stringValue: 'reviews' } }, { key: 'service.version', value: { stringValue: 'v2' } }])
  assert.equal(rs.scopeSpans[0].scope.name, 'meshwork')
  const s = rs.scopeSpans[0].spans[0]
  assert.match(s.traceId, /^[0-9a-f]{32}$/)
  assert.match(s.spanId, /^[0-9a-f]{16}$/)
  assert.equal(s.parentSpanId, parent)
  assert.equal(s.name, 'GET /r/1')
  assert.equal(s.kind, 3)
  assert.match(s.startTimeUnixNano, /^\d{19}$/)
  assert.equal(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano), 1_500_000n)
  assert.deepEqual(s.status, { code: 2, message: 'MESH_ERR_UPSTREAM_RESET' })
  const attrs = Object.fromEntries(s.attributes.map((a: any) => [a.key, a.value]))
  assert.deepEqual(attrs['http.request.method'], { stringValue: 'GET' })
  assert.deepEqual(attrs['http.response.status_code'], { intValue: '200' })
  assert.deepEqual(attrs['meshwork.retry'], { boolValue: false })
  assert.deepEqual(attrs['meshwork.weight'], { doubleValue: 0.5 })
  await ex.flush() // the collector saw the body; wait for the exporter to see the answer
  assert.equal(ex.exported, 1)
})

test('a full batch is sent without waiting for the interval, in POSTs of at most maxBatch spans', async (t) => {
  const c = await collector(t)
  const ex = new SpanExporter({ endpoint: c.endpoint, serviceName: 'reviews', maxBatch: 4, flushIntervalMs: 600_000 })
  t.after(() => ex.shutdown())
  for (let i = 0; i < 10; i++) ex.export(span(i))
  await c.waitFor(2)
  assert.ok(c.bodies.every(b => b.resourceSpans[0].scopeSpans[0].spans.length <= 4))
  await ex.shutdown()
  assert.equal(c.spans().length, 10)
  assert.deepEqual(c.spans().map((s: any) => s.name), Array.from({ length: 10 }, (_, i) => `GET /r/${i}`))
})

test('overflow drops and counts; shutdown flushes what is queued', async (t) => {
  const c = await collector(t)
  const ex = new SpanExporter({ endpoint: c.endpoint, serviceName: 'reviews', maxQueue: 5, maxBatch: 100, flushIntervalMs: 600_000 })
  for (let i = 0; i < 8; i++) ex.export(span(i))
  assert.equal(ex.dropped, 3)
  assert.equal(ex.queued, 5)
  await ex.shutdown()
  assert.equal(c.spans().length, 5)
  assert.equal(ex.exported, 5)
  ex.export(span(99))
  assert.equal(ex.dropped, 4, 'spans after shutdown are dropped')
})

test('a collector error counts the spans as failed and the exporter keeps going', async (t) => {
  const c = await collector(t, 500)
  const ex = new SpanExporter({ endpoint: c.endpoint, serviceName: 'reviews', flushIntervalMs: 600_000 })
  ex.export(span(1)); ex.export(span(2))
  await ex.shutdown()
  assert.equal(ex.failed, 2)
  assert.equal(ex.exported, 0)
  // unreachable collector: refused connection, also counted
  const dead = new SpanExporter({ endpoint: 'http://127.0.0.1:1/v1/traces', serviceName: 'x' })
  dead.export(span(3))
  await dead.shutdown()
  assert.equal(dead.failed, 1)
})

test('msToNanoString keeps sub-millisecond precision', () => {
  assert.equal(msToNanoString(1700000000123.5), '1700000000123500000')
  assert.equal(msToNanoString(1700000000123), '1700000000123000000')
  assert.equal(msToNanoString(0.25), '250000')
})
