// A mesh that cannot start (an app whose command does not exist) fails with MESH_ERR_RUNTIME_START naming
// the log, and what had started already (control plane, sidecar) is stopped again.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startLocalMesh } from '../../src/runtime/local-mesh.ts'
import { alive } from './http-client.ts'

test('an app that cannot start fails meshwork up with MESH_ERR_RUNTIME_START and leaves nothing running', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-fail-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'mesh.yaml'), `apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: broken }
spec: { service: broken, command: [./no-such-program] }
`)
  await assert.rejects(
    startLocalMesh({ files: [join(dir, 'mesh.yaml')], dataDir: join(dir, 'data'), ingressPort: 0, controlPort: 0, echo: null }),
    (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_RUNTIME_START' && err.message.includes('broken-v1-0.log')
  )
  const logs = join(dir, 'data', 'logs')
  const pids = readdirSync(logs).flatMap(f => [...readFileSync(join(logs, f), 'utf8').matchAll(/started \S+ pid (\d+)/g)].map(m => Number(m[1])))
  assert.equal(pids.length, 1) // the sidecar; the app never got a pid
  for (const pid of pids) assert.equal(alive(pid), false)
  assert.match(readFileSync(join(logs, 'broken-v1-0.log'), 'utf8'), /cannot start .*ENOENT/)
})
