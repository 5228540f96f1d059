import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseAllDocuments, stringify } from 'yaml'
import { parseResources, validateResource } from '../../src/config/index.ts'
import { toYamlStream } from '../../src/adapters/kubernetes/manifest-io.ts'
import { fromIstio, translate } from '../../src/adapters/translate.ts'
import { FIXTURES, assertGolden } from './golden.ts'

type Obj = Record<string, any>
const istio = (): unknown[] => parseAllDocuments(readFileSync(join(FIXTURES, 'istio.yaml'), 'utf8')).map(d => d.toJS())

test('from istio: output and unsupported fields match the golden file', () => {
  const { resources, unsupported } = fromIstio(istio())
  assertGolden('from-istio.yaml', `${toYamlStream(resources)}---\n# unsupported (stderr of meshwork translate --from istio)\n${stringify(unsupported)}`)
})

test('from istio: every produced resource is valid Meshwork config', () => {
  const { resources } = fromIstio(istio())
  assert.ok(resources.length >= 5)
  for (const r of resources) assert.equal(validateResource(r).ok, true, `${r.kind}/${r.metadata.name}`)
})

test('from istio: routes, retries, faults, mirrors and subsets carry over', () => {
  const { resources } = fromIstio(istio())
  const route = resources.find(r => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews') as Obj
  const [jason, rest] = route.spec.rules
  assert.deepEqual(jason.backendRefs.map((b: Obj) => b.name), ['reviews-v2'])
  assert.deepEqual(jason.retry, { attempts: 3, codes: [429, 502, 503, 504], onConnectFailure: true, backoff: '25ms' })
  assert.deepEqual(jason.timeouts, { request: '10s', backendRequest: '2s' })
  assert.deepEqual(rest.backendRefs.map((b: Obj) => [b.name, b.weight]), [['reviews-v1', 75], ['reviews-v3', 25]])
  assert.equal(rest.filters[0].requestMirror.percent, 20)
  // No retries in Istio means Istio's default retry policy, which Meshwork spells out.
  assert.equal(rest.retry.attempts, 2)
  const fault = resources.find(r => r.kind === 'FaultInjection') as Obj
  assert.deepEqual(fault.spec.delay, { fixedDelay: '7s', percentage: 100 })
  const policies = resources.filter(r => r.kind === 'DestinationPolicy') as Obj[]
  assert.deepEqual(policies.map(p => p.spec.targetRef.name).sort(), ['reviews', 'reviews-v2'])
})

test('from istio: fields without a Meshwork equivalent are reported', () => {
  const { unsupported } = fromIstio(istio())
  const paths = unsupported.map(u => `${u.resource} ${u.path}`)
  for (const p of [
    'VirtualService/default/reviews spec.http[1].corsPolicy',
    'DestinationRule/default/reviews spec.trafficPolicy.tls',
    'DestinationRule/default/reviews spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection',
    'DestinationRule/default/reviews spec.subsets[2].labels',
    'ServiceEntry/default/external kind'
  ]) assert.ok(paths.includes(p), p)
  for (const u of unsupported) assert.equal(u.mesh, 'meshwork')
})

test('round trip: Meshwork → Istio → Meshwork keeps routes, weights and timeouts', () => {
  const original = parseResources(readFileSync(join(FIXTURES, 'mesh.yaml'), 'utf8'), 'mesh.yaml').map(l => l.resource)
  const back = fromIstio(translate(original, 'istio').resources).resources
  const before = original.find(r => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews') as Obj
  const after = back.find(r => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews') as Obj
  assert.deepEqual(after.spec.rules.map((r: Obj) => r.backendRefs.map((b: Obj) => [b.name, b.weight])), before.spec.rules.map((r: Obj) => r.backendRefs.map((b: Obj) => [b.name, r.backendRefs.length === 1 ? 1 : b.weight])))
  assert.deepEqual(after.spec.rules[0].timeouts, before.spec.rules[0].timeouts)
  assert.deepEqual(after.spec.rules[0].matches, [{ headers: [{ type: 'Exact', name: 'x-user', value: 'jason' }] }])
})

test('from istio: a DestinationRule for another namespace\'s host targets that namespace', () => {
  const { resources } = fromIstio([{ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'ratings', namespace: 'default' }, spec: { host: 'ratings.prod.svc.cluster.local', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } } }])
  assert.deepEqual((resources[0] as Obj).spec.targetRef, { kind: 'Service', name: 'ratings', namespace: 'prod' })
})
