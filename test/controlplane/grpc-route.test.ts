// GRPCRoute through the control plane: compiled into each proxy's snapshot, checked for conflicts like HTTPRoute
// (plus the Gateway API's HTTPRoute-vs-GRPCRoute rules), listed by /v1/routes, refused on apply with its reason.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseResources } from '../../src/config/load.ts'
import { checkSnapshot } from '../../src/config/snapshot.ts'
import { compileSnapshot } from '../../src/controlplane/compile.ts'
import { findConflicts } from '../../src/controlplane/conflicts.ts'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { buildMeshView } from '../../src/controlplane/mesh-view.ts'
import { ProxyHello } from '../../src/controlplane/protocol.ts'
import { Registry } from '../../src/controlplane/registry.ts'

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: frontend }
spec: { service: frontend, port: 8000, command: [node, f.mjs] }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: stars-v1 }
spec: { service: stars, version: v1, port: 9080, protocol: h2, command: [node, s.mjs] }
---
apiVersion: meshwork.dev/v1alpha1
kind: Workload
metadata: { name: stars-v2 }
spec: { service: stars, version: v2, port: 9080, protocol: h2, command: [node, s.mjs] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ingress }
spec: { listeners: [{ name: http, port: 8080 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: stars }
spec:
  parentRefs: [{ kind: Service, name: stars, port: 9080 }]
  rules:
    - matches: [{ method: { service: bookinfo.stars.v1.Stars, method: GetStars }, headers: [{ name: end-user, value: jason }] }]
      backendRefs: [{ name: stars-v2 }]
    - backendRefs: [{ name: stars-v1, weight: 90 }, { name: stars-v2, weight: 10 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: stars-ingress }
spec:
  parentRefs: [{ kind: Gateway, name: ingress }]
  hostnames: [grpc.example.com]
  rules:
    - backendRefs: [{ name: stars }]
`

const cleanups: (() => Promise<unknown>)[] = []
after(async () => { for (const c of cleanups.reverse()) await c() })

function compileFor (text: string, hello: unknown) {
  const view = buildMeshView(parseResources(text, 'mesh.yaml'))
  const registry = new Registry({ trustDomain: 'cluster.local' })
  registry.view = view
  return checkSnapshot(compileSnapshot({ view, endpoints: (ns, s) => registry.endpoints(ns, s), trustDomain: 'cluster.local', version: '1' }, ProxyHello.parse(hello)))
}

test('sidecars get the Service GRPCRoutes, a gateway its own and their backends', () => {
  const sidecar = compileFor(MESH, { id: 'frontend-v1-0', service: 'frontend', version: 'v1', inbound: { port: 15001 }, app: { port: 9001 } })
  assert.deepEqual(sidecar.grpcRoutes.map(r => r.metadata.name), ['stars'])
  assert.deepEqual(sidecar.routes, [])
  const stars = compileFor(MESH, { id: 'stars-v1-0', service: 'stars', version: 'v1', inbound: { port: 15002 }, app: { port: 9002 } })
  assert.equal(stars.localApp?.protocol, 'h2')
  const gw = compileFor(MESH, { id: 'ingress-0', role: 'ingress', gateway: { name: 'ingress' } })
  assert.deepEqual(gw.grpcRoutes.map(r => r.metadata.name), ['stars-ingress'])
  assert.deepEqual(gw.services.map(s => s.name), ['stars'])
})

test('check: unknown GRPCRoute backends, same-match rules and an HTTPRoute a GRPCRoute displaces, with file and line', () => {
  const extra = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: zz-stars }
spec:
  parentRefs: [{ kind: Service, name: stars, port: 9080 }]
  rules:
    - matches: [{ headers: [{ name: End-User, value: jason }], method: { service: bookinfo.stars.v1.Stars, method: GetStars } }]
      backendRefs: [{ name: stars-v3 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: stars-http }
spec:
  parentRefs: [{ kind: Service, name: frontend }, { kind: Service, name: stars }]
  rules:
    - backendRefs: [{ name: stars }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: aa-web }
spec:
  parentRefs: [{ kind: Gateway, name: ingress }]
  rules:
    - backendRefs: [{ name: frontend }]
`
  const problems = findConflicts(parseResources(MESH + extra, 'mesh.yaml'))
  const got = problems.map(p => `${p.resource} ${p.file}:${p.line} ${p.path}`).sort()
  assert.deepEqual(got, [
    'GRPCRoute/stars-ingress mesh.yaml:31 spec.parentRefs[0]',
    'GRPCRoute/zz-stars mesh.yaml:41 spec.rules[0].backendRefs[0].name',
    'GRPCRoute/zz-stars mesh.yaml:41 spec.rules[0].matches[0]',
    'HTTPRoute/stars-http mesh.yaml:50 spec.parentRefs[1]'
  ])
  const displaced = problems.find(p => p.resource === 'HTTPRoute/stars-http')!
  assert.match(displaced.reason, /GRPCRoute\/stars is attached to Service\/stars, so HTTPRoute\/stars-http is ignored there/)
  const ingress = problems.find(p => p.resource === 'GRPCRoute/stars-ingress')!
  assert.match(ingress.reason, /HTTPRoute\/aa-web wins/)
  assert.deepEqual(findConflicts(parseResources(MESH, 'mesh.yaml')), [])
})

test('the control plane lists GRPCRoutes in /v1/routes and refuses an HTTPRoute they would displace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshwork-grpcroute-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'mesh.yaml')
  await writeFile(file, MESH)
  const cp = await startControlPlane({ files: [file], host: '127.0.0.1', port: 0, dataDir: join(dir, 'data') })
  cleanups.push(() => cp.close())
  const routes = await (await fetch(`${cp.url}/v1/routes`)).json() as { kind: string, name: string, rules: { matches: string[], backends: string[] }[] }[]
  const stars = routes.find(r => r.name === 'stars')!
  assert.equal(stars.kind, 'GRPCRoute')
  assert.deepEqual(stars.rules, [
    { matches: ['bookinfo.stars.v1.Stars/GetStars end-user:jason'], backends: ['stars-v2=1'] },
    { matches: ['*'], backends: ['stars-v1=90', 'stars-v2=10'] }
  ])
  const r = await cp.apply('apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: stars }\nspec:\n  parentRefs: [{ name: stars }]\n  rules: [{ backendRefs: [{ name: stars-v1 }] }]\n', 'http.yaml')
  assert.equal(r.ok, false)
  assert.match(JSON.stringify(r.problems), /HTTPRoute\/stars is ignored there/)
})

test('meshwork check on Bookinfo: an HTTPRoute on the gRPC service stars is refused with its file, path and reason', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshwork-grpc-check-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'stars-http.yaml')
  await writeFile(file, 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: stars-http }\nspec:\n  parentRefs: [{ name: stars, port: 9080 }]\n  rules: [{ backendRefs: [{ name: stars }] }]\n')
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname
  const bookinfo = new URL('../../samples/bookinfo/mesh.yaml', import.meta.url).pathname
  const out = await new Promise<{ code: number, stdout: string }>(resolve => {
    execFile(process.execPath, ['--import', 'tsx', main, 'check', '--base', bookinfo, '-f', file, '-o', 'json'], { timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout })
    })
  })
  assert.equal(out.code, 1)
  const r = JSON.parse(out.stdout) as { code: string, problems: { file: string, path: string, resource: string, reason: string }[] }
  assert.equal(r.code, 'MESH_ERR_CONFIG_CONFLICT')
  assert.deepEqual(r.problems.map(p => [p.file, p.resource, p.path]), [[file, 'HTTPRoute/stars-http', 'spec.parentRefs[0]']])
  assert.match(r.problems[0].reason, /GRPCRoute\/stars is attached to Service\/stars/)
})
