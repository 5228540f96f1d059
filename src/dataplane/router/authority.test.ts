import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AuthorityResolver } from './authority.ts'
import { buildClusters } from './clusters.ts'
import { snapshot } from './test-fixtures.ts'

const resolver = new AuthorityResolver(buildClusters(snapshot()), 'default')

const CASES: [string, string | null][] = [
  ['reviews', 'reviews'],
  ['reviews:9080', 'reviews'],
  ['reviews:80', 'reviews'],
  ['reviews-v2', 'reviews-v2'],
  ['reviews-v2:9080', 'reviews-v2'],
  ['reviews.default', 'reviews'],
  ['reviews.default:9080', 'reviews'],
  ['reviews.default.svc', 'reviews'],
  ['reviews.default.svc.cluster.local', 'reviews'],
  ['reviews.default.svc.cluster.local:9080', 'reviews'],
  ['reviews.default.svc.cluster.local.', 'reviews'],
  ['reviews-v2.default.svc.cluster.local', 'reviews-v2'],
  ['REVIEWS', 'reviews'],
  ['Reviews.Default.SVC.Cluster.Local:9080', 'reviews'],
  ['details:9081', 'details'],
  ['details:9080', null],
  ['reviews:1234', null],
  ['reviews:', null],
  ['reviews:90x', null],
  ['reviews.other', null],
  ['reviews.other.svc.cluster.local', null],
  ['reviews.default.svc.cluster.remote', null],
  ['reviews-v9', null],
  ['unknown', null],
  ['example.com', null],
  ['127.0.0.1:9080', null],
  ['[::1]:9080', null],
  ['[::1]', null],
  ['::1', null],
  ['', null]
]

test('resolves every accepted authority form and rejects the rest', () => {
  for (const [authority, want] of CASES) {
    assert.equal(resolver.resolve(authority)?.name ?? null, want, authority)
  }
})

test('answers the same from the cache as from parsing', () => {
  const fresh = new AuthorityResolver(buildClusters(snapshot()), 'default')
  for (const [authority, want] of CASES) {
    fresh.resolve(authority)
    assert.equal(fresh.resolve(authority)?.name ?? null, want, authority)
  }
})

test('returns the cluster with its service and version', () => {
  const c = resolver.resolve('reviews-v3.default.svc')!
  assert.equal(c.service, 'reviews')
  assert.equal(c.version, 'v3')
})

test('uses the node namespace for qualified names', () => {
  const r = new AuthorityResolver(buildClusters(snapshot()), 'shop')
  assert.equal(r.resolve('reviews.shop.svc.cluster.local')?.name, 'reviews')
  assert.equal(r.resolve('reviews.default'), null)
})

test('keeps answering correctly once the cache is full', () => {
  const r = new AuthorityResolver(buildClusters(snapshot()), 'default', 20)
  for (let i = 0; i < 100; i++) assert.equal(r.resolve(`host-${i}`), null)
  assert.equal(r.resolve('ratings.default.svc')?.name, 'ratings')
  assert.equal(r.resolve('reviews:9080')?.name, 'reviews')
})
