/**
 * Every resource Meshwork sends, for every client profile, checked against Envoy's published protos
 * (encode/decode round trip with `verify`), against the fields Envoy requires, and — for gRPC profiles —
 * against grpc-js-xds's own resource validation (what makes it ACK or NACK).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { parseResources } from '../../config/load.ts'
import { buildMeshView } from '../mesh-view.ts'
import type { ProxyHello } from '../protocol.ts'
import { Registry } from '../registry.ts'
import { buildEndpointResources, ConfigResources, type XdsResource } from './resource-set.ts'
import { TYPE_URL, type XdsTypeUrl, xdsRoot, xdsType } from './protos.ts'
import { jsonToStruct, parseNode, type XdsNode } from './xds-node.ts'

const require = createRequire(import.meta.url)
// RE2 as grpc-js-xds itself compiles safe_regex (its dependency re2-wasm; Envoy uses RE2 too).
const { RE2 } = createRequire(require.resolve('@grpc/grpc-js-xds'))('re2-wasm') as { RE2: new (re: string, flags: string) => unknown }
const BOOKINFO = new URL('../../../samples/bookinfo/mesh.yaml', import.meta.url).pathname

const EXTRA = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: reviews-rich }
spec:
  parentRefs: [{ kind: Service, name: reviews-v3 }]
  rules:
    - matches: [{ path: { type: Exact, value: /reviews/0 }, method: GET }]
      backendRefs: [{ name: reviews-v3 }]
      timeouts: { request: 2s, backendRequest: 500ms }
      retry: { attempts: 3, backoff: 0ms, codes: [503], grpcCodes: [unavailable, cancelled] }
      filters:
        - { type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-A, value: '1' }], add: [{ name: x-b, value: '2' }], remove: [x-c] } }
        - { type: ResponseHeaderModifier, responseHeaderModifier: { set: [{ name: x-r, value: '1' }] } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: ratings }, percent: 25 } }
        - { type: URLRewrite, urlRewrite: { hostname: internal, path: { type: ReplacePrefixMatch, replacePrefixMatch: /v2 } } }
    - matches: [{ path: { type: RegularExpression, value: '/reviews/[0-9]+' }, headers: [{ type: RegularExpression, name: x-id, value: 'a.*' }] }]
      backendRefs: [{ name: reviews-v3, weight: 3 }, { name: reviews-v2, weight: 0 }]
      timeouts: { request: 0s }
    - matches: [{ path: { type: PathPrefix, value: /old/ }, queryParams: [{ name: q, value: x }] }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, hostname: example.com, statusCode: 301, path: { type: ReplaceFullPath, replaceFullPath: /new } } }]
    - matches: [{ path: { type: PathPrefix, value: /legacy } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /modern } } }]
      backendRefs: [{ name: reviews-v3 }]
---
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: reviews-v3 }
spec:
  targetRef: { name: reviews-v3 }
  loadBalancer: { type: PeakEWMA }
  connectionPool: { maxConnections: 10, maxPendingRequests: 0, maxRequests: 50, connectTimeout: 250ms, idleTimeout: 1m30s, protocol: h2 }
  outlierDetection: { consecutive5xx: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
  retryBudget: { ratio: 0.25, minRetriesPerSecond: 5 }
  healthCheck: { path: /ready, interval: 2s, timeout: 500ms }
---
apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: ratings-slow }
spec:
  targetRef: { name: ratings }
  delay: { fixedDelay: 1500ms, percentage: 12.5 }
  abort: { httpStatus: 503, percentage: 0.0001 }
---
apiVersion: meshwork.dev/v1alpha1
kind: FaultInjection
metadata: { name: reviews-v3-abort }
spec:
  targetRef: { name: reviews-v3 }
  matches: [{ path: { type: PathPrefix, value: /reviews }, headers: [{ name: x-fault, value: 'on' }] }, { path: { type: PathPrefix, value: /elsewhere } }]
  abort: { httpStatus: 500 }
`

function meshResources () {
  const view = buildMeshView([...parseResources(readFileSync(BOOKINFO, 'utf8'), 'mesh.yaml'), ...parseResources(EXTRA, 'extra.yaml')])
  const registry = new Registry({ trustDomain: 'cluster.local' })
  registry.view = view
  const hello = (id: string, service: string, version: string, port: number): ProxyHello => ({ id, role: 'sidecar', service, version, namespace: 'default', inbound: { host: '127.0.0.1', port }, app: { host: '127.0.0.1', port: port + 1 } })
  registry.connect(hello('reviews-v1-0', 'reviews', 'v1', 20000), 's1')
  registry.connect(hello('reviews-v3-0', 'reviews', 'v3', 20010), 's2')
  registry.setHealth(registry.proxies.get('reviews-v3-0')!, true)
  return { view, registry }
}

const PROFILES: Record<string, string>[] = [
  { MESHWORK_CLIENT: 'grpc', MESHWORK_ENDPOINTS: 'app' },
  { MESHWORK_CLIENT: 'grpc', MESHWORK_ENDPOINTS: 'inbound' },
  { MESHWORK_CLIENT: 'envoy', MESHWORK_ENDPOINTS: 'app' },
  { MESHWORK_CLIENT: 'envoy', MESHWORK_ENDPOINTS: 'inbound', MESHWORK_OUTBOUND_PORT: '15001' }
]

function allResources (meta: Record<string, string>): { node: XdsNode, byType: Map<XdsTypeUrl, XdsResource[]> } {
  const { view, registry } = meshResources()
  const node = parseNode({ id: 'n', metadata: jsonToStruct({ MESHWORK_SERVICE: 'productpage', ...meta }) })
  const config = new ConfigResources(view, node, 'cluster.local')
  const byType = new Map<XdsTypeUrl, XdsResource[]>()
  for (const [t, m] of config.byType) byType.set(t, [...m.values()])
  byType.set(TYPE_URL.endpoint, [...buildEndpointResources(config, registry, node, (ns, s) => registry.endpoints(ns, s)).values()])
  if (node.kind === 'grpc') byType.get(TYPE_URL.listener)!.push(config.listener('reviews.default.svc.cluster.local:9080')!)
  return { node, byType }
}

const TO = { longs: String, enums: String, defaults: false, oneofs: true, bytes: Buffer }

/** Decode recursively, Any values included, so checks can walk one plain tree. */
function decodeDeep (typeUrl: string, bytes: Uint8Array): any {
  const type = xdsType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1))
  const message = type.decode(bytes)
  assert.equal(type.verify(message), null, `${typeUrl} verifies`)
  // Round trip: re-encoding the decoded message gives the same bytes.
  assert.deepEqual(Buffer.from(type.encode(message).finish()), Buffer.from(bytes), `${typeUrl} round trip`)
  const expand = (v: any): any => {
    if (Array.isArray(v)) return v.map(expand)
    if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v
    if (typeof v.type_url === 'string' && Buffer.isBuffer(v.value)) return { '@type': v.type_url, ...decodeDeep(v.type_url, v.value) }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expand(x)]))
  }
  return expand(type.toObject(message, TO))
}

