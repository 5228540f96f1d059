import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { client, snapshot, startOrigin, startProxy, type Origin, type RunningProxy } from './helpers.ts'

const route = (name: string, parent: string, rules: unknown[], hostnames?: string[], kind = 'Service') => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name },
  spec: { parentRefs: [{ kind, name: parent }], ...(hostnames ? { hostnames } : {}), rules }
})

let v1: Origin
let v2: Origin
let shadow: Origin
let p: RunningProxy

before(async () => {
  v1 = await startOrigin('v1')
  v2 = await startOrigin('v2')
  shadow = await startOrigin('shadow')
  p = await startProxy(snapshot('r1', {
    reviews: { endpoints: [{ id: 'reviews-v1-0', port: v1.port, version: 'v1' }, { id: 'reviews-v2-0', port: v2.port, version: 'v2' }] },
    shadow: { endpoints: [{ id: 'shadow-0', port: shadow.port }] }
  }, {
    routes: [
      route('reviews', 'reviews', [
        { matches: [{ headers: [{ name: 'x-user', value: 'jason' }] }], backendRefs: [{ name: 'reviews-v2' }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }], backendRefs: [{ name: 'reviews-v2' }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'canary' }], remove: ['x-drop'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-served-by', value: 'mesh' }] } }] },
        { matches: [{ queryParams: [{ name: 'flag', value: 'on' }] }], backendRefs: [{ name: 'reviews-v2' }] },
        { matches: [{ path: { type: 'Exact', value: '/old' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' }, statusCode: 301 } }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/v1api' } }], backendRefs: [{ name: 'reviews-v1' }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/api' } } }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }], backendRefs: [{ name: 'reviews-v1' }],
          filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow' } } }] },
        { matches: [{ path: { type: 'PathPrefix', value: '/split' } }], backendRefs: [{ name: 'reviews-v1', weight: 80 }, { name: 'reviews-v2', weight: 20 }] }
      ])
    ]
  }))
})

after(async () => {
  await p.close()
  await Promise.all([v1.close(), v2.close(), shadow.close()])
})

async function call (method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const c = client(p.outbound)
  try {
    const r = await c.request({ method: method as 'GET', path, headers: { host: 'reviews', ...headers }, body })
    const text = await r.body.text()
    return { status: r.statusCode, headers: r.headers, json: r.statusCode === 200 ? JSON.parse(text) : null, text }
  } finally {
    await c.close()
  }
}

test('header, method+path and query matches pick their backend; unmatched requests get 404 MESH_ERR_NO_ROUTE', async () => {
  assert.equal((await call('GET', '/r', { 'x-user': 'jason' })).json.name, 'v2')
  assert.equal((await call('POST', '/api/x', {}, 'b')).json.name, 'v2')
  assert.equal((await call('GET', '/r?flag=on')).json.name, 'v2')
  const none = await call('GET', '/nothing')
  assert.equal(none.status, 404)
  assert.equal(none.headers['x-meshwork-error'], 'MESH_ERR_NO_ROUTE')
})

test('request and response header modifiers are applied', async () => {
  const r = await call('POST', '/api/x', { 'x-drop': '1', 'x-env': 'prod' }, 'b')
  assert.equal(r.json.headers['x-env'], 'canary')
  assert.equal(r.json.headers['x-drop'], undefined)
  assert.equal(r.headers['x-served-by'], 'mesh')
})

test('redirect answers from the proxy; rewrite changes the path sent upstream', async () => {
  const r = await call('GET', '/old')
  assert.equal(r.status, 301)
  assert.match(String(r.headers.location), /\/new$/)
  const rw = await call('GET', '/v1api/items?q=1')
  assert.equal(rw.json.name, 'v1')
  assert.equal(rw.json.url, '/api/items?q=1')
})

test('mirrors a copy (with body) to the shadow service and ignores its response', async () => {
  const before = shadow.seen.length
  const r = await call('POST', '/mirror/x', {}, 'mirrored-body')
  assert.equal(r.json.name, 'v1')
  const deadline = Date.now() + 5000
  while (shadow.seen.length === before && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
  const copy = shadow.seen.at(-1)!
  assert.equal(copy.url, '/mirror/x')
  assert.equal(copy.body, 'mirrored-body')
})

test('weighted split sends about 80/20', async () => {
  const c = client(p.outbound)
  const counts: Record<string, number> = { v1: 0, v2: 0 }
  try {
    for (let i = 0; i < 400; i++) {
      const r = await c.request({ method: 'GET', path: '/split', headers: { host: 'reviews' } })
      counts[(await r.body.json() as { name: string }).name]++
    }
  } finally {
    await c.close()
  }
  assert.ok(counts.v2 > 40 && counts.v2 < 130, JSON.stringify(counts))
})
