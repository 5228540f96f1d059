import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSampler, samplerFor, extractTraceContext, formatTraceparent, newSpanId, newTraceId, parseB3Multi, parseB3Single, parseTraceparent, startSpan } from './trace-context.ts'

const TID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SID = '00f067aa0ba902b7'
const TP = `00-${TID}-${SID}-01`

test('parseTraceparent accepts a valid version-00 header and reads the sampled flag', () => {
  assert.deepEqual(parseTraceparent(TP), { traceId: TID, parentSpanId: SID, sampled: true })
  assert.equal(parseTraceparent(`00-${TID}-${SID}-00`)?.sampled, false)
  assert.equal(parseTraceparent(`00-${TID}-${SID}-03`)?.sampled, true, 'other flag bits are ignored')
})

test('parseTraceparent rejects invalid headers per the spec', () => {
  const bad = [
    `00-${TID.toUpperCase()}-${SID}-01`, // upper-case hex
    `00-${'0'.repeat(32)}-${SID}-01`, // all-zero trace id
    `00-${TID}-${'0'.repeat(16)}-01`, // all-zero parent id
    `ff-${TID}-${SID}-01`, // version ff
    `00-${TID}-${SID}-01-extra`, // version 00 must be exactly 55 chars
    `00-${TID.slice(1)}-${SID}-01`, // short trace id
    `00-${TID}-${SID}-0g`, // non-hex flags
    `0-${TID}-${SID}-01`,
    ''
  ]
  for (const b of bad) assert.equal(parseTraceparent(b), null, b)
})

test('a future version is read by its first fields', () => {
  assert.deepEqual(parseTraceparent(`01-${TID}-${SID}-01-whatever`), { traceId: TID, parentSpanId: SID, sampled: true })
  assert.equal(parseTraceparent(`01-${TID}-${SID}-01x`), null)
})

test('formatTraceparent round-trips', () => {
  assert.equal(formatTraceparent(TID, SID, true), TP)
  assert.deepEqual(parseTraceparent(formatTraceparent(TID, SID, false)), { traceId: TID, parentSpanId: SID, sampled: false })
})

test('B3 single and multi headers are accepted; 64-bit ids are padded', () => {
  assert.deepEqual(parseB3Single(`${TID}-${SID}-1`), { traceId: TID, parentSpanId: SID, sampled: true })
  assert.deepEqual(parseB3Single(`a3ce929d0e0e4736-${SID}`), { traceId: '0000000000000000a3ce929d0e0e4736', parentSpanId: SID, sampled: undefined })
  assert.equal(parseB3Single(`${TID}-${SID}-d`)?.sampled, true)
  assert.equal(parseB3Single(`${TID}-${SID}-0-05e3ac9a4f6e3b90`)?.sampled, false)
  assert.equal(parseB3Single('1'), null)
  assert.equal(parseB3Single(`${TID}-${SID}-x`), null)
  assert.deepEqual(parseB3Multi(TID, SID, '1'), { traceId: TID, parentSpanId: SID, sampled: true })
  assert.equal(parseB3Multi(TID, SID, undefined, '1')?.sampled, true)
  assert.equal(parseB3Multi(TID, SID, 'false')?.sampled, false)
  assert.equal(parseB3Multi(TID, undefined, '1'), null)
})

test('extractTraceContext: traceparent wins, tracestate is joined and passed through, B3 as fallback', () => {
  const tc = extractTraceContext(['host', 'x', 'b3', `${'1'.repeat(32)}-${SID}-0`, 'traceparent', TP, 'tracestate', 'a=1', 'tracestate', 'b=2'])
  assert.deepEqual(tc, { traceId: TID, parentSpanId: SID, sampled: true, tracestate: 'a=1,b=2' })
  const b3 = extractTraceContext(['traceparent', 'garbage', 'b3', `${TID}-${SID}-0`, 'tracestate', 'a=1'])
  assert.deepEqual(b3, { traceId: TID, parentSpanId: SID, sampled: false, tracestate: '' })
  const multi = extractTraceContext(['x-b3-traceid', TID, 'x-b3-spanid', SID, 'x-b3-sampled', '1'])
  assert.equal(multi?.traceId, TID)
  assert.equal(extractTraceContext(['host', 'reviews']), null)
})

test('new ids are lower-case hex of the right length and do not repeat', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 2000; i++) {
    const t = newTraceId()
    const s = newSpanId()
    assert.match(t, /^[0-9a-f]{32}$/)
    assert.match(s, /^[0-9a-f]{16}$/)
    assert.ok(!seen.has(t)); seen.add(t)
  }
})

test('sampler honours the incoming decision and applies the percentage to new traces', () => {
  const never = createSampler(0)
  const always = createSampler(100)
  assert.equal(never(undefined), false)
  assert.equal(never(true), true)
  assert.equal(always(undefined), true)
  assert.equal(always(false), false)
  const half = createSampler(50)
  let n = 0
  for (let i = 0; i < 4000; i++) if (half(undefined)) n++
  assert.ok(n > 1600 && n < 2400, `sampled ${n} of 4000`)
})

test('startSpan continues a trace with a new span id, or starts a root span', () => {
  const incoming = extractTraceContext(['traceparent', TP, 'tracestate', 'k=v'])
  const s = startSpan(incoming, createSampler(0))
  assert.equal(s.traceId, TID)
  assert.equal(s.parentSpanId, SID)
  assert.notEqual(s.spanId, SID)
  assert.equal(s.sampled, true, 'caller sampled it')
  assert.equal(s.tracestate, 'k=v')
  const root = startSpan(null, createSampler(100))
  assert.equal(root.parentSpanId, undefined)
  assert.equal(root.sampled, true)
  assert.match(formatTraceparent(root.traceId, root.spanId, root.sampled), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
})

test('samplerFor follows MeshConfig tracing (disabled = 0% of new traces)', () => {
  assert.equal(samplerFor({ enabled: false, sampling: 100 })(undefined), false)
  assert.equal(samplerFor({ enabled: false, sampling: 100 })(true), true)
  assert.equal(samplerFor({ enabled: true, sampling: 100 })(undefined), true)
})
