import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadResourceFiles } from '../../src/config/load.ts'
import { findConflicts } from '../../src/controlplane/conflicts.ts'

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname

test('the test mesh is consistent', async () => {
  assert.deepEqual(findConflicts(await loadResourceFiles([fixture('mesh.yaml')])), [])
})

test('reports duplicate matches, unknown services and targets, two MeshConfigs, with file and line', async () => {
  const file = fixture('conflicts.yaml')
  const problems = findConflicts(await loadResourceFiles([file]))
  const got = problems.map(p => `${p.resource} ${p.line} ${p.path}`).sort()
  assert.deepEqual(got, [
    'HTTPRoute/backend-b 25 spec.rules[0].backendRefs[0].name',
    'HTTPRoute/backend-b 25 spec.rules[0].matches[0]',
    'MeshConfig/mesh-two 11 kind',
    'RateLimitPolicy/nobody 34 spec.targetRef.name'
  ])
  assert.ok(problems.every(p => p.file === file))
})

test('reports a resource defined twice across files', async () => {
  const f = fixture('mesh.yaml')
  const problems = findConflicts(await loadResourceFiles([f, f]))
  assert.ok(problems.some(p => p.path === 'metadata.name' && p.resource === 'Workload/frontend'))
})
