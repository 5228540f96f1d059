import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { AuthorizationPolicy, DestinationPolicy, FaultInjection, HTTPRoute, RateLimitPolicy, type Resource } from '../../src/config/index.ts'
import { validateManifest } from '../../src/adapters/kubernetes/validate-manifest.ts'
import { MESHES, translate } from '../../src/adapters/translate.ts'
import { strictProblems } from './strict-schema.ts'

type Obj = Record<string, any>

const name = fc.constantFrom('reviews', 'ratings', 'details', 'productpage')
const backend = fc.record({
  name: fc.tuple(name, fc.constantFrom('', '-v1', '-v2', '-v3')).map(([n, v]) => n + v),
  weight: fc.integer({ min: 0, max: 1000 })
})
const path = fc.record({ type: fc.constantFrom('Exact', 'PathPrefix', 'RegularExpression'), value: fc.constantFrom('/', '/api', '/api/v1', '/static/x') })
const match = fc.record({
  path: fc.option(path, { nil: undefined }),
  headers: fc.option(fc.array(fc.record({ type: fc.constantFrom('Exact', 'RegularExpression'), name: fc.constantFrom('x-user', 'X-Canary'), value: fc.constantFrom('a', 'b.*') }), { minLength: 1, maxLength: 2 }), { nil: undefined }),
  method: fc.option(fc.constantFrom('GET', 'POST'), { nil: undefined })
}, { requiredKeys: [] })
const filter = fc.oneof(
  fc.constant({ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], remove: ['x-b'] } }),
  fc.constant({ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-c', value: '2' }] } }),
  fc.record({ type: fc.constant('RequestMirror'), requestMirror: fc.record({ backendRef: fc.record({ name }), percent: fc.integer({ min: 0, max: 100 }) }) }),
  fc.constant({ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } })
)
const duration = fc.constantFrom('250ms', '1s', '2s', '1m30s')
const rule = fc.record({
  matches: fc.array(match, { minLength: 1, maxLength: 3 }),
  filters: fc.option(fc.array(filter, { maxLength: 3 }), { nil: undefined }),
  backendRefs: fc.array(backend, { minLength: 1, maxLength: 4 }),
  timeouts: fc.option(fc.record({ request: duration, backendRequest: duration }, { requiredKeys: [] }), { nil: undefined }),
  retry: fc.option(fc.record({ attempts: fc.integer({ min: 0, max: 5 }), codes: fc.subarray([500, 502, 503, 504, 429]), backoff: fc.constantFrom('25ms', '100ms'), onConnectFailure: fc.boolean() }), { nil: undefined })
}, { requiredKeys: ['matches', 'backendRefs'] })
const route = fc.record({
  parent: fc.constantFrom('Service', 'Gateway', 'Both'),
  target: name,
  rules: fc.array(rule, { minLength: 1, maxLength: 4 })
}).map(({ parent, target, rules }) => HTTPRoute.safeParse({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: `${target}-route` },
  spec: {
    parentRefs: parent === 'Both' ? [{ kind: 'Service', name: target }, { kind: 'Gateway', name: 'ingress' }] : [{ kind: parent, name: parent === 'Gateway' ? 'ingress' : target }],
    ...(parent !== 'Service' ? { hostnames: ['bookinfo.example.com'] } : {}),
    rules
  }
}))

test('any valid HTTPRoute translates to resources that pass the (closed) published schemas for every mesh', () => {
  fc.assert(fc.property(fc.array(route, { minLength: 1, maxLength: 3 }), parsed => {
    fc.pre(parsed.every(p => p.success))
    const names = new Set<string>()
    const resources = parsed.map(p => p.data as Resource).filter(r => !names.has(r.metadata.name) && names.add(r.metadata.name))
    for (const mesh of MESHES) {
      const out = translate(resources, mesh)
      for (const o of out.resources as Obj[]) {
        assert.deepEqual(validateManifest(o), [], `${mesh} ${o.kind}/${o.metadata.name}: ${JSON.stringify(o)}`)
        assert.deepEqual(strictProblems(o) ?? [], [], `${mesh} ${o.kind}/${o.metadata.name}`)
      }
      for (const u of out.unsupported) assert.ok(u.resource.startsWith('HTTPRoute/default/'))
    }
  }), { numRuns: 150, seed: Number(process.env.FC_SEED ?? 20261126) })
})

