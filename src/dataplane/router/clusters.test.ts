import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkSnapshot } from '../../config/snapshot.ts'
import { buildClusters } from './clusters.ts'
import { snapshot } from './test-fixtures.ts'

test('builds one cluster per service with all its endpoints', () => {
  const c = buildClusters(snapshot()).get('reviews')!
  assert.equal(c.service, 'reviews')
  assert.equal(c.version, null)
  assert.equal(c.port, 9080)
  assert.deepEqual(c.endpoints.map(e => e.id), ['reviews-v1-0', 'reviews-v2-0', 'reviews-v3-0'])
})

test('builds one cluster per version subset named service-version', () => {
  const clusters = buildClusters(snapshot())
  const v2 = clusters.get('reviews-v2')!
  assert.deepEqual({ name: v2.name, service: v2.service, version: v2.version, port: v2.port }, { name: 'reviews-v2', service: 'reviews', version: 'v2', port: 9080 })
  assert.deepEqual(v2.endpoints.map(e => e.id), ['reviews-v2-0'])
  assert.deepEqual([...clusters.keys()].sort(), ['details', 'productpage', 'productpage-v1', 'ratings', 'ratings-v1', 'reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3'])
})

test('a service without versioned endpoints has no subsets', () => {
  const clusters = buildClusters(snapshot())
  assert.equal([...clusters.keys()].filter(k => k.startsWith('details')).length, 1)
})

test('a real service wins over a subset with the same name', () => {
  const snap = checkSnapshot({
    version: '1',
    node: { id: 't' },
    services: [
      { name: 'a', port: 1, endpoints: [{ id: 'a0', address: '127.0.0.1', port: 5, version: 'b' }] },
      { name: 'a-b', port: 2, endpoints: [{ id: 'ab0', address: '127.0.0.1', port: 6 }] }
    ]
  })
  const c = buildClusters(snap).get('a-b')!
  assert.equal(c.service, 'a-b')
  assert.equal(c.version, null)
  assert.deepEqual(c.endpoints.map(e => e.id), ['ab0'])
})

test('keeps unhealthy endpoints so balancers can see them come back', () => {
  const snap = checkSnapshot({ version: '1', node: { id: 't' }, services: [{ name: 's', port: 1, endpoints: [{ id: 'x', address: '127.0.0.1', port: 5, healthy: false }] }] })
  assert.equal(buildClusters(snap).get('s')!.endpoints[0].healthy, false)
})
