// Micro-benchmark: one authorization decision (compiled policies, the inbound hot path).
// Run: node --import tsx bench/micro/authz.bench.ts
import { bench, do_not_optimize, run, summary } from 'mitata'
import { AuthorizationPolicy } from '../../src/config/authorization-policy.ts'
import { compileAuthorization } from '../../src/dataplane/authz/authorizer.ts'

const pol = (name: string, spec: Record<string, unknown>) => AuthorizationPolicy.parse({
  apiVersion: 'meshwork.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name }, spec: { targetRef: { name: 'reviews' }, ...spec }
})
const authz = compileAuthorization([
  pol('deny-admin', { action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }, { from: [{ notIdentities: ['*'] }] }] }),
  pol('allow-pp', { rules: [{ from: [{ identities: ['spiffe://cluster.local/ns/default/sa/productpage'] }], to: [{ methods: ['GET', 'HEAD'], paths: ['/reviews/*'] }] }] }),
  pol('allow-ratings', { rules: [{ from: [{ identities: ['spiffe://cluster.local/ns/default/sa/ratings'] }], to: [{ methods: ['POST'] }] }] })
], 'reviews')
const allowed = { identity: 'spiffe://cluster.local/ns/default/sa/productpage', path: '/reviews/1?x=1', method: 'GET' }
const denied = { identity: 'spiffe://cluster.local/ns/default/sa/details', path: '/reviews/1', method: 'GET' }
const none = compileAuthorization([], 'reviews')

summary(() => {
  bench('authz: no policies', () => do_not_optimize(none(allowed)))
  bench('authz: 3 policies, allowed by 2nd', () => do_not_optimize(authz(allowed)))
  bench('authz: 3 policies, no ALLOW matches', () => do_not_optimize(authz(denied)))
})
await run()
