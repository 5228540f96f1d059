import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, type Server, createServer } from 'node:http'
import { type AddressInfo, type Socket, createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parse } from 'yaml'
import { parseResources } from '../../src/config/index.ts'
import { runApplyKubernetes } from '../../src/adapters/kubernetes/apply-cli.ts'
import { applyToKubernetes } from '../../src/adapters/kubernetes/apply.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-kube-'))
const closers: (() => Promise<void>)[] = []
after(async () => {
  for (const c of closers) await c()
  rmSync(dir, { recursive: true, force: true })
})

const mesh = parseResources(`apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: PERMISSIVE } }
---
apiVersion: meshwork.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: ratings }
spec:
  targetRef: { name: ratings }
  rules: [{ from: [{ identities: ["spiffe://cluster.local/ns/default/sa/reviews"] }] }]
`, 'mesh.yaml').map(l => l.resource)
writeFileSync(join(dir, 'mesh.yaml'), `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: {}
`)

function kubeconfig (name: string, server: string): string {
  const file = join(dir, name)
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters: [{ name: test, cluster: { server: "${server}"${server.startsWith('http:') ? ', insecure-skip-tls-verify: true' : ''} } }]
users: [{ name: test, user: { token: test-token } }]
contexts: [{ name: test, context: { cluster: test, user: test } }]
current-context: test
`)
  return file
}

async function closedPort (): Promise<number> {
  const s = createTcpServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

const isCode = (code: string) => (err: Error & { code?: string }) => { assert.equal(err.code, code); return true }

test('no kubeconfig anywhere: MESH_ERR_KUBECONFIG_MISSING', async () => {
  await assert.rejects(applyToKubernetes(mesh, { env: {}, home: dir }), isCode('MESH_ERR_KUBECONFIG_MISSING'))
  await assert.rejects(applyToKubernetes(mesh, { kubeconfig: join(dir, 'absent'), env: {} }), isCode('MESH_ERR_KUBECONFIG_MISSING'))
})

test('a kubeconfig pointing at a closed loopback port: MESH_ERR_KUBE_UNREACHABLE, promptly', async () => {
  const file = kubeconfig('closed.yaml', `https://127.0.0.1:${await closedPort()}`)
  const t0 = Date.now()
  await assert.rejects(applyToKubernetes(mesh, { kubeconfig: file, timeoutMs: 30_000 }), isCode('MESH_ERR_KUBE_UNREACHABLE'))
  assert.ok(Date.now() - t0 < 20_000, 'refused connections fail at once, not at the timeout')
  // Same through the command (what `meshwork apply --kubernetes` runs): the error reaches main, which exits 1.
  await assert.rejects(runApplyKubernetes(['--kubernetes', '-f', join(dir, 'mesh.yaml'), '--kubeconfig', file]), isCode('MESH_ERR_KUBE_UNREACHABLE'))
})

test('an API server that accepts but never answers: MESH_ERR_KUBE_UNREACHABLE after the timeout, no hang', async () => {
  const sockets = new Set<Socket>()
  const silent = createTcpServer(s => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise(resolve => { for (const s of sockets) s.destroy(); silent.close(() => resolve()) }))
  const file = kubeconfig('silent.yaml', `http://127.0.0.1:${(silent.address() as AddressInfo).port}`)
  await assert.rejects(applyToKubernetes(mesh, { kubeconfig: file, timeoutMs: 1000 }), isCode('MESH_ERR_KUBE_UNREACHABLE'))
})

interface Seen { method: string, url: string, contentType?: string, body: string }

/** A loopback HTTP server answering the few Kubernetes API calls server-side apply makes. */
async function apiServer (reject?: (req: IncomingMessage) => boolean): Promise<{ url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  const resources: Record<string, { name: string, kind: string, namespaced: boolean }[]> = {
    '/api/v1': [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }, { name: 'namespaces', kind: 'Namespace', namespaced: false }, { name: 'services', kind: 'Service', namespaced: true }],
    '/apis/security.istio.io/v1beta1': [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true }, { name: 'authorizationpolicies', kind: 'AuthorizationPolicy', namespaced: true }],
    '/apis/telemetry.istio.io/v1alpha1': [{ name: 'telemetries', kind: 'Telemetry', namespaced: true }]
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method!, url: req.url!, contentType: req.headers['content-type'], body })
      const path = req.url!.split('?')[0]
      res.setHeader('content-type', 'application/json')
      if (req.method === 'GET' && resources[path] !== undefined) {
        res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: path.replace(/^\/apis?\//, ''), resources: resources[path].map(r => ({ ...r, singularName: '', verbs: ['get', 'patch'] })) }))
      } else if (req.method === 'PATCH') {
        if (reject?.(req) === true) {
          res.statusCode = 422
          res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'spec.mtls.mode: Unsupported value', reason: 'Invalid', code: 422 }))
        } else {
          res.end(JSON.stringify(parse(body)))
        }
      } else {
        res.statusCode = 404
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `not found ${path}`, reason: 'NotFound', code: 404 }))
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

test('server-side apply: the config goes to the meshwork-mesh ConfigMap with field manager meshwork', async () => {
  const api = await apiServer()
  const file = kubeconfig('api.yaml', api.url)
  const r = await applyToKubernetes(mesh, { kubeconfig: file, timeoutMs: 10_000 })
  assert.deepEqual(r.applied, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'meshwork', name: 'meshwork-mesh' }])
  const patch = api.seen.find(s => s.method === 'PATCH')!
  assert.equal(patch.contentType, 'application/apply-patch+yaml')
  const url = new URL(patch.url, api.url)
  assert.equal(url.pathname, '/api/v1/namespaces/meshwork/configmaps/meshwork-mesh')
  assert.equal(url.searchParams.get('fieldManager'), 'meshwork')
  assert.equal(url.searchParams.get('force'), 'true')
  const sent = parse(patch.body)
  assert.match(sent.data['mesh.yaml'], /kind: AuthorizationPolicy/)
})

test('server-side apply --to istio applies the translated resources; a refusal is MESH_ERR_KUBE_REJECTED', async () => {
  const api = await apiServer(req => req.url!.includes('authorizationpolicies'))
  const file = kubeconfig('api-istio.yaml', api.url)
  await assert.rejects(applyToKubernetes(mesh, { kubeconfig: file, to: 'istio', timeoutMs: 10_000 }), isCode('MESH_ERR_KUBE_REJECTED'))
  const patched = api.seen.filter(s => s.method === 'PATCH').map(s => new URL(s.url, api.url).pathname)
  assert.deepEqual(patched, [
    '/apis/security.istio.io/v1beta1/namespaces/istio-system/peerauthentications/default',
    '/apis/telemetry.istio.io/v1alpha1/namespaces/istio-system/telemetries/mesh-default',
    '/apis/security.istio.io/v1beta1/namespaces/default/authorizationpolicies/ratings'
  ])
})
