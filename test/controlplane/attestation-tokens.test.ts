// Join tokens (src/controlplane/auth/join-tokens.ts): single-use, expiring, bound to one workload instance.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { JoinTokenStore } from '../../src/controlplane/auth/join-tokens.ts'

const reviews = { id: 'reviews-v1-0', role: 'sidecar', namespace: 'default', service: 'reviews', version: 'v1' }

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return `${(err as { code: string }).code}/${(err as { reason: string }).reason}` }
  return 'accepted'
}

test('a join token is accepted once for its instance and refused when replayed, forged, expired or for another service', () => {
  let now = 1_000_000
  const store = new JoinTokenStore({ now: () => now })
  const { token } = store.issue({ role: 'sidecar', namespace: 'default', service: 'reviews', version: 'v1', instance: 'reviews-v1-0' }, 60_000)
  assert.equal(code(() => store.redeem(token, { ...reviews, service: 'productpage' })), 'MESH_ERR_ATTESTATION_MISMATCH/identity-mismatch')
  assert.equal(code(() => store.redeem(token, { ...reviews, id: 'reviews-v1-1' })), 'MESH_ERR_ATTESTATION_MISMATCH/identity-mismatch')
  assert.equal(code(() => store.redeem(token.slice(0, -2) + 'xx', reviews)), 'MESH_ERR_ATTESTATION_INVALID/forged')
  assert.equal(code(() => store.redeem('mwjt.nope.nope', reviews)), 'MESH_ERR_ATTESTATION_INVALID/forged')
  assert.equal(code(() => store.redeem(token, reviews)), 'accepted')
  assert.equal(code(() => store.redeem(token, reviews)), 'MESH_ERR_ATTESTATION_INVALID/replayed')
  const late = store.issue({ role: 'sidecar', namespace: 'default', service: 'reviews', instance: 'reviews-v1-0' }, 60_000)
  now += 60_001
  assert.equal(code(() => store.redeem(late.token, reviews)), 'MESH_ERR_ATTESTATION_INVALID/expired')
  assert.equal(store.outstanding, 0)
})
