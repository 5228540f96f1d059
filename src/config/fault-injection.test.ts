import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateResource } from './load.ts'

const fault = (abort: unknown) => ({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'FaultInjection', metadata: { name: 'f' }, spec: { targetRef: { name: 'echo' }, abort } })

test('FaultInjection abort.grpcStatus takes Istio\'s gRPC status names; anything else is refused at the edge with its path', () => {
  const ok = validateResource(fault({ grpcStatus: 'UNAVAILABLE', percentage: 50 }))
  assert.equal(ok.ok, true)
  if (ok.ok) assert.deepEqual((ok.resource.spec as { abort: unknown }).abort, { httpStatus: 503, grpcStatus: 'UNAVAILABLE', percentage: 50 })
  for (const bad of ['unavailable', 'OK', '14', 'NOPE']) {
    const r = validateResource(fault({ grpcStatus: bad }))
    assert.equal(r.ok, false, bad)
    if (!r.ok) assert.equal(r.problems[0].path, 'spec.abort.grpcStatus')
  }
})
