import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadResourceFiles, parseResources } from '../config/load.ts'
import { planMesh } from './mesh-plan.ts'
import { defaultMeshFile } from './meshwork-command.ts'

test('the embedded Bookinfo mesh plans six app instances, an ingress and an egress gateway', async () => {
  const plan = planMesh(await loadResourceFiles([defaultMeshFile()]), '/usr/bin/node-x')
  assert.deepEqual(plan.instances.map(i => i.id).sort(), ['details-v1-0', 'productpage-v1-0', 'ratings-v1-0', 'reviews-v1-0', 'reviews-v2-0', 'reviews-v3-0', 'stars-v1-0'])
  assert.deepEqual(plan.gateways.map(g => [g.name, g.role]), [['ingress', 'ingress'], ['egress', 'egress']])
  const reviews = plan.instances.find(i => i.id === 'reviews-v2-0')!
  assert.equal(reviews.command, '/usr/bin/node-x')
  assert.deepEqual(reviews.args, ['reviews.mjs'])
  assert.equal(reviews.cwd, fileURLToPath(new URL('../../samples/bookinfo', import.meta.url)))
})

test('replicas become numbered instances; cwd and env come from the Workload', () => {
  const plan = planMesh(parseResources(`apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: echo }
spec: { service: echo, version: v2, replicas: 3, command: [./echo, --fast], cwd: bin, env: { A: b } }
`, '/srv/mesh/mesh.yaml'))
  assert.deepEqual(plan.instances.map(i => i.id), ['echo-v2-0', 'echo-v2-1', 'echo-v2-2'])
  for (const i of plan.instances) {
    assert.equal(i.command, './echo')
    assert.deepEqual(i.args, ['--fast'])
    assert.equal(i.cwd, '/srv/mesh/bin')
    assert.deepEqual(i.env, { A: 'b' })
  }
  assert.deepEqual(plan.gateways, [])
})
