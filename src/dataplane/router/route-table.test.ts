import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileRouteTable } from './route-table.ts'
import { req, route, snapshot } from './test-fixtures.ts'

const svc = (name: string) => [{ kind: 'Service', name }]
const to = (name: string) => [{ name }]

test('outbound: a service without routes gets the default rule to itself', () => {
  const t = compileRouteTable(snapshot(), 'outbound')
  const r = t.match(req('ratings:9080', '/ratings/0'))!
  assert.equal(r.route, 'default')
  assert.equal(r.service, 'ratings')
  assert.deepEqual(r.rule.pickBackend(), { cluster: 'ratings', service: 'ratings', version: null })
  assert.equal(r.rule.retry, null)
})

test('outbound: a call to a subset goes to that subset by default', () => {
  const t = compileRouteTable(snapshot(), 'outbound')
  const r = t.match(req('reviews-v2', '/'))!
  assert.equal(r.route, 'default')
  assert.equal(r.service, 'reviews')
  assert.deepEqual(r.rule.pickBackend(), { cluster: 'reviews-v2', service: 'reviews', version: 'v2' })
})

test('outbound: unknown authorities get no route', () => {
  const t = compileRouteTable(snapshot(), 'outbound')
  assert.equal(t.match(req('example.com', '/')), null)
  assert.equal(t.match(req('[::1]:9080', '/')), null)
})

test('outbound: routes attached to a service decide its calls (Bookinfo jason → v2)', () => {
  const t = compileRouteTable(snapshot([route('reviews', {
    parentRefs: svc('reviews'),
    rules: [
      { matches: [{ headers: [{ name: 'end-user', value: 'jason' }] }], backendRefs: to('reviews-v2') },
      { backendRefs: to('reviews-v1') }
    ]
  })]), 'outbound')
  const jason = t.match(req('reviews:9080', '/reviews/0', { headers: ['end-user', 'jason'] }))!
  assert.equal(jason.route, 'reviews')
  assert.equal(jason.rule.index, 0)
  assert.equal(jason.rule.pickBackend().cluster, 'reviews-v2')
  assert.equal(t.match(req('reviews.default.svc.cluster.local', '/'))!.rule.pickBackend().cluster, 'reviews-v1')
})

