import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AuthorizationPolicy } from '../../config/authorization-policy.ts'
import { compileAuthorization } from './authorizer.ts'

const PP = 'spiffe://cluster.local/ns/default/sa/productpage'
const RATINGS = 'spiffe://cluster.local/ns/default/sa/ratings'
const EVIL = 'spiffe://other.domain/ns/x/sa/evil'

function pol (name: string, spec: Record<string, unknown>, target = 'reviews'): AuthorizationPolicy {
  return AuthorizationPolicy.parse({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name }, spec: { targetRef: { name: target }, ...spec } })
}
const req = (identity: string | undefined, path = '/', method = 'GET') => ({ identity, path, method })

test('no policy for the service allows everything', () => {
  const authz = compileAuthorization([pol('other', { rules: [] }, 'ratings')], 'reviews')
  assert.deepEqual(authz(req(undefined)), { allowed: true })
})

test('an ALLOW policy with no rules denies everything (allow-nothing)', () => {
  const authz = compileAuthorization([pol('nothing', {})], 'reviews')
  assert.equal(authz(req(PP)).allowed, false)
})

test('ALLOW by identity: listed caller allowed, others denied; the decision names the policy', () => {
  const authz = compileAuthorization([pol('from-pp', { rules: [{ from: [{ identities: [PP] }] }] })], 'reviews')
  assert.deepEqual(authz(req(PP)), { allowed: true, policy: 'default/from-pp' })
  assert.deepEqual(authz(req(RATINGS)), { allowed: false })
  assert.equal(authz(req(undefined)).allowed, false)
})

test('any matching DENY wins over a matching ALLOW', () => {
  const authz = compileAuthorization([
    pol('allow-all-mesh', { rules: [{ from: [{ identities: ['spiffe://cluster.local/*'] }] }] }),
    pol('deny-admin', { action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] })
  ], 'reviews')
  assert.equal(authz(req(PP, '/reviews/1')).allowed, true)
  assert.deepEqual(authz(req(PP, '/admin/users')), { allowed: false, policy: 'default/deny-admin' })
  assert.equal(authz(req(EVIL, '/reviews/1')).allowed, false)
})

test('DENY only: unmatched calls are allowed', () => {
  const authz = compileAuthorization([pol('deny-delete', { action: 'DENY', rules: [{ to: [{ methods: ['DELETE'] }] }] })], 'reviews')
  assert.equal(authz(req(PP, '/x', 'DELETE')).allowed, false)
  assert.equal(authz(req(PP, '/x', 'GET')).allowed, true)
})

test('paths: exact, prefix glob, "*", and the query string is ignored', () => {
  const authz = compileAuthorization([pol('p', { rules: [{ to: [{ paths: ['/exact', '/api/*'] }] }] })], 'reviews')
  assert.equal(authz(req(PP, '/exact')).allowed, true)
  assert.equal(authz(req(PP, '/exact?x=1')).allowed, true)
  assert.equal(authz(req(PP, '/exactly')).allowed, false)
  assert.equal(authz(req(PP, '/api/v1/x')).allowed, true)
  assert.equal(authz(req(PP, '/api')).allowed, false)
  assert.equal(authz(req(PP, '/other?q=/api/')).allowed, false)
  const any = compileAuthorization([pol('any', { rules: [{ to: [{ paths: ['*'] }] }] })], 'reviews')
  assert.equal(any(req(undefined, '/whatever')).allowed, true)
})

test('notPaths excludes paths from an operation', () => {
  const authz = compileAuthorization([pol('p', { rules: [{ to: [{ paths: ['/api/*'], notPaths: ['/api/internal*'] }] }] })], 'reviews')
  assert.equal(authz(req(PP, '/api/public')).allowed, true)
  assert.equal(authz(req(PP, '/api/internal/x')).allowed, false)
})

