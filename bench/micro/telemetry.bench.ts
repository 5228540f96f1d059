// Micro-benchmarks of the per-request telemetry functions.
// Run: node --import tsx bench/micro/telemetry.bench.ts
import { bench, do_not_optimize, run, summary } from 'mitata'
import { AccessLog } from '../../src/dataplane/telemetry/access-log.ts'
import { createGoldenMetrics } from '../../src/dataplane/telemetry/golden.ts'
import { Registry } from '../../src/dataplane/telemetry/metrics.ts'
import { TapHub } from '../../src/dataplane/telemetry/tap.ts'
import { createSampler, extractTraceContext, formatTraceparent, newSpanId, newTraceId, startSpan } from '../../src/dataplane/telemetry/trace-context.ts'

const registry = new Registry()
const golden = createGoldenMetrics(registry)
const route = golden.forRoute('outbound', 'productpage', 'reviews', 'v2', 'reviews-route')
for (let i = 0; i < 50; i++) golden.forRoute('inbound', `spiffe://cluster.local/ns/default/sa/s${i}`, 'reviews', 'v1', 'default').record(200, 0.003, 0, 100)
const headers = ['host', 'reviews:9080', 'user-agent', 'curl/8', 'accept', '*/*', 'traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'tracestate', 'congo=t61rcWkgMzE']
const noTrace = ['host', 'reviews:9080', 'user-agent', 'curl/8', 'accept', '*/*']
const sampler = createSampler(100)
const tap = new TapHub()
const log = new AccessLog({ stream: new (await import('node:stream')).Writable({ write (_c, _e, cb) { cb() } }) })
const entry = { method: 'GET', authority: 'reviews:9080', path: '/reviews/1', status: 200, duration_ms: 3.2, bytes_out: 1830, upstream: '127.0.0.1:9081', source: 'spiffe://cluster.local/ns/default/sa/productpage', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }

summary(() => {
  bench('golden: route.record (cached handles)', () => route.record(200, 0.0042, 0, 1830))
  bench('golden: forRoute lookup + record', () => golden.forRoute('outbound', 'productpage', 'reviews', 'v2', 'reviews-route').record(200, 0.0042, 0, 1830))
})
bench('metrics: render 50 routes + histogram', () => do_not_optimize(registry.render()))
summary(() => {
  bench('trace: extract traceparent from 5 headers', () => do_not_optimize(extractTraceContext(headers)))
  bench('trace: extract, no trace headers', () => do_not_optimize(extractTraceContext(noTrace)))
  bench('trace: startSpan + format traceparent', () => { const s = startSpan(extractTraceContext(headers), sampler); do_not_optimize(formatTraceparent(s.traceId, s.spanId, s.sampled)) })
})
summary(() => {
  bench('ids: newTraceId', () => do_not_optimize(newTraceId()))
  bench('ids: newSpanId', () => do_not_optimize(newSpanId()))
})
bench('tap: hasSubscribers check (no subscriber)', () => { if (tap.hasSubscribers) tap.publish({ time: 0, direction: 'inbound', destination: 'x', method: 'GET', authority: 'x', path: '/', status: 200, duration_ms: 1 }) })
bench('access log: format one line', () => do_not_optimize(log.format(entry)))
await run()