test('outbound: a routed service answers null when no rule matches', () => {
  const t = compileRouteTable(snapshot([route('r', { parentRefs: svc('reviews'), rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/reviews' } }], backendRefs: to('reviews') }] })]), 'outbound')
  assert.equal(t.match(req('reviews', '/other')), null)
  assert.notEqual(t.match(req('reviews', '/reviews/1')), null)
})

test('outbound: routes on the service do not apply to calls to its subset, and vice versa', () => {
  const t = compileRouteTable(snapshot([
    route('all-v1', { parentRefs: svc('reviews'), rules: [{ backendRefs: to('reviews-v1') }] }),
    route('v3-to-v2', { parentRefs: svc('reviews-v3'), rules: [{ backendRefs: to('reviews-v2') }] })
  ]), 'outbound')
  assert.equal(t.match(req('reviews', '/'))!.rule.pickBackend().cluster, 'reviews-v1')
  assert.equal(t.match(req('reviews-v2', '/'))!.route, 'default')
  assert.equal(t.match(req('reviews-v3', '/'))!.rule.pickBackend().cluster, 'reviews-v2')
})

test('outbound: gateway routes and parentRefs on another port are ignored', () => {
  const t = compileRouteTable(snapshot([
    route('gw', { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], rules: [{ backendRefs: to('reviews-v3') }] }),
    route('port', { parentRefs: [{ kind: 'Service', name: 'ratings', port: 1234 }], rules: [{ backendRefs: to('reviews-v3') }] })
  ]), 'outbound')
  assert.equal(t.match(req('reviews', '/'))!.route, 'default')
  assert.equal(t.match(req('ratings', '/'))!.route, 'default')
})

test('outbound: weighted split picks by the given random number', () => {
  const t = compileRouteTable(snapshot([route('split', {
    parentRefs: svc('reviews'),
    rules: [{ backendRefs: [{ name: 'reviews-v1', weight: 80 }, { name: 'reviews-v3', weight: 20 }] }]
  })]), 'outbound')
  const rule = t.match(req('reviews', '/'))!.rule
  assert.equal(rule.pickBackend(0.5).cluster, 'reviews-v1')
  assert.equal(rule.pickBackend(0.85).cluster, 'reviews-v3')
})

test('outbound: a route with two parents compiles its rules once', () => {
  const t = compileRouteTable(snapshot([route('both', { parentRefs: [...svc('reviews'), ...svc('ratings')], rules: [{ backendRefs: to('ratings') }] })]), 'outbound')
  assert.equal(t.match(req('reviews', '/'))!.rule, t.match(req('ratings', '/'))!.rule)
  assert.equal(t.match(req('reviews', '/'))!.service, 'reviews')
  assert.equal(t.match(req('ratings', '/'))!.service, 'ratings')
})

// --- precedence (Gateway API): table-driven ---
// Each case: the routes (name → matches), a request, and the route[/rule] that must win.
interface PrecedenceCase { name: string, routes: [string, unknown[][]][], request: [string, { method?: string, headers?: string[] }?], want: string | null }

const P = (value: string) => ({ path: { type: 'PathPrefix', value } })
const E = (value: string) => ({ path: { type: 'Exact', value } })
const R = (value: string) => ({ path: { type: 'RegularExpression', value } })

const PRECEDENCE: PrecedenceCase[] = [
  { name: 'Exact beats a longer PathPrefix', routes: [['a', [[E('/api')]]], ['b', [[P('/api')]]]], request: ['/api'], want: 'a/0' },
  { name: 'Exact beats PathPrefix declared first', routes: [['a', [[P('/login')]]], ['b', [[E('/login')]]]], request: ['/login'], want: 'b/0' },
  { name: 'longest PathPrefix wins', routes: [['a', [[P('/')]]], ['b', [[P('/api')]]], ['c', [[P('/api/v1')]]]], request: ['/api/v1/users'], want: 'c/0' },
  { name: 'PathPrefix beats RegularExpression', routes: [['a', [[R('/api/.*')]]], ['b', [[P('/api')]]]], request: ['/api/x'], want: 'b/0' },
  { name: 'regex used when no prefix matches', routes: [['a', [[R('/u/[0-9]+')]]], ['b', [[P('/api')]]]], request: ['/u/7'], want: 'a/0' },
  { name: 'segment boundary: /foo does not claim /foobar', routes: [['a', [[P('/foo')]]], ['b', [[P('/')]]]], request: ['/foobar'], want: 'b/0' },
  { name: 'method beats headers at equal path', routes: [['a', [[{ ...P('/'), headers: [{ name: 'x', value: '1' }] }]]], ['b', [[{ ...P('/'), method: 'GET' }]]]], request: ['/', { headers: ['x', '1'] }], want: 'b/0' },
  { name: 'path beats method', routes: [['a', [[{ ...P('/'), method: 'GET' }]]], ['b', [[P('/x')]]]], request: ['/x'], want: 'b/0' },
  { name: 'more headers win', routes: [['a', [[{ headers: [{ name: 'x', value: '1' }] }]]], ['b', [[{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }]]]], request: ['/', { headers: ['x', '1', 'y', '2'] }], want: 'b/0' },
  { name: 'more query params win', routes: [['a', [[{ queryParams: [{ name: 'a', value: '1' }] }]]], ['b', [[{ queryParams: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }]]]], request: ['/?a=1&b=2'], want: 'b/0' },
  { name: 'headers beat query params', routes: [['a', [[{ queryParams: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }]]], ['b', [[{ headers: [{ name: 'x', value: '1' }] }]]]], request: ['/?a=1&b=2', { headers: ['x', '1'] }], want: 'b/0' },
  { name: 'a more specific rule that does not match falls through', routes: [['a', [[{ headers: [{ name: 'x', value: '1' }] }]]], ['b', [[P('/')]]]], request: ['/', { headers: ['x', '2'] }], want: 'b/0' },
  { name: 'ties go to the alphabetically first route', routes: [['zeta', [[P('/')]]], ['alpha', [[P('/')]]]], request: ['/'], want: 'alpha/0' },
  { name: 'ties inside a route go to the first rule', routes: [['a', [[P('/x')], [P('/x')]]]], request: ['/x'], want: 'a/0' },
  { name: 'precedence crosses rules in one route', routes: [['a', [[P('/')], [E('/x')]]]], request: ['/x'], want: 'a/1' },
  { name: 'no match → null', routes: [['a', [[E('/x')]]]], request: ['/y'], want: null }
]

test('precedence follows Gateway API (table)', () => {
  for (const c of PRECEDENCE) {
    const routes = c.routes.map(([name, rules]) => route(name, {
      parentRefs: svc('reviews'),
      rules: rules.map(matches => ({ matches, backendRefs: to('reviews') }))
    }))
    const t = compileRouteTable(snapshot(routes), 'outbound')
    const [target, opts] = c.request
    const r = t.match(req('reviews', target, opts ?? {}))
    assert.equal(r === null ? null : `${r.route}/${r.rule.index}`, c.want, c.name)
  }
})

// --- gateway mode ---
function gatewayTable (routes: unknown[]) {
  const gateways = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }]
  return compileRouteTable(snapshot(routes, { gateways, node: { id: 'gw', role: 'ingress' } }), 'gateway', 'ingress')
}
const gw = [{ kind: 'Gateway', name: 'ingress' }]

test('gateway: only routes attached to this gateway apply, with no default', () => {
  const t = gatewayTable([
    route('mine', { parentRefs: gw, rules: [{ matches: [P('/productpage')], backendRefs: to('productpage') }] }),
    route('other-gw', { parentRefs: [{ kind: 'Gateway', name: 'egress' }], rules: [{ backendRefs: to('ratings') }] }),
    route('mesh', { parentRefs: svc('productpage'), rules: [{ backendRefs: to('ratings') }] })
  ])
  const r = t.match(req('bookinfo.local:8080', '/productpage'))!
  assert.equal(r.route, 'mine')
  assert.equal(r.service, 'productpage')
  assert.equal(t.match(req('bookinfo.local', '/other')), null)
  assert.equal(t.match(req('productpage', '/other')), null, 'service names get no default on a gateway')
})

test('gateway: hostnames filter routes, exact and wildcard', () => {
  const t = gatewayTable([
    route('exact', { parentRefs: gw, hostnames: ['shop.example.com'], rules: [{ backendRefs: to('productpage') }] }),
    route('wild', { parentRefs: gw, hostnames: ['*.example.com'], rules: [{ backendRefs: to('reviews') }] })
  ])
  assert.equal(t.match(req('shop.example.com', '/'))!.route, 'exact')
  assert.equal(t.match(req('SHOP.example.com:8080', '/'))!.route, 'exact')
  assert.equal(t.match(req('a.example.com', '/'))!.route, 'wild')
  assert.equal(t.match(req('a.b.example.com', '/'))!.route, 'wild')
  assert.equal(t.match(req('example.com', '/')), null, 'a wildcard needs at least one label')
  assert.equal(t.match(req('example.org', '/')), null)
})

test('gateway: a more specific hostname wins before path precedence', () => {
  const t = gatewayTable([
    route('any-host', { parentRefs: gw, rules: [{ matches: [E('/x')], backendRefs: to('ratings') }] }),
    route('wild', { parentRefs: gw, hostnames: ['*.example.com'], rules: [{ matches: [P('/x')], backendRefs: to('reviews') }] }),
    route('longer-wild', { parentRefs: gw, hostnames: ['*.shop.example.com'], rules: [{ backendRefs: to('details') }] }),
    route('exact', { parentRefs: gw, hostnames: ['a.example.com'], rules: [{ matches: [P('/')], backendRefs: to('productpage') }] })
  ])
  assert.equal(t.match(req('a.example.com', '/x'))!.route, 'exact')
  assert.equal(t.match(req('b.example.com', '/x'))!.route, 'wild')
  assert.equal(t.match(req('b.shop.example.com', '/x'))!.route, 'longer-wild')
  assert.equal(t.match(req('other.org', '/x'))!.route, 'any-host')
  assert.equal(t.match(req('b.example.com', '/y')), null)
})

test('gateway: falls back to less specific hostnames when the specific route does not match', () => {
  const t = gatewayTable([
    route('exact', { parentRefs: gw, hostnames: ['a.example.com'], rules: [{ matches: [P('/api')], backendRefs: to('productpage') }] }),
    route('catch-all', { parentRefs: gw, rules: [{ backendRefs: to('details') }] })
  ])
  assert.equal(t.match(req('a.example.com', '/api/1'))!.route, 'exact')
  assert.equal(t.match(req('a.example.com', '/static'))!.route, 'catch-all')
})

test('gateway: redirect rules carry the gateway name as service', () => {
  const t = gatewayTable([route('to-https', { parentRefs: gw, rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] }] })])
  const r = t.match(req('shop.example.com:8080', '/cart?x=1'))!
  assert.equal(r.service, 'ingress')
  assert.deepEqual(r.rule.redirect!(req('shop.example.com:8080', '/cart?x=1')), { status: 302, location: 'https://shop.example.com/cart?x=1' })
})

