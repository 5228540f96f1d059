import assert from 'node:assert/strict'
import { test } from 'node:test'
import { block, blockOf, freeBlock, PodAddresses, ServiceVips } from './address-plan.ts'

test('a run block is a /20 of 198.18.0.0/16 with the host on .1', () => {
  assert.deepEqual(block(1), { index: 1, cidr: '198.18.16.0/20', prefixLength: 20, hostAddress: '198.18.16.1' })
  assert.equal(blockOf('198.18.17.9'), 1)
  assert.equal(blockOf('198.18.255.1'), 15)
  assert.equal(blockOf('198.19.0.1'), -1)
  assert.throws(() => block(16), RangeError)
})

test('freeBlock skips blocks in use and fails with MESH_ERR_NETNS when all 16 are taken', () => {
  assert.equal(freeBlock([]), 0)
  assert.equal(freeBlock([0, 1, 3]), 2)
  assert.throws(() => freeBlock(Array.from({ length: 16 }, (_, i) => i)), (e: { code?: string }) => e.code === 'MESH_ERR_NETNS')
})

test('pod addresses are per node, never the host address, and a released one is not handed out again at once', () => {
  const pods = new PodAddresses(block(2), 2)
  assert.equal(pods.take(0), '198.18.33.2')
  assert.equal(pods.take(0), '198.18.33.3')
  assert.equal(pods.take(1), '198.18.34.2')
  pods.release(0, '198.18.33.2')
  assert.equal(pods.take(0), '198.18.33.4')
  for (let i = 0; i < 250; i++) pods.take(0)
  assert.equal(pods.take(0), '198.18.33.2', 'reused once the others are gone')
  assert.throws(() => pods.take(0), (e: { code?: string }) => e.code === 'MESH_ERR_NETNS')
})

test('service addresses are stable per name, in 198.19.0.0/16, skipping .0 and .255', () => {
  const v = new ServiceVips()
  assert.equal(v.vip('default/reviews'), '198.19.0.1')
  assert.equal(v.vip('default/ratings'), '198.19.0.2')
  assert.equal(v.vip('default/reviews'), '198.19.0.1')
  for (let i = 0; i < 252; i++) v.vip(`default/s${i}`)
  assert.equal(v.vip('default/next'), '198.19.1.1')
})
