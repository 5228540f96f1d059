import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileFault } from './fault.ts'

const always = (): number => 0
const never = (): number => 0.999999

test('delays and aborts every request at 100 percent', () => {
  const f = compileFault({ delay: { fixedDelay: '1s500ms', percentage: 100 }, abort: { httpStatus: 503, percentage: 100 } })
  const d = f.decide(never)
  assert.equal(d.delayMs, 1500)
  assert.equal(d.abortStatus, 503)
})

test('injects nothing when the draw is above the percentage', () => {
  const f = compileFault({ delay: { fixedDelay: '2s', percentage: 30 }, abort: { httpStatus: 500, percentage: 30 } })
  const d = f.decide(() => 0.3)
  assert.equal(d.delayMs, 0)
  assert.equal(d.abortStatus, null)
  assert.equal(f.decide(() => 0.2999).abortStatus, 500)
})

test('draws delay and abort independently', () => {
  const f = compileFault({ delay: { fixedDelay: '100ms', percentage: 50 }, abort: { httpStatus: 418, percentage: 50 } })
  const draws = [0.1, 0.9]
  let i = 0
  const d = f.decide(() => draws[i++])
  assert.deepEqual({ ...d }, { delayMs: 100, abortStatus: null, abortGrpcStatus: null })
  i = 0
  draws.reverse()
  assert.deepEqual({ ...f.decide(() => draws[i++]) }, { delayMs: 0, abortStatus: 418, abortGrpcStatus: null })
})

test('an abort with grpcStatus (Istio names) carries the gRPC code; httpStatus stays for other requests', () => {
  const f = compileFault({ abort: { httpStatus: 503, grpcStatus: 'RESOURCE_EXHAUSTED', percentage: 100 } })
  const d = f.decide(always)
  assert.equal(d.abortStatus, 503)
  assert.equal(d.abortGrpcStatus, 8)
  assert.equal(compileFault({ abort: { httpStatus: 503, percentage: 100 } }).decide(always).abortGrpcStatus, null)
})

test('a 0 percent fault never fires and a delay-only fault never aborts', () => {
  const off = compileFault({ abort: { httpStatus: 503, percentage: 0 } })
  assert.equal(off.decide(always).abortStatus, null)
  const delayOnly = compileFault({ delay: { fixedDelay: '5ms', percentage: 100 } })
  const d = delayOnly.decide(always)
  assert.equal(d.delayMs, 5)
  assert.equal(d.abortStatus, null)
})

test('honours the percentage over many random draws', () => {
  const f = compileFault({ abort: { httpStatus: 503, percentage: 25 } })
  let aborted = 0
  for (let i = 0; i < 20_000; i++) if (f.decide().abortStatus !== null) aborted++
  assert.ok(aborted > 4000 && aborted < 6000, `${aborted} of 20000`)
})

test('decide returns shared frozen decisions (no allocation per request)', () => {
  const f = compileFault({ delay: { fixedDelay: '1s', percentage: 100 } })
  assert.equal(f.decide(), f.decide())
  assert.ok(Object.isFrozen(f.decide()))
})