test('gateway: the service is the heaviest backend of the rule', () => {
  const t = gatewayTable([route('split', { parentRefs: gw, rules: [{ backendRefs: [{ name: 'ratings', weight: 1 }, { name: 'reviews-v2', weight: 9 }] }] })])
  assert.equal(t.match(req('h', '/'))!.service, 'reviews')
})

test('gateway: the candidate cache does not change answers', () => {
  const t = gatewayTable([route('exact', { parentRefs: gw, hostnames: ['a.example.com'], rules: [{ backendRefs: to('productpage') }] })])
  for (let i = 0; i < 3; i++) {
    assert.equal(t.match(req('a.example.com', '/'))?.route, 'exact')
    assert.equal(t.match(req('b.example.com', '/')), null)
  }
})

test('gateway mode without a gateway name is a programming error', () => {
  assert.throws(() => compileRouteTable(snapshot(), 'gateway'), TypeError)
})

test('an invalid regular expression rejects the table with MESH_ERR_SNAPSHOT_REJECTED', () => {
  for (const match of [
    { path: { type: 'RegularExpression', value: '/(unclosed' } },
    { headers: [{ type: 'RegularExpression', name: 'x', value: '[' }] },
    { queryParams: [{ type: 'RegularExpression', name: 'q', value: '*' }] }
  ]) {
    const snap = snapshot([route('bad', { parentRefs: svc('reviews'), rules: [{ matches: [match], backendRefs: to('reviews') }] })])
    assert.throws(() => compileRouteTable(snap, 'outbound'), (err: unknown) => (err as { code?: string }).code === 'MESH_ERR_SNAPSHOT_REJECTED')
  }
})

test('gateway: listeners that all name a hostname restrict the hosts served', () => {
  const gateways = [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'ingress' },
    spec: { listeners: [{ name: 'shop', port: 8080, hostname: 'shop.example.com' }, { name: 'api', port: 8080, hostname: '*.api.example.com' }] }
  }]
  const t = compileRouteTable(snapshot([route('any', { parentRefs: gw, rules: [{ backendRefs: to('productpage') }] })], { gateways }), 'gateway', 'ingress')
  assert.equal(t.match(req('shop.example.com:8080', '/'))?.route, 'any')
  assert.equal(t.match(req('v1.api.example.com', '/'))?.route, 'any')
  assert.equal(t.match(req('other.example.com', '/')), null)
  assert.equal(t.match(req('api.example.com', '/')), null)
})