test('methods restrict an operation; several operations are ORed', () => {
  const authz = compileAuthorization([pol('p', { rules: [{ to: [{ methods: ['GET'], paths: ['/read*'] }, { methods: ['POST'], paths: ['/write'] }] }] })], 'reviews')
  assert.equal(authz(req(PP, '/read/1', 'GET')).allowed, true)
  assert.equal(authz(req(PP, '/read/1', 'POST')).allowed, false)
  assert.equal(authz(req(PP, '/write', 'POST')).allowed, true)
  assert.equal(authz(req(PP, '/write', 'GET')).allowed, false)
})

test('from and to must both match within a rule; rules are ORed', () => {
  const authz = compileAuthorization([pol('p', { rules: [
    { from: [{ identities: [PP] }], to: [{ methods: ['GET'] }] },
    { from: [{ identities: [RATINGS] }], to: [{ methods: ['POST'] }] }
  ] })], 'reviews')
  assert.equal(authz(req(PP, '/', 'GET')).allowed, true)
  assert.equal(authz(req(PP, '/', 'POST')).allowed, false)
  assert.equal(authz(req(RATINGS, '/', 'POST')).allowed, true)
  assert.equal(authz(req(RATINGS, '/', 'GET')).allowed, false)
})

test('notIdentities: "*" denies callers without an identity; a listed identity is excluded', () => {
  const denyAnon = compileAuthorization([pol('require-mtls', { action: 'DENY', rules: [{ from: [{ notIdentities: ['*'] }] }] })], 'reviews')
  assert.equal(denyAnon(req(undefined)).allowed, false)
  assert.equal(denyAnon(req(PP)).allowed, true)
  const allowAllBut = compileAuthorization([pol('all-but-ratings', { rules: [{ from: [{ identities: ['*'], notIdentities: [RATINGS] }] }] })], 'reviews')
  assert.equal(allowAllBut(req(PP)).allowed, true)
  assert.equal(allowAllBut(req(RATINGS)).allowed, false)
  assert.equal(allowAllBut(req(undefined)).allowed, false, '"*" requires an identity')
})

test('identity prefix glob matches a trust domain / namespace', () => {
  const authz = compileAuthorization([pol('ns', { rules: [{ from: [{ identities: ['spiffe://cluster.local/ns/default/*'] }] }] })], 'reviews')
  assert.equal(authz(req(PP)).allowed, true)
  assert.equal(authz(req(EVIL)).allowed, false)
})

test('identity suffix glob ("*/sa/productpage") matches that service account in any trust domain', () => {
  const authz = compileAuthorization([pol('sa', { rules: [{ from: [{ identities: ['*/sa/productpage'] }] }] })], 'reviews')
  assert.equal(authz(req(PP)).allowed, true)
  assert.equal(authz(req('spiffe://other/ns/x/sa/productpage')).allowed, true)
  assert.equal(authz(req(RATINGS)).allowed, false)
})

test('policies targeting the version subset apply; other services are ignored', () => {
  const policies = [
    pol('v2-only-pp', { rules: [{ from: [{ identities: [PP] }] }] }, 'reviews-v2'),
    pol('deny-all-ratings', { action: 'DENY', rules: [{}] }, 'ratings')
  ]
  const v2 = compileAuthorization(policies, 'reviews', { version: 'v2' })
  const v1 = compileAuthorization(policies, 'reviews', { version: 'v1' })
  assert.equal(v2(req(RATINGS)).allowed, false)
  assert.equal(v2(req(PP)).allowed, true)
  assert.equal(v1(req(RATINGS)).allowed, true)
})

test('an empty rule {} matches every request', () => {
  const authz = compileAuthorization([pol('deny-all', { action: 'DENY', rules: [{}] })], 'reviews')
  assert.deepEqual(authz(req(PP)), { allowed: false, policy: 'default/deny-all' })
})

test('the decision objects are shared (no allocation per call)', () => {
  const authz = compileAuthorization([pol('p', { rules: [{ from: [{ identities: [PP] }] }] })], 'reviews')
  assert.equal(authz(req(PP)), authz(req(PP, '/other')))
  assert.equal(authz(req(RATINGS)), authz(req(EVIL)))
})
