import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { checkSnapshot, ProxySnapshot } from '../snapshot.ts'
import { checkProxySnapshot, parseProxySnapshot } from './check-snapshot.ts'
import { mutatedArbitrary, validArbitrary } from './ir-arbitrary.ts'
import { SNAPSHOT_SCHEMA } from './snapshot-schema.generated.ts'

const RUNS = Number(process.env.EQUIV_RUNS ?? 400)

interface Answer { ok: boolean, value?: unknown, issues?: { path: PropertyKey[], message: string }[] }

function viaZod (v: unknown): Answer {
  const r = ProxySnapshot.safeParse(v)
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: r.error.issues.map(i => ({ path: i.path, message: i.message })) }
}

function viaIR (v: unknown): Answer {
  const r = parseProxySnapshot(v)
  return r.ok ? { ok: true, value: r.value } : { ok: false, issues: r.issues.map(i => ({ path: i.path, message: i.message })) }
}

/** Same accept/reject, the same output (defaults applied), the same issues (paths and messages, in order). */
function assertSameAnswer (input: unknown): Answer {
  const z = viaZod(input)
  const ir = viaIR(input)
  assert.deepStrictEqual(ir, z)
  return z
}

const SERVICES = [
  { name: 'reviews', port: 9080, endpoints: [{ id: 'r1', address: '127.0.0.1', port: 15001, version: 'v1', tls: true, identity: 'spiffe://cluster.local/ns/default/sa/reviews' }], versions: ['v1', 'v2'] },
  { name: 'ratings', port: 9080, endpoints: [] }
]

const FULL = {
  version: '7',
  node: { id: 'productpage-v1-0', service: 'productpage', version: 'v1' },
  mesh: { trustDomain: 'cluster.local', mtls: { mode: 'PERMISSIVE' }, tracing: { sampling: 5, otlpEndpoint: ' http://127.0.0.1:4318/v1/traces' } },
  services: SERVICES,
  localApp: { port: 9080, readinessPath: '/healthz' },
  routes: [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'reviews', labels: { app: 'reviews' } },
    spec: {
      parentRefs: [{ name: 'reviews' }],
      rules: [
        { matches: [{ headers: [{ name: 'end-user', value: 'jason' }] }], backendRefs: [{ name: 'reviews-v2' }], retry: { attempts: 3 }, timeouts: { request: '2s' } },
        { filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }] },
        { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'ratings' } } }], backendRefs: [{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }] }
      ]
    }
  }],
  grpcRoutes: [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'ratings' },
    spec: {
      parentRefs: [{ name: 'ratings', port: 9080 }],
      rules: [
        { matches: [{ method: { service: 'bookinfo.Ratings', method: 'Get' }, headers: [{ name: 'end-user', value: 'jason' }] }], backendRefs: [{ name: 'ratings' }], retry: { attempts: 2, grpcCodes: ['unavailable'] } },
        { matches: [{ method: { type: 'RegularExpression', service: 'bookinfo\\..*' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }] } }], backendRefs: [{ name: 'ratings' }] },
        { backendRefs: [{ name: 'ratings' }] }
      ]
    }
  }],
  destinationPolicies: [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name: 'reviews' }, spec: { targetRef: { name: 'reviews' }, connectionPool: { maxConnections: 10 }, outlierDetection: {}, retryBudget: {}, healthCheck: {} } }],
  authorizationPolicies: [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'a' }, spec: { targetRef: { name: 'productpage' }, rules: [{ from: [{ identities: ['spiffe://cluster.local/ns/default/sa/x'] }], to: [{ paths: ['*', '/api/*'], methods: ['GET'] }] }] } }],
  faultInjections: [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'FaultInjection', metadata: { name: 'f' }, spec: { targetRef: { name: 'productpage' }, abort: { percentage: 10 } } }],
  rateLimitPolicies: [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'RateLimitPolicy', metadata: { name: 'rl' }, spec: { targetRef: { name: 'productpage' }, local: { requestsPerUnit: 100 } } }],
  gateways: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }]
}

test('a snapshot using every kind: the same output as zod (defaults applied, URL trimmed), frozen, equal to checkSnapshot', () => {
  const a = assertSameAnswer(FULL)
  assert.equal(a.ok, true)
  const snap = checkProxySnapshot(FULL, 'full.json')
  assert.deepStrictEqual(snap, checkSnapshot(FULL, 'full.json'))
  assert.ok(Object.isFrozen(snap) && Object.isFrozen(snap.routes[0].spec.rules[0].backendRefs[0]))
  assert.equal(snap.mesh.tracing.otlpEndpoint, 'http://127.0.0.1:4318/v1/traces')
  assert.equal(snap.routes[0].spec.rules[0].retry?.backoff, '25ms')
  assert.deepEqual(snap.grpcRoutes[0].spec.rules[2].matches, [{}])
  assert.equal(snap.grpcRoutes[0].spec.rules[1].matches[0].method?.type, 'RegularExpression')
  // defaults are copies: freezing one snapshot does not freeze the next one's
  const again = parseProxySnapshot({ version: '1', node: { id: 'x' } })
  assert.equal(again.ok && Object.isFrozen((again.value as { mesh: object }).mesh), false)
})

