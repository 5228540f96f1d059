import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FaultAbortError } from '../../errors.ts'
import { takeCallerBudget } from './deadline.ts'
import { grpcStatusForError, parseGrpcStatus } from './status.ts'

test('meshwork-timeout and grpc-timeout are one deadline: the smaller wins, both are taken off the headers', () => {
  const h = ['host', 'echo', 'grpc-timeout', '2S', 'meshwork-timeout', '500m', 'x', 'y']
  assert.equal(takeCallerBudget(h, true), 500)
  assert.deepEqual(h, ['host', 'echo', 'x', 'y'])
  assert.equal(takeCallerBudget(['grpc-timeout', '250000u'], true), 250)
  assert.equal(takeCallerBudget(['grpc-timeout', '0n'], true), 0)
})

test('grpc-timeout is read only for gRPC requests; malformed values are ignored', () => {
  const h = ['grpc-timeout', '1S']
  assert.equal(takeCallerBudget(h, false), null)
  assert.deepEqual(h, ['grpc-timeout', '1S'], 'left as it is for a non-gRPC request')
  assert.equal(takeCallerBudget(['grpc-timeout', 'soon', 'meshwork-timeout', '3S'], true), 3000)
  assert.equal(takeCallerBudget(['host', 'a'], true), null)
})

test('grpc-status values parse as numbers, anything else is -1; a fault abort names its own gRPC status', () => {
  assert.equal(parseGrpcStatus('0'), 0)
  assert.equal(parseGrpcStatus('14'), 14)
  for (const v of [undefined, '', 'x', '-1', '1234']) assert.equal(parseGrpcStatus(v), -1, String(v))
  assert.equal(grpcStatusForError(new FaultAbortError('x', 503, 8)), 8)
  assert.equal(grpcStatusForError(new FaultAbortError('x', 503)), 14)
})
