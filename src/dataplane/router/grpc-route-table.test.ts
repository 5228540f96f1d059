import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findGrpcRouteConflicts } from './conflicts.ts'
import { compileGrpcMatch, matchesGrpc } from './grpc-match.ts'
import { findKindConflicts } from './route-kinds.ts'
import { compileRouteTable } from './route-table.ts'
import { grpcRoute, req, route, snapshot } from './test-fixtures.ts'

const svc = (name: string) => [{ kind: 'Service', name }]
const to = (name: string) => [{ name }]
const gw = [{ kind: 'Gateway', name: 'ingress' }]
const GATEWAY = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }]
const grpc = (path: string, headers: string[] = []) => req('ratings:9080', path, { method: 'POST', headers: ['content-type', 'application/grpc', ...headers] })

test('outbound: GRPCRoute rules route by the :path service and method, the most specific first', () => {
  const t = compileRouteTable(snapshot([], {
    grpcRoutes: [grpcRoute('ratings', {
      parentRefs: svc('ratings'),
      rules: [
        { backendRefs: to('ratings-v1') },
        { matches: [{ method: { service: 'bookinfo.Ratings' } }], backendRefs: to('reviews-v1') },
        { matches: [{ method: { service: 'bookinfo.Ratings', method: 'Get' } }], backendRefs: to('reviews-v2') },
        { matches: [{ method: { method: 'Watch' } }], backendRefs: to('reviews-v3') },
        { matches: [{ method: { type: 'RegularExpression', service: 'bookinfo\\.v[0-9]+\\.Ratings' } }], backendRefs: to('details') }
      ]
    })]
  }), 'outbound')
  const cluster = (path: string, headers?: string[]) => t.match(grpc(path, headers))?.rule.pickBackend().cluster
  assert.equal(cluster('/bookinfo.Ratings/Get'), 'reviews-v2')
  assert.equal(cluster('/bookinfo.Ratings/List'), 'reviews-v1')
  // service (16 characters) outranks method (5): the spec ranks service characters first
  assert.equal(cluster('/bookinfo.Ratings/Watch'), 'reviews-v1')
  assert.equal(cluster('/other.Svc/Watch'), 'reviews-v3')
  assert.equal(cluster('/bookinfo.v2.Ratings/Get'), 'details')
  // a regex is anchored and ranks below Exact values
  assert.equal(cluster('/xbookinfo.v2.Ratings/Get'), 'ratings-v1')
  // the rule without matches takes everything else, gRPC-shaped or not
  assert.equal(cluster('/healthz'), 'ratings-v1')
  const r = t.match(grpc('/bookinfo.Ratings/Get'))!
  assert.equal(r.route, 'ratings')
  assert.equal(r.service, 'ratings')
})

test('outbound: a GRPCRoute with no catch-all rule gets no route for other methods (UNIMPLEMENTED at the proxy)', () => {
  const t = compileRouteTable(snapshot([], {
    grpcRoutes: [grpcRoute('ratings', {
      parentRefs: [{ kind: 'Service', name: 'ratings', port: 9080 }],
      rules: [{
        matches: [{ method: { service: 'bookinfo.Ratings', method: 'Get' }, headers: [{ name: 'End-User', value: 'jason' }, { name: 'end-user', value: 'ignored' }] }],
        backendRefs: [{ name: 'ratings-v1', weight: 0 }, { name: 'reviews-v2', weight: 1 }]
      }]
    })]
  }), 'outbound')
  assert.equal(t.match(grpc('/bookinfo.Ratings/Get', ['end-user', 'jason']))?.rule.pickBackend(0).cluster, 'reviews-v2')
  assert.equal(t.match(grpc('/bookinfo.Ratings/Get', ['end-user', 'ignored'])), null)
  assert.equal(t.match(grpc('/bookinfo.Ratings/Get')), null)
  assert.equal(t.match(grpc('/bookinfo.Ratings/List', ['end-user', 'jason'])), null)
  // routes on ratings do not apply to ratings-v1, nor to other services
  assert.equal(t.match(req('ratings-v1', '/bookinfo.Ratings/List'))?.route, 'default')
  assert.equal(t.match(req('reviews', '/x'))?.route, 'default')
})

