import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { stringify } from 'yaml'
import { parseResources, type Resource } from '../../src/config/index.ts'
import { validateManifest } from '../../src/adapters/kubernetes/validate-manifest.ts'
import { toYamlStream } from '../../src/adapters/kubernetes/manifest-io.ts'
import { MESHES, translate } from '../../src/adapters/translate.ts'
import { FIXTURES, assertGolden } from './golden.ts'
import { strictProblems } from './strict-schema.ts'

const mesh = (): Resource[] => parseResources(readFileSync(join(FIXTURES, 'mesh.yaml'), 'utf8'), 'mesh.yaml').map(l => l.resource)
type Obj = Record<string, any>

for (const target of MESHES) {
  test(`${target}: every translated resource passes its published schema`, () => {
    const { resources } = translate(mesh(), target)
    assert.ok(resources.length > 0)
    for (const r of resources) assert.deepEqual(validateManifest(r), [], `${(r as Obj).kind}/${(r as Obj).metadata.name}`)
  })

  test(`${target}: no translated Istio / Gateway API resource carries a field its schema does not define`, () => {
    const { resources } = translate(mesh(), target)
    for (const r of resources) assert.deepEqual(strictProblems(r) ?? [], [], `${(r as Obj).kind}/${(r as Obj).metadata.name}`)
  })

  test(`${target}: output and unsupported fields match the golden file`, () => {
    const { resources, unsupported } = translate(mesh(), target)
    assertGolden(`${target}.yaml`, `${toYamlStream(resources)}---\n# unsupported (stderr of meshwork translate)\n${stringify(unsupported)}`)
  })

  test(`${target}: every unsupported entry is structured and points into a source resource`, () => {
    const input = mesh()
    const keys = new Set(input.map(r => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`))
    const { unsupported } = translate(input, target)
    for (const u of unsupported) {
      assert.equal(u.mesh, target)
      assert.ok(keys.has(u.resource), u.resource)
      assert.equal(typeof u.path, 'string')
      assert.ok(u.reason.length > 10)
    }
  })
}

test('validateManifest rejects what the published schemas reject (the checks can fail)', () => {
  const vs = { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['a'], http: [{ retries: { attempts: 'two' } }] } }
  assert.notDeepEqual(validateManifest(vs), [])
  const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'x' }, spec: { rules: [{ matches: [{ path: { type: 'Glob', value: '/x' } }] }] } }
  assert.notDeepEqual(validateManifest(route), [])
  const server = { apiVersion: 'policy.linkerd.io/v1beta3', kind: 'Server', metadata: { name: 'x' }, spec: { port: 80, podSelector: {}, bogus: 1 } }
  assert.notDeepEqual(validateManifest(server), [])
  const splitter = { apiVersion: 'consul.hashicorp.com/v1alpha1', kind: 'ServiceSplitter', metadata: { name: 'x' }, spec: { splits: [{ weight: 60, serviceSubset: 'v1' }, { weight: 30, serviceSubset: 'v2' }] } }
  assert.notDeepEqual(validateManifest(splitter), [])
  assert.notDeepEqual(validateManifest({ apiVersion: 'example.com/v1', kind: 'Unknown', metadata: { name: 'x' } }), [])
  // A misspelt field passes the published schema but not the closed one.
  const typo = { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'x' }, spec: { hosts: ['a'], http: [{ retrys: { attempts: 1 } }] } }
  assert.deepEqual(validateManifest(typo), [])
  assert.notDeepEqual(strictProblems(typo), [])
})

test('istio: weighted backends become percentages and version backends become DestinationRule subsets', () => {
  const { resources } = translate(mesh(), 'istio')
  const vs = resources.find(r => (r as Obj).kind === 'VirtualService' && (r as Obj).metadata.name === 'reviews') as Obj
  const split = vs.spec.http[1].route
  assert.deepEqual(split.map((d: Obj) => [d.destination.subset, d.weight]), [['v1', 90], ['v2', 10]])
  const dr = resources.find(r => (r as Obj).kind === 'DestinationRule' && (r as Obj).spec.host === 'reviews') as Obj
  assert.deepEqual(dr.spec.subsets.map((s: Obj) => s.labels.version), ['v1', 'v2'])
  // Meshwork makes one attempt unless a rule says retry; Istio retries by default, so attempts: 0 is explicit.
  assert.deepEqual(vs.spec.http[1].retries, { attempts: 0 })
  assert.equal(vs.spec.http[0].retries.perTryTimeout, '500ms')
})

test('istio: a fault on a service with a route is added to that route, not a second VirtualService', () => {
  const input = mesh()
  const fault = parseResources(`apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: reviews-abort }
spec: { targetRef: { name: reviews }, abort: { httpStatus: 503, percentage: 5 } }
`, 'f.yaml')[0].resource
  const { resources } = translate([...input, fault], 'istio')
  const vss = resources.filter(r => (r as Obj).kind === 'VirtualService' && (r as Obj).spec.hosts.includes('reviews')) as Obj[]
  assert.equal(vss.length, 1)
  for (const h of vss[0].spec.http) assert.deepEqual(h.fault, { abort: { httpStatus: 503, percentage: { value: 5 } } })
})

test('linkerd: what Linkerd cannot express is reported, never dropped silently', () => {
  const { unsupported } = translate(mesh(), 'linkerd')
  const has = (resource: string, path: string) => unsupported.some(u => u.resource === resource && u.path === path)
  assert.ok(has('FaultInjection/default/ratings-delay', 'spec'))
  assert.ok(has('HTTPRoute/default/reviews', 'spec.rules[1].filters[0]'), 'RequestMirror')
  assert.ok(has('AuthorizationPolicy/default/ratings-deny-admin', 'spec.action'), 'DENY')
  assert.ok(has('DestinationPolicy/default/reviews', 'spec.retryBudget'))
  assert.ok(has('RateLimitPolicy/default/ratings', 'spec.local.burst'))
})

test('linkerd: retries go to annotations, and rules with different retries get their own HTTPRoute', () => {
  const { resources } = translate(mesh(), 'linkerd')
  const routes = resources.filter(r => (r as Obj).kind === 'HTTPRoute' && (r as Obj).spec.parentRefs[0].kind === 'Service') as Obj[]
  assert.deepEqual(routes.map(r => r.metadata.name), ['reviews-0', 'reviews-1'])
  assert.equal(routes[0].metadata.annotations['retry.linkerd.io/limit'], '3')
  assert.equal(routes[0].metadata.annotations['retry.linkerd.io/http'], '503')
  assert.equal(routes[1].metadata.annotations['retry.linkerd.io/limit'], undefined)
})

test('consul: a wildcard DENY is copied into every named source (Consul applies the most specific source only)', () => {
  const { resources } = translate(mesh(), 'consul')
  const it = resources.find(r => (r as Obj).kind === 'ServiceIntentions') as Obj
  const productpage = it.spec.sources.find((s: Obj) => s.name === 'productpage')
  assert.deepEqual(productpage.permissions[0], { action: 'deny', http: { pathPrefix: '/admin' } })
  assert.deepEqual(it.spec.sources.at(-1), { name: '*', action: 'deny' })
})

test('translate refuses an unknown mesh', () => {
  assert.throws(() => translate([], 'kuma' as never), TypeError)
})

test('istio: a policy on a version becomes that subset\'s trafficPolicy; a second policy on one host is reported', () => {
  const extra = parseResources(`apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: reviews-v2 }
spec: { targetRef: { name: reviews-v2 }, loadBalancer: { type: RoundRobin } }
---
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: reviews-again }
spec: { targetRef: { name: reviews }, loadBalancer: { type: RoundRobin } }
`, 'extra.yaml').map(l => l.resource)
  const { resources, unsupported } = translate([...mesh(), ...extra], 'istio')
  const dr = resources.find(r => (r as Obj).kind === 'DestinationRule' && (r as Obj).spec.host === 'reviews') as Obj
  assert.deepEqual(dr.spec.subsets.find((s: Obj) => s.name === 'v2').trafficPolicy, { loadBalancer: { simple: 'ROUND_ROBIN' } })
  assert.equal(dr.spec.trafficPolicy.loadBalancer.simple, 'LEAST_REQUEST', 'the first service-level policy is kept')
  assert.ok(unsupported.some(u => u.resource === 'DestinationPolicy/default/reviews-again' && u.path === 'spec.targetRef'))
  for (const r of resources) assert.deepEqual(validateManifest(r), [])
})

test('istio: a redirect rule carries only the redirect (no route, retries or timeout)', () => {
  const route = parseResources(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: old }
spec:
  parentRefs: [{ kind: Gateway, name: ingress }]
  rules:
    - matches: [{ path: { type: Exact, value: /old } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /new }, statusCode: 301 } }]
`, 'r.yaml').map(l => l.resource)
  const { resources } = translate(route, 'istio')
  const vs = resources[0] as Obj
  assert.deepEqual(vs.spec.http[0], { match: [{ uri: { exact: '/old' } }], redirect: { redirectCode: 301, uri: '/new' } })
  assert.deepEqual(validateManifest(vs), [])
})

