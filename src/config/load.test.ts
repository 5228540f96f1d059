import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigInvalidError } from '../errors.ts'
import { parseResources } from './load.ts'

const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs: [{ name: reviews }]
  rules:
    - backendRefs:
        - name: reviews-v1
          weight: 90
        - name: reviews-v2
          weight: 10
      timeouts: { request: 2s }
`

test('parses a valid multi-document file and applies defaults', () => {
  const out = parseResources(`${ROUTE}---\napiVersion: meshwork.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: mesh }\nspec: {}\n`, 'mesh.yaml')
  assert.equal(out.length, 2)
  assert.equal(out[0].resource.kind, 'HTTPRoute')
  assert.equal(out[0].resource.metadata.namespace, 'default')
  assert.equal(out[1].line, 15)
  const mesh = out[1].resource
  assert.ok(mesh.kind === 'MeshConfig' && mesh.spec.mtls.mode === 'STRICT')
})

test('names file, line, path and reason of every problem', () => {
  const bad = ROUTE.replace('weight: 90', 'weight: -1').replace('request: 2s', 'request: 2 seconds')
  assert.throws(() => parseResources(bad, 'mesh.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError)
    assert.equal(err.code, 'MESH_ERR_CONFIG_INVALID')
    const paths = err.problems.map(p => `${p.file}:${p.line}:${p.path}`)
    assert.deepEqual(paths.sort(), ['mesh.yaml:10:spec.rules[0].backendRefs[0].weight', 'mesh.yaml:13:spec.rules[0].timeouts.request'])
    assert.equal(err.problems[0].resource, 'HTTPRoute/reviews')
    return true
  })
})

test('rejects unknown kinds, unknown keys and YAML syntax errors', () => {
  const cases = [
    'apiVersion: v1\nkind: Pod\nmetadata: { name: x }\nspec: {}\n',
    'apiVersion: meshwork.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: m }\nspec: { mtls: { mode: ON } }\n',
    'apiVersion: meshwork.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: m, colour: red }\nspec: {}\n',
    'kind: [unclosed\n',
    '- just\n- a list\n'
  ]
  for (const text of cases) {
    assert.throws(() => parseResources(text, 'f.yaml'), (err: unknown) => err instanceof ConfigInvalidError && err.problems.length > 0 && err.problems[0].file === 'f.yaml')
  }
})

test('a rule needs a backend or a redirect', () => {
  const text = ROUTE.replace(/ {4}- backendRefs:[\s\S]*$/, '    - matches: [{ path: { value: /x } }]\n')
  assert.throws(() => parseResources(text, 'f.yaml'), (err: unknown) => err instanceof ConfigInvalidError && err.problems.some(p => p.path === 'spec.rules[0].backendRefs'))
})

test('a YAML syntax error names its own line and column, not the first line of its document (issue 19)', () => {
  const text = `${ROUTE}---\napiVersion: meshwork.dev/v1alpha1\nkind: MeshConfig\nmetadata: { name: mesh }\nspec:\n  mtls: { mode: STRICT\n  tracing: { enabled: true }\n`
  assert.throws(() => parseResources(text, 'mesh.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError)
    // line 19 holds the unclosed `{` (the parser notices on line 20, where the map should have ended)
    assert.deepEqual(err.problems.map(p => [p.line, p.column]), [[19, 9]])
    assert.match(err.message, /^mesh\.yaml:19:9: <document>: YAML syntax: Flow map .* \(this \{ is never closed\)$/)
    return true
  })
  assert.throws(() => parseResources('kind: MeshConfig\nspec: { mtls: {}\n\n', 'f.yaml'), (err: unknown) =>
    err instanceof ConfigInvalidError && err.problems[0].line === 2 && err.problems[0].column === 7)
  // other syntax errors: where the parser found them; at the end of the text, the end of the last line
  assert.throws(() => parseResources('kind: MeshConfig\nspec:\n  a: "open\n\n', 'f.yaml'), (err: unknown) =>
    err instanceof ConfigInvalidError && err.problems[0].line === 3 && err.problems[0].column === 11)
})
