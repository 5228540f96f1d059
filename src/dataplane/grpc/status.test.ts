import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CircuitOpenError, DeadlineExceededError, ForbiddenError, MeshError, NoHealthyUpstreamError, NoRouteError, RateLimitedError } from '../../errors.ts'
import {
  encodeGrpcMessage, GRPC_DEADLINE_EXCEEDED, GRPC_PERMISSION_DENIED, GRPC_RESOURCE_EXHAUSTED, GRPC_STATUS_NAMES,
  GRPC_UNAVAILABLE, GRPC_UNIMPLEMENTED, GRPC_UNKNOWN, grpcErrorHeaders, grpcStatusForError, isGrpcContentType
} from './status.ts'

test('classifies gRPC by content-type: application/grpc, +proto, ;params, any case; not grpc-web or others', () => {
  for (const v of ['application/grpc', 'application/grpc+proto', 'Application/GRPC+json', 'application/grpc; charset=utf-8']) assert.equal(isGrpcContentType(v), true, v)
  for (const v of [undefined, '', 'application/grpc-web', 'application/grpcx', 'application/json', 'text/plain']) assert.equal(isGrpcContentType(v), false, String(v))
})

test('maps the errors the proxy makes to the gRPC statuses a client can act on', () => {
  assert.equal(grpcStatusForError(new NoHealthyUpstreamError('x')), GRPC_UNAVAILABLE)
  assert.equal(grpcStatusForError(new DeadlineExceededError('x')), GRPC_DEADLINE_EXCEEDED)
  assert.equal(grpcStatusForError(new ForbiddenError('x')), GRPC_PERMISSION_DENIED)
  assert.equal(grpcStatusForError(new CircuitOpenError('x')), GRPC_RESOURCE_EXHAUSTED)
  assert.equal(grpcStatusForError(new RateLimitedError('x')), GRPC_RESOURCE_EXHAUSTED)
  assert.equal(grpcStatusForError(new NoRouteError('x')), GRPC_UNIMPLEMENTED)
  assert.equal(grpcStatusForError(new MeshError('x')), GRPC_UNKNOWN)
  assert.equal(GRPC_STATUS_NAMES[GRPC_UNAVAILABLE], 'unavailable')
})

test('percent-encodes grpc-message outside printable ASCII and the percent sign', () => {
  assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok')
  assert.equal(encodeGrpcMessage('100% ä\n'), '100%25 %C3%A4%0A')
})

test('a trailers-only error carries grpc-status, the MESH_ERR code in grpc-message and x-meshwork-error', () => {
  const h = grpcErrorHeaders(new NoHealthyUpstreamError('reviews has no available endpoint'))
  assert.deepEqual(h, [
    'content-type', 'application/grpc', 'grpc-status', '14',
    'grpc-message', 'MESH_ERR_NO_HEALTHY_UPSTREAM: reviews has no available endpoint', 'x-meshwork-error', 'MESH_ERR_NO_HEALTHY_UPSTREAM'
  ])
})
