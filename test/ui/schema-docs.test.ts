// Issue 17: the editor's completion and hover come from the zod schemas (ui/src/config/schema-docs.ts)
// and a position's YAML path (ui/src/config/yaml-context.ts). Checked on the running-config text the UI
// loads (`GET /api/v1/config`, block style) and on text being typed (not parseable yet).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadResourceFiles } from '../../src/config/load.ts'
import { currentYaml } from '../../src/management/api/config.ts'
import { docOf, keysAt, valuesAt } from '../../ui/src/config/schema-docs.ts'
import { contextAt } from '../../ui/src/config/yaml-context.ts'

const MESH_FILE = join(import.meta.dirname, '..', '..', 'samples', 'bookinfo', 'mesh.yaml')

test('a position in the block-style running config has its kind and key path', async () => {
  const text = currentYaml((await loadResourceFiles([MESH_FILE])).map(l => l.resource))
  const route = text.indexOf('kind: HTTPRoute\nmetadata:\n  name: reviews')
  assert.ok(route > 0)
  const at = text.indexOf('backendRequest:', route)
  const c = contextAt(text, at + 3)
  assert.equal(c.kind, 'HTTPRoute')
  assert.deepEqual(c.parent, ['spec', 'rules', 0, 'timeouts'])
  assert.equal(c.key, 'backendRequest')
  assert.equal(c.inKey, true)
  assert.match(docOf(c.kind, [...c.parent, c.key!]) ?? '', /HTTPRoute: spec\.rules\[0\]\.timeouts\.backendRequest\n.*optional/)
})

test('a second list item counts as index 1, a sibling key after a nested list keeps its parent', () => {
  const text = [
    'kind: HTTPRoute', 'spec:', '  parentRefs:', '    - name: a', '      kind: Service', '    - name: b', '      port: 80',
    '  rules:', '    - matches:', '        - path:', '            type: Exact', '      timeouts:', '        request: 1s'
  ].join('\n')
  const off = (line: number, col: number): number => text.split('\n').slice(0, line).join('\n').length + (line > 0 ? 1 : 0) + col
  assert.deepEqual(contextAt(text, off(6, 8)).parent, ['spec', 'parentRefs', 1])
  assert.deepEqual(contextAt(text, off(10, 14)).parent, ['spec', 'rules', 0, 'matches', 0, 'path'])
  assert.deepEqual(contextAt(text, off(11, 8)).parent, ['spec', 'rules', 0])
  assert.deepEqual(contextAt(text, off(12, 10)).parent, ['spec', 'rules', 0, 'timeouts'])
  assert.equal(contextAt(text, off(12, 10)).key, 'request')
})

test('completion at a half-typed key offers the schema keys of that mapping, required first', () => {
  const text = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: x\nspec:\n  rules:\n    - time'
  const c = contextAt(text, text.length)
  assert.deepEqual(c.parent, ['spec', 'rules', 0])
  assert.equal(c.word, 'time')
  assert.equal(c.inKey, true)
  const keys = keysAt(c.kind, c.parent).map(k => k.key)
  for (const k of ['matches', 'backendRefs', 'timeouts', 'retry']) assert.ok(keys.includes(k), `${k} in ${keys.join(',')}`)
  const top = keysAt('HTTPRoute', ['spec'])
  assert.equal(top[0].required, true, 'required keys come first')
  assert.ok(top.some(k => k.key === 'parentRefs' && k.required))
  // a blank line under `spec:` at its child indent
  const blank = 'kind: MeshConfig\nspec:\n  '
  const b = contextAt(blank, blank.length)
  assert.deepEqual(b.parent, ['spec'])
  assert.ok(keysAt('MeshConfig', b.parent).some(k => k.key === 'mtls'))
})

test('enum values come from the schema; an unknown path has no docs', () => {
  assert.deepEqual(valuesAt('HTTPRoute', ['spec', 'rules', 0, 'matches', 0, 'path', 'type']), ['Exact', 'PathPrefix', 'RegularExpression'])
  assert.ok((valuesAt('MeshConfig', ['spec', 'mtls', 'mode']) as string[]).includes('STRICT'))
  assert.ok((valuesAt(undefined, ['kind']) as string[]).includes('FaultInjection'))
  assert.equal(docOf('HTTPRoute', ['spec', 'nonsense']), null)
  assert.equal(docOf('Nope', ['spec']), null)
  const value = 'kind: MeshConfig\nspec:\n  mtls:\n    mode: PER'
  const c = contextAt(value, value.length)
  assert.equal(c.inKey, false)
  assert.equal(c.key, 'mode')
  assert.equal(c.word, 'PER')
})