test('outbound: weighted backends, header filters, mirrors, timeouts and gRPC retries compile as on HTTPRoute', () => {
  const t = compileRouteTable(snapshot([], {
    grpcRoutes: [grpcRoute('ratings', {
      parentRefs: svc('ratings'),
      rules: [{
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: 'grpc' }] } },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['x-debug'] } },
          { type: 'RequestMirror', requestMirror: { backendRef: { name: 'reviews' }, percent: 10 } }
        ],
        backendRefs: [{ name: 'ratings-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }],
        timeouts: { request: '2s', backendRequest: '500ms' },
        retry: { attempts: 3, grpcCodes: ['unavailable', 'cancelled'] }
      }]
    })]
  }), 'outbound')
  const rule = t.match(grpc('/any.Svc/Call'))!.rule
  assert.equal(rule.pickBackend(0.5).cluster, 'ratings-v1')
  assert.equal(rule.pickBackend(0.95).cluster, 'reviews-v2')
  assert.deepEqual(rule.mirrors, [{ cluster: 'reviews', percent: 10 }])
  assert.equal(rule.timeoutMs, 2000)
  assert.equal(rule.perTryTimeoutMs, 500)
  assert.equal(rule.retry?.attempts, 3)
  assert.deepEqual([...rule.retry!.grpcCodes!].flatMap((v, i) => v === 1 ? [i] : []), [1, 14])
  assert.notEqual(rule.requestHeaders, null)
  assert.notEqual(rule.responseHeaders, null)
  assert.equal(rule.redirect, null)
  assert.equal(rule.rewrite, null)
})