test('GRPCRoute: Istio gets uri/header matches and gRPC retryOn, Linkerd a native GRPCRoute, Consul path matches on a grpc service', () => {
  const input = mesh()
  const istio = translate(input, 'istio').resources as Obj[]
  const vs = istio.find(r => r.kind === 'VirtualService' && r.metadata.name === 'stars')!
  assert.deepEqual(vs.spec.hosts, ['stars'])
  assert.deepEqual(vs.spec.http[0].match[0], { uri: { exact: '/bookinfo.stars.v1.Stars/GetStars' }, headers: { 'end-user': { exact: 'jason' } } })
  assert.deepEqual(vs.spec.http[1].match.map((m: Obj) => m.uri), [{ prefix: '/bookinfo.stars.v1.Stars/' }, { regex: '/[^/]+/Watch' }])
  assert.match(vs.spec.http[0].retries.retryOn, /unavailable,resource-exhausted/)
  const linkerd = translate(input, 'linkerd').resources as Obj[]
  const routes = linkerd.filter(r => r.kind === 'GRPCRoute')
  assert.deepEqual(routes.map(r => r.apiVersion), ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1'])
  assert.equal(routes[0].metadata.annotations['retry.linkerd.io/grpc'], 'unavailable,resource-exhausted')
  assert.deepEqual(routes[0].spec.parentRefs, [{ group: 'core', kind: 'Service', name: 'stars', port: 9090 }])
  assert.equal(routes[2].spec.rules[0].matches, undefined, 'a rule without matches stays match-all')
  const consul = translate(input, 'consul').resources as Obj[]
  assert.equal(consul.find(r => r.kind === 'ServiceDefaults' && r.metadata.name === 'stars')!.spec.protocol, 'grpc')
  const router = consul.find(r => r.kind === 'ServiceRouter' && r.metadata.name === 'stars')!
  assert.equal(router.spec.routes[0].match.http.pathExact, '/bookinfo.stars.v1.Stars/GetStars')
  assert.deepEqual(router.spec.routes[0].destination.retryOn, ['unavailable', 'resource-exhausted'])
})

test('a GRPCRoute the published v1 schema rejects fails validateManifest and the closed schema', () => {
  const bad = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'x' }, spec: { rules: [{ matches: [{ method: { type: 'Glob', service: 'a' } }] }] } }
  assert.notDeepEqual(validateManifest(bad), [])
  const typo = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'x' }, spec: { rules: [{ matches: [{ methods: {} }] }] } }
  assert.deepEqual(validateManifest(typo), [])
  assert.notDeepEqual(strictProblems(typo), [])
})
