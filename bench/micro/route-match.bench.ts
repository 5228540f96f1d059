// Micro-benchmark of the router's hot function: RouteTable.match on a 20-route table.
// Run: node --import tsx bench/micro/route-match.bench.ts   (short: ~1 s of CPU per case)
// Prints ns/match per case (median of 5 rounds after a warm-up). Numbers are for this machine only.
import { checkSnapshot } from '../../src/config/snapshot.ts'
import { compileRouteTable, type RouteRequest, type RouteTable } from '../../src/dataplane/router/index.ts'

const services = ['productpage', 'reviews', 'ratings', 'details', 'shipping'].map((name, i) => ({
  name,
  port: 9080,
  endpoints: ['v1', 'v2', 'v3'].map((v, j) => ({ id: `${name}-${v}`, address: '127.0.0.1', port: 10000 + i * 10 + j, version: v }))
}))

/** 20 HTTPRoutes on `reviews` (outbound) or the gateway: prefixes, exact paths, headers, query, regex. */
function routes (parentRefs: unknown[], hostnames?: string[]): unknown[] {
  const out: unknown[] = []
  for (let i = 0; i < 20; i++) {
    const kind = i % 5
    const match =
      kind === 0 ? { path: { type: 'PathPrefix', value: `/api/v${i}` } }
        : kind === 1 ? { path: { type: 'Exact', value: `/static/file-${i}.js` } }
          : kind === 2 ? { path: { type: 'PathPrefix', value: '/reviews' }, headers: [{ name: 'x-variant', value: `v${i}` }] }
            : kind === 3 ? { path: { type: 'PathPrefix', value: '/reviews' }, queryParams: [{ name: 'exp', value: `${i}` }] }
              : { path: { type: 'RegularExpression', value: `/items/${i}/[0-9]+` } }
    out.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${String(i).padStart(2, '0')}` },
      spec: {
        parentRefs,
        hostnames,
        rules: [{ matches: [match], backendRefs: [{ name: 'reviews-v1', weight: 90 }, { name: 'reviews-v2', weight: 10 }] }]
      }
    })
  }
  // A catch-all so every request finds a route.
  out.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'zz-catch-all' },
    spec: { parentRefs, hostnames, rules: [{ backendRefs: [{ name: 'reviews' }] }] }
  })
  return out
}

const headers = ['accept', '*/*', 'user-agent', 'bench/1', 'x-request-id', 'abc', 'x-variant', 'v17', 'traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']
const r = (authority: string, path: string, query = ''): RouteRequest => ({ method: 'GET', authority, path, query, headers })

const outbound = compileRouteTable(checkSnapshot({ version: '1', node: { id: 'b' }, services, routes: routes([{ kind: 'Service', name: 'reviews' }]) }), 'outbound')
const gateway = compileRouteTable(checkSnapshot({
  version: '1',
  node: { id: 'g', role: 'ingress' },
  services,
  gateways: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'ingress' }, spec: { listeners: [{ name: 'http', port: 8080 }] } }],
  routes: routes([{ kind: 'Gateway', name: 'ingress' }], ['shop.example.com', '*.example.org'])
}), 'gateway', 'ingress')

/** 20 GRPCRoute rules on `ratings`: exact service + method, service only, method only, header matches, regex. */
function grpcRoutes (): unknown[] {
  const rules: unknown[] = []
  for (let i = 0; i < 15; i++) {
    const kind = i % 5
    const method = kind === 0 ? { service: `bookinfo.s${i}.v1.Svc`, method: 'Get' }
      : kind === 1 ? { service: `bookinfo.s${i}.v1.Svc` }
        : kind === 2 ? { method: `Call${i}` }
          : kind === 3 ? { service: 'bookinfo.ratings.v1.Ratings', method: 'Get' }
            : { type: 'RegularExpression', service: `bookinfo\\.r${i}\\..*` }
    const headers = kind === 3 ? [{ name: 'x-variant', value: `v${i}` }] : undefined
    rules.push({ matches: [{ method, ...(headers ? { headers } : {}) }], backendRefs: [{ name: 'ratings-v1', weight: 90 }, { name: 'ratings-v2', weight: 10 }] })
  }
  rules.push({ backendRefs: [{ name: 'ratings' }] })
  return [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'ratings' }, spec: { parentRefs: [{ kind: 'Service', name: 'ratings' }], rules } }]
}
const grpcOutbound = compileRouteTable(checkSnapshot({ version: '1', node: { id: 'b' }, services, grpcRoutes: grpcRoutes() }), 'outbound')
const g = (path: string, extra: string[] = []): RouteRequest => ({ method: 'POST', authority: 'ratings:9080', path, query: '', headers: ['content-type', 'application/grpc', 'te', 'trailers', ...extra] })

const cases: [string, RouteTable, RouteRequest[]][] = [
  ['outbound, service without routes (default)', outbound, [r('ratings:9080', '/ratings/0')]],
  ['outbound, 20 routes, mixed requests', outbound, [
    r('reviews:9080', '/api/v10/users'), r('reviews', '/static/file-16.js'), r('reviews', '/reviews/1'),
    r('reviews.default.svc.cluster.local', '/reviews/2', 'exp=8'), r('reviews:9080', '/items/9/123'), r('reviews', '/nothing/here')
  ]],
  ['outbound, 20 routes, catch-all (full scan)', outbound, [r('reviews:9080', '/nothing/here')]],
  ['outbound, GRPCRoute 16 rules, mixed calls', grpcOutbound, [
    g('/bookinfo.s0.v1.Svc/Get'), g('/bookinfo.s1.v1.Svc/List'), g('/other.Svc/Call2'), g('/bookinfo.ratings.v1.Ratings/Get', ['x-variant', 'v13']),
    g('/bookinfo.r4.x.Y/Z'), g('/bookinfo.ratings.v1.Ratings/Get')
  ]],
  ['outbound, GRPCRoute, catch-all (full scan)', grpcOutbound, [g('/nothing.Here/At')]],
  ['gateway, 20 routes, mixed requests', gateway, [
    r('shop.example.com', '/api/v10/users'), r('a.example.org:8080', '/static/file-16.js'), r('shop.example.com', '/reviews/1'),
    r('shop.example.com', '/reviews/2', 'exp=8'), r('b.example.org', '/items/9/123'), r('shop.example.com', '/nothing/here')
  ]]
]

function run (table: RouteTable, reqs: RouteRequest[], n: number): number {
  let hits = 0
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    if (table.match(reqs[i % reqs.length]) !== null) hits++
  }
  const ns = (performance.now() - t0) * 1e6 / n
  if (hits !== n) throw new Error(`expected every request to match, ${n - hits} did not`)
  return ns
}

const N = 200_000
for (const [name, table, reqs] of cases) {
  run(table, reqs, N) // warm-up: JIT and caches
  const rounds: number[] = []
  for (let k = 0; k < 5; k++) rounds.push(run(table, reqs, N))
  rounds.sort((a, b) => a - b)
  console.log(`${name.padEnd(46)} ${rounds[2].toFixed(0).padStart(6)} ns/match  (min ${rounds[0].toFixed(0)}, max ${rounds[4].toFixed(0)})`)
}