test('outbound: a GRPCRoute on a service makes it ignore its HTTPRoutes (GEP-1294), other services keep theirs', () => {
  const t = compileRouteTable(snapshot([
    route('ratings-http', { parentRefs: svc('ratings'), rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/ratings' } }], backendRefs: to('reviews') }] }),
    route('reviews', { parentRefs: svc('reviews'), rules: [{ backendRefs: to('reviews-v3') }] })
  ], {
    grpcRoutes: [grpcRoute('ratings', { parentRefs: svc('ratings'), rules: [{ matches: [{ method: { service: 'bookinfo.Ratings' } }], backendRefs: to('ratings-v1') }] })]
  }), 'outbound')
  assert.equal(t.match(grpc('/bookinfo.Ratings/Get'))?.route, 'ratings')
  assert.equal(t.match(req('ratings:9080', '/ratings/0')), null)
  assert.equal(t.match(req('reviews', '/reviews/0'))?.rule.pickBackend().cluster, 'reviews-v3')
  // a GRPCRoute on another port of the service attaches nowhere and displaces nothing
  const other = compileRouteTable(snapshot([route('ratings-http', { parentRefs: svc('ratings'), rules: [{ backendRefs: to('reviews') }] })], {
    grpcRoutes: [grpcRoute('ratings', { parentRefs: [{ kind: 'Service', name: 'ratings', port: 9999 }], rules: [{ backendRefs: to('ratings-v1') }] })]
  }), 'outbound')
  assert.equal(other.match(req('ratings:9080', '/ratings/0'))?.route, 'ratings-http')
})

test('gateway: an HTTPRoute and a GRPCRoute sharing hostnames cannot both serve; distinct hostnames both do', () => {
  const shared = compileRouteTable(snapshot([route('bookinfo', { parentRefs: gw, rules: [{ backendRefs: to('productpage') }] })], {
    gateways: GATEWAY,
    grpcRoutes: [grpcRoute('ratings-grpc', { parentRefs: gw, hostnames: ['grpc.example.com'], rules: [{ backendRefs: to('ratings') }] })]
  }), 'gateway', 'ingress')
  // default/bookinfo (no hostnames: every host) sorts first, so the GRPCRoute is ignored on this Gateway
  assert.equal(shared.match(req('grpc.example.com', '/bookinfo.Ratings/Get'))?.route, 'bookinfo')
  const distinct = compileRouteTable(snapshot([route('bookinfo', { parentRefs: gw, hostnames: ['shop.example.com'], rules: [{ backendRefs: to('productpage') }] })], {
    gateways: GATEWAY,
    grpcRoutes: [grpcRoute('ratings-grpc', { parentRefs: gw, hostnames: ['*.grpc.example.com'], rules: [{ matches: [{ method: { service: 'bookinfo.Ratings' } }], backendRefs: to('ratings') }] })]
  }), 'gateway', 'ingress')
  const g = distinct.match(req('api.grpc.example.com', '/bookinfo.Ratings/Get'))!
  assert.equal(g.route, 'ratings-grpc')
  assert.equal(g.service, 'ratings')
  assert.equal(distinct.match(req('api.grpc.example.com', '/other.Svc/Get')), null)
  assert.equal(distinct.match(req('shop.example.com', '/productpage'))?.route, 'bookinfo')
})

test('gRPC path matching: only /<service>/<method> with both parts and no further segment', () => {
  const m = compileGrpcMatch({ method: { type: 'Exact', service: 'a.B' } })
  const ok = (path: string) => matchesGrpc(m, req('x', path))
  assert.equal(ok('/a.B/C'), true)
  assert.equal(ok('/a.B/'), false)
  assert.equal(ok('/a.B'), false)
  assert.equal(ok('/a.B/C/D'), false)
  assert.equal(ok('/a.BB/C'), false)
  assert.equal(ok('//C'), false)
  const byMethod = compileGrpcMatch({ method: { type: 'Exact', method: 'C' } })
  assert.equal(matchesGrpc(byMethod, req('x', '/z.Y/C')), true)
  assert.equal(matchesGrpc(byMethod, req('x', '/z.Y/CC')), false)
  assert.equal(matchesGrpc(byMethod, req('x', '/C')), false)
  const re = compileGrpcMatch({ method: { type: 'RegularExpression', service: 'a\\..*', method: 'Get.*' } })
  assert.equal(matchesGrpc(re, req('x', '/a.B/GetStars')), true)
  assert.equal(matchesGrpc(re, req('x', '/a.B/ListStars')), false)
})

test('route-kind conflicts name the ignored route and the parent; same-match GRPCRoute rules conflict', () => {
  const s = snapshot([route('stars-http', { parentRefs: svc('ratings'), rules: [{ backendRefs: to('ratings') }] })], {
    grpcRoutes: [
      grpcRoute('stars', { parentRefs: svc('ratings'), rules: [{ matches: [{ method: { service: 'a.B' }, headers: [{ name: 'X', value: '1' }] }], backendRefs: to('ratings') }] }),
      grpcRoute('zz-stars', { parentRefs: svc('ratings'), rules: [{ matches: [{ headers: [{ name: 'x', value: '1' }], method: { service: 'a.B' } }], backendRefs: to('ratings') }, { backendRefs: to('ratings') }] })
    ]
  })
  const kinds = findKindConflicts(s.routes, s.grpcRoutes)
  assert.equal(kinds.length, 1)
  assert.deepEqual([kinds[0].parent, kinds[0].accepted.name, kinds[0].ignored.kind, kinds[0].ignored.name, kinds[0].parentRefIndex], ['Service/ratings', 'stars', 'HTTPRoute', 'stars-http', 0])
  const same = findGrpcRouteConflicts(s.grpcRoutes)
  assert.equal(same.length, 1)
  assert.equal(same[0].kind, 'GRPCRoute')
  assert.deepEqual(same[0].routes.map(r => r.name), ['stars', 'zz-stars'])
  assert.equal(same[0].path, 'spec.rules[0].matches[0]')
})
