// Replicas: every replica of a Workload gets its own sidecar and app, all of them take traffic, and a
// replica whose app is killed leaves the load balancer until its restart, without client errors.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type LocalMesh, startLocalMesh } from '../../src/runtime/local-mesh.ts'
import { alive, closeClients, get, sumMetric, waitUntil } from './http-client.ts'

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'meshwork-replicas-'))
let mesh: LocalMesh

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: ${process.env.MESHWORK_E2E_MTLS ?? 'STRICT'} } }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: ratings-v1 }
spec: { service: ratings, version: v1, port: 9080, replicas: 3, command: [node, ratings.mjs], cwd: ${JSON.stringify(BOOKINFO)} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ingress }
spec: { gatewayClassName: meshwork, listeners: [{ name: http, port: 8080 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ratings-in }
spec:
  parentRefs: [{ kind: Gateway, name: ingress }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /ratings } }]
      backendRefs: [{ name: ratings, port: 9080 }]
      retry: { attempts: 3, backoff: 10ms, codes: [502, 503, 504] }
---
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: ratings }
spec: { targetRef: { name: ratings }, loadBalancer: { type: RoundRobin } }
`

before(async () => {
  writeFileSync(join(dir, 'mesh.yaml'), MESH)
  mesh = await startLocalMesh({ files: [join(dir, 'mesh.yaml')], dataDir: join(dir, 'data'), ingressPort: 0, controlPort: 0, echo: null, restartBackoffMs: 2500 })
})

after(async () => {
  await mesh?.stop()
  closeClients()
  rmSync(dir, { recursive: true, force: true })
})

async function ingressEndpoint (id: string): Promise<{ healthy: boolean } | undefined> {
  type Snap = { services: { name: string, endpoints: { id: string, healthy: boolean }[] }[] }
  const body = JSON.parse((await get(`${mesh.proxies.find(p => p.role === 'ingress')!.adminUrl}/config`)).body) as Snap & { snapshot?: Snap }
  return (body.snapshot ?? body).services.find(s => s.name === 'ratings')?.endpoints.find(e => e.id === id)
}

async function instances (n: number): Promise<{ ok: number, failed: string[], seen: Set<string> }> {
  const seen = new Set<string>()
  const failed: string[] = []
  let ok = 0
  for (let i = 0; i < n; i++) {
    try {
      const r = await get(`${mesh.ingressUrl}/ratings/0`)
      if (r.status === 200) {
        ok++
        seen.add((JSON.parse(r.body) as { instance: string }).instance)
      } else failed.push(`${r.status} ${String(r.headers['x-meshwork-error'] ?? '')}`)
    } catch (err) {
      failed.push((err as NodeJS.ErrnoException).code ?? 'error')
    }
  }
  return { ok, failed, seen }
}

test('three replicas each run behind their own sidecar and all take traffic', async () => {
  assert.deepEqual(mesh.apps.map(a => a.id), ['ratings-v1-0', 'ratings-v1-1', 'ratings-v1-2'])
  assert.equal(new Set(mesh.apps.map(a => a.port)).size, 3)
  assert.equal(new Set(mesh.apps.map(a => a.sidecar.inboundPort)).size, 3)
  const r = await instances(12)
  assert.deepEqual(r.failed, [])
  assert.deepEqual([...r.seen].sort(), ['ratings-v1-0', 'ratings-v1-1', 'ratings-v1-2'])
})

test('a killed replica leaves the balancer while down and comes back after its restart', async () => {
  const victim = mesh.app('ratings-v1-1')!
  const pid = victim.process.pid!
  process.kill(pid, 'SIGKILL')
  const record = (): { healthy: boolean } | undefined => mesh.controlPlane.registry.proxies.get('ratings-v1-1')
  await waitUntil(() => record()?.healthy === false, 'control plane to see ratings-v1-1 down', 20_000, 20)
  await waitUntil(async () => (await ingressEndpoint('ratings-v1-1'))?.healthy === false, 'ingress snapshot to mark ratings-v1-1 down', 20_000, 20)
  // While it is down: no client errors, and its sidecar receives no calls at all (it left the balancer).
  const callsBefore = sumMetric((await get(victim.sidecar.metricsUrl)).body, 'meshwork_requests_total')
  const down = await instances(9)
  const callsAfter = sumMetric((await get(victim.sidecar.metricsUrl)).body, 'meshwork_requests_total')
  assert.deepEqual(down.failed, [])
  if (victim.process.restarts === 0) assert.equal(callsAfter, callsBefore, 'a down replica was sent traffic')
  await waitUntil(() => victim.process.restarts >= 1 && record()?.healthy === true, 'restart and healthy again', 30_000)
  assert.equal(alive(pid), false)
  await waitUntil(async () => (await instances(6)).seen.has('ratings-v1-1'), 'ratings-v1-1 serving again', 30_000, 200)
})

test('replicas follow the config: applying replicas 4 starts a fourth instance, replicas 2 stops two', async () => {
  const workload = (replicas: number): string => MESH.split('---\n').find(d => d.includes('kind: Workload'))!.replace('replicas: 3', `replicas: ${replicas}`)
  const up = await mesh.controlPlane.apply(workload(4), 'scale-up.yaml')
  assert.equal(up.ok, true, JSON.stringify(up.problems))
  const r1 = await mesh.reconcile()
  assert.deepEqual(r1.failed, [])
  assert.deepEqual(mesh.apps.map(a => a.id), ['ratings-v1-0', 'ratings-v1-1', 'ratings-v1-2', 'ratings-v1-3'])
  await waitUntil(async () => (await instances(8)).seen.has('ratings-v1-3'), 'ratings-v1-3 to take traffic', 30_000, 200)

  const gone = mesh.apps.filter(a => a.id === 'ratings-v1-2' || a.id === 'ratings-v1-3')
  const gonePids = gone.flatMap(a => [a.process.pid!, a.sidecar.process.pid!])
  const down = await mesh.controlPlane.apply(workload(2), 'scale-down.yaml')
  assert.equal(down.ok, true)
  await mesh.reconcile()
  assert.deepEqual(mesh.apps.map(a => a.id), ['ratings-v1-0', 'ratings-v1-1'])
  assert.deepEqual(mesh.proxies.filter(p => p.role === 'sidecar').map(p => p.id), ['ratings-v1-0', 'ratings-v1-1'])
  for (const pid of gonePids) assert.equal(alive(pid), false)
  // Once the control plane drops the stopped endpoints, only the two remaining instances answer.
  await waitUntil(async () => {
    const r = await instances(6)
    return r.failed.length === 0 && [...r.seen].every(id => id === 'ratings-v1-0' || id === 'ratings-v1-1')
  }, 'traffic on the two remaining instances only', 30_000, 200)
})