const identity = fc.constantFrom('spiffe://cluster.local/ns/default/sa/reviews', 'spiffe://cluster.local/ns/shop/sa/productpage', '*', 'not-a-spiffe-id')
const authz = fc.record({
  n: fc.integer({ min: 0, max: 99 }),
  target: fc.tuple(name, fc.constantFrom('', '-v2')).map(([a, b]) => a + b),
  action: fc.constantFrom('ALLOW', 'DENY'),
  rules: fc.array(fc.record({
    from: fc.option(fc.array(fc.record({ identities: fc.option(fc.array(identity, { minLength: 1, maxLength: 3 }), { nil: undefined }), notIdentities: fc.option(fc.array(identity, { maxLength: 1 }), { nil: undefined }) }, { requiredKeys: [] }), { minLength: 1, maxLength: 2 }), { nil: undefined }),
    to: fc.option(fc.array(fc.record({ paths: fc.option(fc.array(fc.constantFrom('/api/*', '/admin', '*', '/x*'), { minLength: 1, maxLength: 3 }), { nil: undefined }), methods: fc.option(fc.subarray(['GET', 'POST', 'PUT'], { minLength: 1 }), { nil: undefined }) }, { requiredKeys: [] }), { minLength: 1, maxLength: 2 }), { nil: undefined })
  }, { requiredKeys: [] }), { maxLength: 3 })
}).map(a => AuthorizationPolicy.safeParse({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: `authz-${a.n}` }, spec: { targetRef: { name: a.target }, action: a.action, rules: a.rules } }))
const policy = fc.record({
  n: fc.integer({ min: 0, max: 99 }),
  target: fc.tuple(name, fc.constantFrom('', '-v1')).map(([a, b]) => a + b),
  lb: fc.option(fc.constantFrom('RoundRobin', 'LeastRequest', 'PeakEWMA'), { nil: undefined }),
  pool: fc.option(fc.record({ maxConnections: fc.integer({ min: 1, max: 1000 }), maxPendingRequests: fc.integer({ min: 0, max: 100 }), protocol: fc.constantFrom('http1', 'h2') }, { requiredKeys: [] }), { nil: undefined }),
  od: fc.option(fc.record({ consecutive5xx: fc.integer({ min: 1, max: 10 }), baseEjectionTime: duration }, { requiredKeys: [] }), { nil: undefined })
}).map(p => DestinationPolicy.safeParse({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name: `policy-${p.n}` }, spec: { targetRef: { name: p.target }, ...(p.lb ? { loadBalancer: { type: p.lb } } : {}), ...(p.pool ? { connectionPool: p.pool } : {}), ...(p.od ? { outlierDetection: p.od } : {}) } }))
const limit = fc.record({ n: fc.integer({ min: 0, max: 99 }), target: name, rpu: fc.integer({ min: 1, max: 100000 }), unit: fc.constantFrom('second', 'minute', 'hour'), burst: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }) })
  .map(l => RateLimitPolicy.safeParse({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'RateLimitPolicy', metadata: { name: `limit-${l.n}` }, spec: { targetRef: { name: l.target }, local: { requestsPerUnit: l.rpu, unit: l.unit, ...(l.burst ? { burst: l.burst } : {}) } } }))
const fault = fc.record({ n: fc.integer({ min: 0, max: 99 }), target: name, matches: fc.option(fc.array(match, { minLength: 1, maxLength: 2 }), { nil: undefined }), pct: fc.integer({ min: 0, max: 100 }) })
  .map(f => FaultInjection.safeParse({ apiVersion: 'meshwork.dev/v1alpha1', kind: 'FaultInjection', metadata: { name: `fault-${f.n}` }, spec: { targetRef: { name: f.target }, ...(f.matches ? { matches: f.matches } : {}), abort: { httpStatus: 503, percentage: f.pct } } }))

