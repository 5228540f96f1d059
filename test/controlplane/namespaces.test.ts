import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { startSidecar } from './mesh-harness.ts'
import { until } from './helpers.ts'

const MESH = new URL('./fixtures/namespaces.yaml', import.meta.url).pathname

function get (port: number, host: string): Promise<{ status: number, body: string, error: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, error: String(res.headers['x-meshwork-error'] ?? '') }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('two details in two namespaces coexist: details and details.team-a reach their own instances with their own SPIFFE IDs', async () => {
  const cp = await startControlPlane({ files: [MESH], port: 0 })
  const fe = await startSidecar(cp.url, 'frontend-v1-0', 'frontend', 'v1', false)
  const dDefault = await startSidecar(cp.url, 'details-v1-0', 'details', 'v1', true)
  const dTeamA = await startSidecar(cp.url, 'details-v1-0.team-a', 'details', 'v1', true, 'team-a')
  try {
    for (const id of ['details-v1-0', 'details-v1-0.team-a']) await until(() => cp.registry.proxies.get(id)?.healthy === true, 5000, `${id} healthy`)
    await cp.waitForSync()
    const ids = new Map([...cp.registry.proxies.values()].map(r => [r.id, r.identity]))
    assert.equal(ids.get('details-v1-0'), 'spiffe://test.local/ns/default/sa/details')
    assert.equal(ids.get('details-v1-0.team-a'), 'spiffe://test.local/ns/team-a/sa/details-a')
    const want = async (host: string, body: string): Promise<void> => {
      let last = { status: 0, body: '', error: '' }
      for (let i = 0; i < 100; i++) {
        last = await get(fe.outbound, host)
        if (last.status === 200 && last.body === body) return
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      assert.fail(`${host}: got ${last.status} ${last.error} ${last.body}, want 200 ${body}`)
    }
    await want('details', 'details-v1-0')
    await want('details:9080', 'details-v1-0')
    await want('details.default.svc.cluster.local', 'details-v1-0')
    await want('details.team-a', 'details-v1-0.team-a')
    await want('details.team-a:9080', 'details-v1-0.team-a')
    await want('details.team-a.svc.cluster.local', 'details-v1-0.team-a')
    await want('details-v1.team-a', 'details-v1-0.team-a')
    const unknown = await get(fe.outbound, 'details.team-b')
    assert.equal(unknown.error, 'MESH_ERR_NO_ROUTE')
  } finally {
    await fe.close(); await dDefault.close(); await dTeamA.close()
    await cp.close()
  }
})

test('a cross-namespace backendRef gets traffic only with a ReferenceGrant in the target namespace', async () => {
  const cp = await startControlPlane({ files: [MESH], port: 0 })
  const fe = await startSidecar(cp.url, 'frontend-v1-0', 'frontend', 'v1', false)
  const dDefault = await startSidecar(cp.url, 'details-v1-0', 'details', 'v1', true)
  const dTeamA = await startSidecar(cp.url, 'details-v1-0.team-a', 'details', 'v1', true, 'team-a')
  try {
    const route = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: to-team-a }
spec:
  parentRefs: [{ kind: Service, name: details }]
  rules: [{ backendRefs: [{ name: details, weight: 1 }, { name: details, namespace: team-a, weight: 1 }] }]
`
    assert.equal((await cp.apply(route)).ok, true)
    await cp.waitForSync()
    const bodies = async (): Promise<Set<string>> => {
      const out = new Set<string>()
      for (let i = 0; i < 40; i++) { const r = await get(fe.outbound, 'details'); if (r.status === 200) out.add(r.body) }
      return out
    }
    assert.deepEqual([...await bodies()], ['details-v1-0'], 'no grant: the team-a backendRef gets weight 0')
    const grant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: from-default, namespace: team-a }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default }]
  to: [{ group: '', kind: Service, name: details }]
`
    assert.equal((await cp.apply(grant)).ok, true)
    await cp.waitForSync()
    let seen = new Set<string>()
    for (let i = 0; i < 20 && seen.size < 2; i++) seen = await bodies()
    assert.deepEqual([...seen].sort(), ['details-v1-0', 'details-v1-0.team-a'])
    const dotted = await cp.apply(route.replace('{ name: details, namespace: team-a, weight: 1 }', '{ name: details.team-a, weight: 1 }'))
    assert.equal(dotted.ok, false)
    assert.match(dotted.problems?.[0].reason ?? '', /write name: details and namespace: team-a/)
  } finally {
    await fe.close(); await dDefault.close(); await dTeamA.close()
    await cp.close()
  }
})