function walk (v: any, visit: (key: string, value: any, parent: any) => void): void {
  if (Array.isArray(v)) { for (const x of v) walk(x, visit); return }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return
  for (const [k, x] of Object.entries(v)) { visit(k, x, v); walk(x, visit) }
}

const DURATION_FIELDS = new Set(['connect_timeout', 'timeout', 'per_try_timeout', 'base_interval', 'max_interval', 'interval', 'base_ejection_time', 'idle_timeout', 'fixed_delay', 'max_stream_duration'])

for (const meta of PROFILES) {
  const label = `${meta.MESHWORK_CLIENT}/${meta.MESHWORK_ENDPOINTS}`
  test(`${label}: every resource round-trips through Envoy's protos and has the fields Envoy requires`, () => {
    const { node, byType } = allResources(meta)
    const decoded = new Map<XdsTypeUrl, any[]>()
    for (const [t, list] of byType) {
      assert.ok(list.length > 0, `${t} has resources`)
      decoded.set(t, list.map(r => {
        assert.equal(r.any.type_url, t)
        const d = decodeDeep(t, r.any.value)
        assert.equal(d.name ?? d.cluster_name, r.name)
        return d
      }))
    }
    const clusterNames = new Set(decoded.get(TYPE_URL.cluster)!.map(c => c.name))
    for (const c of decoded.get(TYPE_URL.cluster)!) {
      assert.equal(c.type, 'EDS')
      assert.deepEqual(c.eds_cluster_config.eds_config.ads, {}, 'EDS over ADS')
      assert.equal(c.eds_cluster_config.eds_config.resource_api_version, 'V3')
      assert.equal(c.eds_cluster_config.service_name, c.name)
      assert.ok(['ROUND_ROBIN', 'LEAST_REQUEST'].includes(c.lb_policy ?? 'ROUND_ROBIN'))
      if (meta.MESHWORK_ENDPOINTS === 'inbound') assert.equal(c.transport_socket.name, 'envoy.transport_sockets.tls')
      else assert.equal(c.transport_socket, undefined)
    }
    const v3 = decoded.get(TYPE_URL.cluster)!.find(c => c.name === 'reviews-v3')
    assert.equal(v3.circuit_breakers.thresholds[0].max_requests.value, 50)
    assert.equal(v3.circuit_breakers.thresholds[0].max_pending_requests.value, 0)
    assert.equal(v3.outlier_detection.consecutive_5xx.value, 3)
    assert.equal(v3.outlier_detection.enforcing_success_rate.value, 0)
    if (node.kind === 'envoy') {
      assert.equal(v3.lb_policy, 'LEAST_REQUEST')
      assert.equal(v3.health_checks[0].http_health_check.path, '/ready')
      assert.ok(v3.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options, 'h2 to reviews-v3')
    }
    // Every typed_config / Any names a message the protos define; every duration is in range.
    walk([...decoded.values()], (key, value) => {
      if (key === '@type') assert.ok(xdsRoot().lookupType(value.slice(value.lastIndexOf('/') + 1)), value)
      if (DURATION_FIELDS.has(key) && value && typeof value === 'object' && 'seconds' in value) {
        const s = Number(value.seconds ?? 0)
        const n = Number(value.nanos ?? 0)
        assert.ok(s >= 0 && s <= 315_576_000_000 && n >= 0 && n <= 999_999_999, `${key} ${JSON.stringify(value)}`)
      }
      if (key === 'safe_regex' || key === 'pattern') assert.doesNotThrow(() => new RE2(value.regex, 'u'), `RE2 compiles ${value.regex}`)
    })
    for (const l of decoded.get(TYPE_URL.listener)!) {
      const hcm = node.kind === 'grpc' ? l.api_listener.api_listener : l.filter_chains[0].filters[0].typed_config
      assert.equal(hcm['@type'], 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')
      assert.deepEqual(hcm.rds.config_source.ads, {})
      const filters = hcm.http_filters.map((f: any) => f.typed_config['@type'])
      assert.equal(filters.at(-1), 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', 'the router filter is last')
      assert.equal(new Set(hcm.http_filters.map((f: any) => f.name)).size, hcm.http_filters.length)
      assert.equal(filters.includes('type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault'), meta.MESHWORK_ENDPOINTS === 'app')
      if (node.kind === 'envoy') assert.equal(l.address.socket_address.port_value, 15001)
    }
    for (const rc of decoded.get(TYPE_URL.route)!) {
      const domains = rc.virtual_hosts.flatMap((vh: any) => vh.domains)
      assert.equal(new Set(domains).size, domains.length, 'domains are unique across virtual hosts')
      for (const vh of rc.virtual_hosts) {
        assert.ok(vh.routes.length > 0, `${vh.name} has routes`)
        for (const r of vh.routes) {
          assert.equal(['prefix', 'path', 'safe_regex'].filter(k => r.match[k] !== undefined).length, 1, 'one path specifier')
          const a = r.route
          if (a === undefined) { assert.ok(r.redirect || r.direct_response, `${r.name}: an action`); continue }
          const targets = a.cluster !== undefined ? [a.cluster] : a.weighted_clusters.clusters.map((c: any) => c.name)
          for (const t of targets) assert.ok(clusterNames.has(t), `route to known cluster ${t}`)
          if (a.weighted_clusters) assert.ok(a.weighted_clusters.clusters.reduce((n: number, c: any) => n + (c.weight?.value ?? 0), 0) > 0, `${r.name}: weights sum above 0`)
        }
      }
    }
    const cla = decoded.get(TYPE_URL.endpoint)!.find(c => c.cluster_name === 'reviews-v3')
    assert.equal(cla.endpoints[0].load_balancing_weight.value, 1, 'gRPC ignores localities without a weight')
    const ep = cla.endpoints[0].lb_endpoints[0]
    assert.equal(ep.health_status, 'HEALTHY')
    assert.equal(ep.endpoint.address.socket_address.port_value, meta.MESHWORK_ENDPOINTS === 'app' ? 20011 : 20010)
    const v1 = decoded.get(TYPE_URL.endpoint)!.find(c => c.cluster_name === 'reviews-v1')
    assert.equal(v1.endpoints[0].lb_endpoints[0].health_status, 'UNHEALTHY', 'not reported healthy yet')
  })
}

test('the rich route compiles to what it says (Envoy): order, rewrite, mirror, retry, timeouts, faults split per match', () => {
  const { byType } = allResources({ MESHWORK_CLIENT: 'envoy', MESHWORK_ENDPOINTS: 'app' })
  const rc = decodeDeep(TYPE_URL.route, byType.get(TYPE_URL.route)![0].any.value)
  const vh = rc.virtual_hosts.find((v: any) => v.name === 'reviews-v3')
  assert.ok(vh.domains.includes('reviews-v3.default.svc.cluster.local:9080'), 'FQDN:port domain')
  const names = vh.routes.map((r: any) => r.name)
  // Exact first, then the prefixes by length, then the regex; the fault's conditional splits come before their route.
  // Precedence: Exact, then PathPrefix by length (/legacy before /old/), then the regex. The conditional fault on
  // reviews-v3 (PathPrefix /reviews ∧ x-fault: on) splits the Exact route in front of it: /reviews/0 ∧ x-fault;
  // its other match (/elsewhere) meets no route path, and /legacy is under neither: no more splits.
  assert.deepEqual(names, ['reviews-rich.0.0.fault-1.0', 'reviews-rich.0.0', 'reviews-rich.3.0', 'reviews-rich.2.0', 'reviews-rich.1.0'])
  const exact = vh.routes[1]
  assert.equal(exact.match.path, '/reviews/0')
  assert.deepEqual(exact.match.headers.map((h: any) => [h.name, h.string_match.exact]), [[':method', 'GET']])
  assert.equal(exact.route.timeout.seconds, '2')
  assert.equal(exact.route.retry_policy.retry_on, 'retriable-status-codes,connect-failure,reset,unavailable,cancelled')
  assert.equal(exact.route.retry_policy.num_retries.value, 3)
  assert.equal(exact.route.retry_policy.per_try_timeout.nanos, 500_000_000)
  assert.equal(exact.route.prefix_rewrite, '/v2')
  assert.equal(exact.route.host_rewrite_literal, 'internal')
  assert.equal(exact.route.request_mirror_policies[0].cluster, 'ratings')
  assert.equal(exact.route.request_mirror_policies[0].runtime_fraction.default_value.numerator, 250_000)
  assert.deepEqual(exact.request_headers_to_remove, ['x-c'])
  assert.equal(exact.request_headers_to_add[0].header.key, 'x-a')
  // The reviews-v3 abort has no unconditional part: routes without its matches carry no fault.
  assert.equal(exact.typed_per_filter_config, undefined)
  const split = vh.routes[0]
  assert.equal(split.match.path, '/reviews/0')
  assert.deepEqual(split.match.headers.map((h: any) => h.name), ['x-fault', ':method'])
  assert.equal(split.typed_per_filter_config['envoy.filters.http.fault'].abort.http_status, 500)
  assert.equal(split.typed_per_filter_config['envoy.filters.http.fault'].abort.percentage.numerator, 1_000_000)
  assert.equal(split.route.cluster, 'reviews-v3', 'the split keeps the route action')
  // Meshwork's segment-boundary PathPrefix, and Envoy's explicit "no timeout" for `0s`.
  assert.equal(vh.routes[2].match.safe_regex.regex, '/legacy(/.*)?')
  assert.equal(vh.routes[2].route.regex_rewrite.substitution, '/modern')
  assert.deepEqual(vh.routes[4].route.timeout, { seconds: '0', nanos: 0 }, 'set, and 0: Envoy would otherwise apply its own 15 s')
  assert.equal(vh.routes[3].redirect.response_code, 'MOVED_PERMANENTLY')
  assert.equal(vh.routes[3].redirect.path_redirect, '/new')
})

test('gRPC profile: routes a gRPC call can never take are left out; grpc-js-xds accepts every resource', () => {
  const { byType } = allResources({ MESHWORK_CLIENT: 'grpc', MESHWORK_ENDPOINTS: 'app' })
  require('@grpc/grpc-js-xds').register() // registers the HTTP filters (router, fault) its validation knows
  const bootstrap = { certificateProviders: { meshwork: {} } }
  const context = { bootstrap, server: {} }
  const types: Record<string, string> = {
    [TYPE_URL.listener]: 'listener-resource-type.js#ListenerResourceType',
    [TYPE_URL.route]: 'route-config-resource-type.js#RouteConfigurationResourceType',
    [TYPE_URL.cluster]: 'cluster-resource-type.js#ClusterResourceType',
    [TYPE_URL.endpoint]: 'endpoint-resource-type.js#EndpointResourceType'
  }
  for (const [t, list] of byType) {
    const [file, cls] = types[t].split('#')
    const rt = require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${file}`)[cls].get()
    for (const r of list) {
      const out = rt.decode(context, { type_url: t, value: Buffer.from(r.any.value) })
      assert.equal(out.error, undefined, `${r.name}: ${out.error}`)
    }
  }
  const rc = decodeDeep(TYPE_URL.route, byType.get(TYPE_URL.route)!.find(r => r.name === 'reviews-v3')!.any.value)
  const routes = rc.virtual_hosts[0].routes
  assert.ok(!routes.some((r: any) => r.redirect || r.match.query_parameters), 'no redirect, no query-parameter route')
  const exact = routes.find((r: any) => r.name === 'reviews-rich.0.0')
  assert.equal(exact.route.max_stream_duration.max_stream_duration.seconds, '2')
  assert.equal(exact.route.timeout, undefined)
  const ratings = decodeDeep(TYPE_URL.route, byType.get(TYPE_URL.route)!.find(r => r.name === 'ratings')!.any.value)
  const fault = ratings.virtual_hosts[0].routes.at(-1).typed_per_filter_config['envoy.filters.http.fault']
  assert.equal(fault.delay.percentage.numerator, 125_000)
  assert.equal(fault.abort.grpc_status, 14, '503 → UNAVAILABLE, as the data plane maps it')
})
