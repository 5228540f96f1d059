import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { HTTPRoute, type Resource } from '../../src/config/index.ts'
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
