// Issue 19: a YAML syntax error is reported at the line (and column) of the error, not at the line where
// its document starts, by `meshwork check` and `meshwork apply` (which validates before it connects).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { cleanEnv, cli } from './cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-yaml-line-'))
after(() => rmSync(dir, { recursive: true, force: true }))

// The second document starts on line 6; the flow map opened on line 11, column 10, is never closed.
const BROKEN = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews }
spec:
  parentRefs: [{ kind: Service, name: reviews }]
  rules: { backendRefs: [{ name: reviews }]
`
const file = join(dir, 'broken.yaml')
writeFileSync(file, BROKEN)

test('meshwork check names the line and column of a YAML syntax error (file:line:col)', async () => {
  const r = await cli(['check', '-f', file], { env: cleanEnv() })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /MESH_ERR_CONFIG_INVALID/)
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:11:10: <document>: YAML syntax`), r.stderr)
  const json = await cli(['check', '-f', file, '-o', 'json'], { env: cleanEnv() })
  const out = JSON.parse(json.stdout) as { code: string, problems: Array<{ line: number, column: number, reason: string }> }
  assert.equal(out.code, 'MESH_ERR_CONFIG_INVALID')
  assert.ok(out.problems.length > 0)
  for (const p of out.problems) assert.equal(p.line, 11, JSON.stringify(p))
  assert.equal(out.problems[0].column, 10)
})

test('meshwork apply reports the same file:line:col before it contacts any control plane', async () => {
  const r = await cli(['apply', '-f', file, '--control-plane', 'http://127.0.0.1:9'], { env: cleanEnv() })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /MESH_ERR_CONFIG_INVALID: nothing applied/)
  assert.match(r.stderr, /broken\.yaml:11:10: <document>: YAML syntax/)
})

test('a misspelled field still names its own line (and now its column)', async () => {
  const misspelled = join(dir, 'misspelled.yaml')
  writeFileSync(misspelled, BROKEN.replace('  rules: { backendRefs: [{ name: reviews }]\n', '  rules:\n    - backendRefs: [{ name: reviews }]\n      timeout: { request: 2s }\n'))
  const r = await cli(['check', '-f', misspelled, '-o', 'json'], { env: cleanEnv() })
  const out = JSON.parse(r.stdout) as { problems: Array<{ line: number, column: number, path: string }> }
  assert.equal(out.problems[0].path, 'spec.rules[0]')
  assert.equal(out.problems[0].line, 12)
})
