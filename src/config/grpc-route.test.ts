import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigInvalidError } from '../errors.ts'
import { parseResources } from './load.ts'

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: stars
spec:
  parentRefs: [{ kind: Service, name: stars, port: 9080 }]
  rules:
    - matches:
        - method: { service: bookinfo.stars.v1.Stars, method: GetStars }
          headers: [{ name: end-user, value: jason }]
      backendRefs: [{ name: stars-v2 }]
    - backendRefs: [{ name: stars-v1, weight: 90 }, { name: stars-v2, weight: 10 }]
      timeouts: { request: 2s }
      retry: { attempts: 2, grpcCodes: [unavailable, resource-exhausted] }
`

function problemsOf (text: string): { at: string, reason: string }[] {
  try {
    parseResources(text, 'grpc.yaml')
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError)
    assert.equal(err.code, 'MESH_ERR_CONFIG_INVALID')
    return err.problems.map(p => ({ at: `${p.file}:${p.line}:${p.path}`, reason: p.reason }))
  }
  assert.fail('expected the config to be rejected')
}

test('a GRPCRoute parses with the Gateway API defaults and the shared retry shape', () => {
  const [{ resource: r }] = parseResources(ROUTE, 'grpc.yaml')
  assert.ok(r.kind === 'GRPCRoute')
  assert.equal(r.spec.rules[0].matches[0].method?.type, 'Exact')
  assert.equal(r.spec.rules[0].matches[0].headers?.[0].type, 'Exact')
  // a rule without matches matches every request ({} is the match-all GRPCRouteMatch)
  assert.deepEqual(r.spec.rules[1].matches, [{}])
  assert.deepEqual(r.spec.rules[1].retry, { attempts: 2, backoff: '25ms', codes: [502, 503, 504], onConnectFailure: true, grpcCodes: ['unavailable', 'resource-exhausted'] })
  assert.equal(r.spec.rules[0].backendRefs[0].weight, 1)
})

test('a method match needs a service or a method, in proto syntax when Exact; regexes must compile', () => {
  const bad = ROUTE
    .replace('method: { service: bookinfo.stars.v1.Stars, method: GetStars }', 'method: { service: "bookinfo stars", method: "Get/Stars" }')
    .replace('    - backendRefs: [{ name: stars-v1', '    - matches: [{ method: {} }, { method: { type: RegularExpression, service: "(" } }]\n      backendRefs: [{ name: stars-v1')
  assert.deepEqual(problemsOf(bad), [
    { at: 'grpc.yaml:9:spec.rules[0].matches[0].method.service', reason: 'must be a proto service name such as "bookinfo.stars.v1.Stars"' },
    { at: 'grpc.yaml:9:spec.rules[0].matches[0].method.method', reason: 'must be a proto method name such as "GetStars"' },
    { at: 'grpc.yaml:12:spec.rules[1].matches[0].method', reason: 'needs a service, a method or both' },
    { at: 'grpc.yaml:12:spec.rules[1].matches[1].method.service', reason: 'invalid regular expression: Invalid regular expression: /^(?:()$/: Unterminated group' }
  ])
})

test('filters the GRPCRoute spec lacks, ExtensionRef and rules without backends are refused with their reason', () => {
  const redirect = ROUTE.replace('      backendRefs: [{ name: stars-v2 }]\n', '      filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 301 } }]\n      backendRefs: [{ name: stars-v2 }]\n')
  const [p] = problemsOf(redirect)
  assert.equal(p.at, 'grpc.yaml:11:spec.rules[0].filters[0].type')
  assert.match(p.reason, /Expected 'RequestHeaderModifier' \| 'ResponseHeaderModifier' \| 'RequestMirror' \| 'ExtensionRef'/)
  const ext = ROUTE.replace('      backendRefs: [{ name: stars-v2 }]\n', '      filters: [{ type: ExtensionRef, extensionRef: { group: example.com, kind: Auth, name: a } }]\n      backendRefs: []\n')
  assert.deepEqual(problemsOf(ext), [
    { at: 'grpc.yaml:12:spec.rules[0].backendRefs', reason: 'a rule needs at least one backendRef' },
    { at: 'grpc.yaml:11:spec.rules[0].filters[0].type', reason: 'Meshwork defines no ExtensionRef filter; use RequestHeaderModifier, ResponseHeaderModifier or RequestMirror' }
  ])
  const zero = ROUTE.replace('weight: 90', 'weight: 0').replace('weight: 10', 'weight: 0')
  assert.deepEqual(problemsOf(zero).map(x => x.reason), ['at least one backendRef needs a weight above 0'])
  // per-backendRef filters and sessionPersistence are not in Meshwork's schema: unknown keys, named
  const extra = ROUTE.replace('[{ name: stars-v2 }]', '[{ name: stars-v2, filters: [] }]')
  assert.match(problemsOf(extra)[0].reason, /Unrecognized key: "filters"/)
})