test('rejections: MESH_ERR_SNAPSHOT_REJECTED with the same text as checkSnapshot (schema, rules, unknown backendRef)', () => {
  const bad: unknown[] = [
    null,
    { version: '', node: { id: 'x', extra: 1 }, foo: 2 },
    { ...FULL, routes: [{ ...FULL.routes[0], spec: { ...FULL.routes[0].spec, rules: [{ backendRefs: [] }, { backendRefs: [{ name: 'reviews', weight: 0 }] }] } }] },
    { ...FULL, routes: [{ ...FULL.routes[0], spec: { ...FULL.routes[0].spec, rules: [{ backendRefs: [{ name: 'nope' }] }] } }] },
    { ...FULL, faultInjections: [{ ...FULL.faultInjections[0], spec: { targetRef: { name: 'a' } } }] },
    { ...FULL, grpcRoutes: [{ ...FULL.grpcRoutes[0], spec: { ...FULL.grpcRoutes[0].spec, rules: [{ matches: [{ method: {} }, { method: { service: 'no spaces' } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'Y', name: 'z' } }], backendRefs: [{ name: 'ratings' }] }] } }] },
    { ...FULL, grpcRoutes: [{ ...FULL.grpcRoutes[0], spec: { ...FULL.grpcRoutes[0].spec, rules: [{ backendRefs: [{ name: 'nope' }] }] } }] },
    { ...FULL, mesh: { tracing: { otlpEndpoint: 'not a url' } } },
    { ...FULL, services: [{ name: 'a', port: 1.5, endpoints: [{ id: 'e', address: 'h', port: 2 ** 60 }] }] }
  ]
  for (const b of bad) {
    const zodErr = (() => { try { checkSnapshot(b, 'f.yaml'); return null } catch (e) { return e as Error & { code: string } } })()
    const irErr = (() => { try { checkProxySnapshot(b, 'f.yaml'); return null } catch (e) { return e as Error & { code: string } } })()
    assert.ok(zodErr !== null && irErr !== null, `${JSON.stringify(b).slice(0, 100)} must be rejected by both`)
    assert.equal(irErr.code, 'MESH_ERR_SNAPSHOT_REJECTED')
    assert.equal(irErr.message, zodErr.message)
  }
})

test('generated valid-shaped snapshots: the interpreter and zod agree (output, or every issue path and message)', () => {
  let accepted = 0
  fc.assert(fc.property(validArbitrary(SNAPSHOT_SCHEMA), v => {
    if (assertSameAnswer(v).ok) accepted++
  }), { numRuns: RUNS })
  // the generator must produce valid documents too, or the output comparison tests nothing
  assert.ok(accepted > RUNS / 10, `only ${accepted} of ${RUNS} generated snapshots were valid`)
})

test('mutated snapshots (a node replaced, removed or given an unknown key): the interpreter and zod agree', () => {
  let rejected = 0
  fc.assert(fc.property(mutatedArbitrary(fc.oneof(validArbitrary(SNAPSHOT_SCHEMA), fc.constant(FULL))), v => {
    if (!assertSameAnswer(v).ok) rejected++
  }), { numRuns: RUNS })
  assert.ok(rejected > RUNS / 4, `only ${rejected} of ${RUNS} mutations were invalid`)
})

test('arbitrary values: the interpreter and zod agree', () => {
  fc.assert(fc.property(fc.anything({ maxDepth: 3 }), v => { assertSameAnswer(v) }), { numRuns: RUNS / 4 })
})

test('edge cases of zod semantics: long arrays cut short, lengths on non-strings, unions, unrecognized keys with rules', () => {
  const route = FULL.routes[0]
  const cases: unknown[] = [
    // over the max: one issue, elements not parsed
    { ...FULL, routes: [{ ...route, spec: { ...route.spec, parentRefs: new Array(40).fill({ name: 'BAD' }) } }] },
    // a string schema given an array: zod still runs its length checks
    { version: [], node: { id: [1] } },
    { version: {}, node: { id: { length: 0 } } },
    // a too-big weight does not abort the rule check; an unknown key neither
    { ...FULL, routes: [{ ...route, spec: { ...route.spec, rules: [{ backendRefs: [{ name: 'reviews', weight: 2_000_000, x: 1 }] }] } }] },
    // union: one option not aborted → its issue; both aborted → invalid_union
    { ...FULL, authorizationPolicies: [{ ...FULL.authorizationPolicies[0], spec: { targetRef: { name: 'a' }, rules: [{ to: [{ paths: ['x', 5] }] }] } }] },
    { ...FULL, routes: [{ ...route, spec: { ...route.spec, rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }] }] } }] },
    // non-integers, NaN, Infinity, unsafe integers
    { ...FULL, localApp: { port: Number.NaN } },
    { ...FULL, localApp: { port: Number.POSITIVE_INFINITY } },
    { ...FULL, localApp: { port: 2 ** 60 } },
    { ...FULL, localApp: { port: -(2 ** 60) } },
    // strings measured in code points
    { ...FULL, routes: [{ ...route, metadata: { name: `${'a'.repeat(62)}😀` } }] },
    // record keys and values
    { ...FULL, routes: [{ ...route, metadata: { name: 'r', labels: { a: 1, b: 'x' }, annotations: [] } }] }
  ]
  for (const c of cases) assertSameAnswer(c)
})