test('any mix of valid routes and policies translates to schema-valid resources for every mesh', () => {
  fc.assert(fc.property(fc.array(fc.oneof(route, authz, policy, limit, fault), { minLength: 1, maxLength: 8 }), parsed => {
    fc.pre(parsed.every(p => p.success))
    const seen = new Set<string>()
    const resources = parsed.map(p => p.data as Resource).filter(r => !seen.has(`${r.kind}/${r.metadata.name}`) && seen.add(`${r.kind}/${r.metadata.name}`))
    for (const mesh of MESHES) {
      const out = translate(resources, mesh)
      const names = new Set<string>()
      for (const o of out.resources as Obj[]) {
        assert.deepEqual(validateManifest(o), [], `${mesh} ${o.kind}/${o.metadata.name}: ${JSON.stringify(o)}`)
        assert.deepEqual(strictProblems(o) ?? [], [], `${mesh} ${o.kind}/${o.metadata.name}`)
        const id = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`
        assert.ok(!names.has(id), `${mesh}: two objects named ${id}`)
        names.add(id)
      }
    }
  }), { numRuns: 150, seed: Number(process.env.FC_SEED ?? 20261126) })
})

test('fromIstio never throws on malformed Istio objects and returns only valid Meshwork resources', async () => {
  const { fromIstio } = await import('../../src/adapters/translate.ts')
  const { validateResource } = await import('../../src/config/index.ts')
  const istioish = fc.record({
    apiVersion: fc.constantFrom('networking.istio.io/v1beta1', 'networking.istio.io/v1', 'v1'),
    kind: fc.constantFrom('VirtualService', 'DestinationRule', 'Gateway'),
    metadata: fc.record({ name: fc.string({ maxLength: 70 }), namespace: fc.constantFrom('default', 'prod') }),
    spec: fc.oneof(fc.jsonValue(), fc.record({
      hosts: fc.array(fc.constantFrom('reviews', 'ratings.prod.svc.cluster.local', '*'), { maxLength: 2 }),
      gateways: fc.option(fc.array(fc.constantFrom('mesh', 'istio-system/gw', 'gw')), { nil: undefined }),
      host: fc.constantFrom('reviews', 'a.b.svc.cluster.local'),
      http: fc.array(fc.record({
        match: fc.option(fc.array(fc.jsonValue(), { maxLength: 2 }), { nil: undefined }),
        route: fc.option(fc.array(fc.record({ destination: fc.record({ host: fc.constantFrom('reviews', 'x'), subset: fc.option(fc.constantFrom('v1', 'v2'), { nil: undefined }) }), weight: fc.option(fc.integer({ min: -5, max: 200 }), { nil: undefined }) }), { maxLength: 3 }), { nil: undefined }),
        retries: fc.option(fc.record({ attempts: fc.integer({ min: -1, max: 20 }), retryOn: fc.string(), perTryTimeout: fc.constantFrom('1s', 'x', '0.25s') }, { requiredKeys: [] }), { nil: undefined }),
        timeout: fc.option(fc.constantFrom('10s', 'abc', '0s', '1.5s'), { nil: undefined }),
        fault: fc.option(fc.jsonValue(), { nil: undefined })
      }, { requiredKeys: [] }), { maxLength: 3 }),
      trafficPolicy: fc.option(fc.jsonValue(), { nil: undefined }),
      subsets: fc.option(fc.array(fc.record({ name: fc.string(), labels: fc.dictionary(fc.string(), fc.string()), trafficPolicy: fc.option(fc.jsonValue(), { nil: undefined }) }), { maxLength: 2 }), { nil: undefined })
    }, { requiredKeys: [] }))
  })
  fc.assert(fc.property(fc.array(fc.oneof(istioish, fc.jsonValue()), { maxLength: 4 }), objects => {
    const { resources, unsupported } = fromIstio(objects)
    for (const r of resources) assert.equal(validateResource(r).ok, true)
    for (const u of unsupported) assert.equal(u.mesh, 'meshwork')
  }), { numRuns: 300, seed: Number(process.env.FC_SEED ?? 20261126) })
})
