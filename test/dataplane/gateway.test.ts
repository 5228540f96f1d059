import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { client, snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

let productpage: Origin
let p: RunningProxy

before(async () => {
  productpage = await startOrigin('productpage')
  p = await startProxy(snapshot('g1', { productpage: { endpoints: [{ id: 'productpage-v1-0', port: productpage.port }] } }, {
    node: { id: 'ingress-0', role: 'ingress' },
    gateways: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }],
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bookinfo' },
      spec: {
        parentRefs: [{ kind: 'Gateway', name: 'ingress' }],
        hostnames: ['bookinfo.local'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/productpage' } }], backendRefs: [{ name: 'productpage' }] }]
      }
    }]
  }), { gateway: true, gatewayName: 'ingress' })
})

after(async () => {
  await p.close()
  await productpage.close()
})

test('gateway listener routes by Gateway parentRef, hostname and path', async () => {
  const c = client(p.gateway)
  try {
    const ok = await c.request({ method: 'GET', path: '/productpage?u=1', headers: { host: 'bookinfo.local:8080' } })
    assert.equal(ok.statusCode, 200)
    assert.equal((await ok.body.json() as { url: string }).url, '/productpage?u=1')
    for (const [host, path] of [['other.local', '/productpage'], ['bookinfo.local', '/admin']]) {
      const r = await c.request({ method: 'GET', path, headers: { host } })
      assert.equal(r.statusCode, 404, `${host}${path}`)
      assert.equal(r.headers['x-meshwork-error'], 'MESH_ERR_NO_ROUTE')
      await r.body.text()
    }
  } finally {
    await c.close()
  }
})
