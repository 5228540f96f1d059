import { type AuthorizationPolicy, type DestinationPolicy, type GRPCRoute, type GrpcRouteRule, type HTTPRoute, type MeshConfig, type RateLimitPolicy, type Resource, type RouteRule, resourceKey } from '../../config/index.ts'
import { toSecondsOrMs } from '../duration.ts'
import { APP_LABEL, ServiceIndex, VERSION_LABEL, parseSpiffe } from '../services.ts'
import { UnsupportedLog, type Unsupported } from '../unsupported.ts'

type Obj = Record<string, any>

const GATEWAY_API = 'gateway.networking.k8s.io/v1'
const POLICY = 'policy.linkerd.io'

/**
 * Meshwork resources → Linkerd (2.16+): Gateway API HTTPRoutes and GRPCRoutes with Service parents plus
 * retry/timeout annotations, Service and Namespace annotations for failure accrual / inbound policy / access log,
 * Server + AuthorizationPolicy + MeshTLSAuthentication, and HTTPLocalRateLimitPolicy.
 *
 * Annotation-only objects (`Service`, `Namespace` carrying just metadata) are meant for
 * `kubectl apply --server-side`, which merges them into the existing objects.
 *
 * @example
 * const { resources, unsupported } = toLinkerd(loaded.map(l => l.resource))
 */
export function toLinkerd (input: readonly Resource[]): { resources: Obj[], unsupported: Unsupported[] } {
  const log = new UnsupportedLog('linkerd')
  const idx = new ServiceIndex(input)
  const out: Obj[] = []
  const by = <K extends Resource['kind']>(k: K) => input.filter(r => r.kind === k) as Extract<Resource, { kind: K }>[]

  for (const r of by('Workload')) log.add(resourceKey(r), '', 'a Workload describes a local process; on Kubernetes deploy it as a Deployment (with a Service per version for split targets such as reviews-v2) and inject the Linkerd proxy')
  for (const g of by('Gateway')) log.add(resourceKey(g), 'spec', 'Linkerd has no ingress gateway; use a Gateway API implementation for north-south traffic and mesh it')
  for (const r of by('HTTPRoute')) out.push(...route(r, idx, log))
  for (const r of by('GRPCRoute')) out.push(...route(r, idx, log))
  for (const f of by('FaultInjection')) log.add(resourceKey(f), 'spec', 'Linkerd has no fault injection (it was removed with SMI TrafficSplit); use a fault-injecting backend in an HTTPRoute split instead')
  const annotated = new Set<string>()
  for (const p of by('DestinationPolicy')) {
    const svc = destination(p, log)
    const k = `${svc.metadata.namespace}/${svc.metadata.name}`
    if (annotated.has(k)) {
      log.add(resourceKey(p), 'spec.targetRef', `another DestinationPolicy already targets ${p.spec.targetRef.name}; its Service annotations are kept`)
      continue
    }
    if (Object.keys(svc.metadata.annotations).length > 0) { out.push(svc); annotated.add(k) }
  }
  for (const m of by('MeshConfig')) out.push(meshConfig(m, log))

  // Servers: one per target service port that an authorization or rate limit attaches to.
  const servers = new Map<string, Obj>()
  const authzTargets = new Set(by('AuthorizationPolicy').filter(a => a.spec.action === 'ALLOW').map(a => `${a.spec.targetRef.namespace ?? a.metadata.namespace}/${a.spec.targetRef.name}`))
  const server = (ns: string, targetName: string): Obj => {
    const k = `${ns}/${targetName}`
    let s = servers.get(k)
    if (s === undefined) {
      const ref = idx.resolve(targetName)
      const labels: Record<string, string> = { [APP_LABEL]: ref.service }
      if (ref.subset !== undefined) labels[VERSION_LABEL] = ref.subset
      s = {
        apiVersion: `${POLICY}/v1beta3`,
        kind: 'Server',
        metadata: { name: `${targetName}-http`, namespace: ns },
        spec: {
          podSelector: { matchLabels: labels },
          port: idx.port(ref.service),
          proxyProtocol: { grpc: 'gRPC', http2: 'HTTP/2', http: 'HTTP/1' }[idx.protocol(ref.service)],
          // Meshwork allows every call to a service no ALLOW policy targets; Linkerd's Server default is deny.
          accessPolicy: authzTargets.has(k) ? 'deny' : 'all-unauthenticated'
        }
      }
      servers.set(k, s)
    }
    return s
  }
  const policies: Obj[] = []
  for (const a of by('AuthorizationPolicy')) policies.push(...authz(a, server, log))
  for (const rl of by('RateLimitPolicy')) policies.push(rateLimit(rl, server, log))
  // A Server with HTTPRoutes answers 404 to requests no route matches: when per-path rules created
  // routes, a catch-all route keeps the other paths reachable (Server-wide policies still apply).
  for (const srv of servers.values()) {
    const name: string = srv.metadata.name
    if (!policies.some(p => p.kind === 'HTTPRoute' && p.spec.parentRefs[0].name === name)) continue
    policies.push({
      apiVersion: GATEWAY_API,
      kind: 'HTTPRoute',
      metadata: { name: `${name}-default`, namespace: srv.metadata.namespace },
      spec: { parentRefs: [{ group: POLICY, kind: 'Server', name }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }] }
    })
    // Policies written for the whole Server are repeated on each of its routes, whatever precedence
    // Linkerd gives Server-level policies once routes exist.
    const routes: string[] = policies.filter(p => p.kind === 'HTTPRoute' && p.spec.parentRefs[0].name === name).map(p => p.metadata.name)
    const serverWide = policies.filter(p => p.kind === 'AuthorizationPolicy' && p.spec.targetRef.kind === 'Server' && p.spec.targetRef.name === name)
    for (const a of serverWide) {
      a.spec.targetRef = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: `${name}-default` }
      for (const r of routes) {
        if (r === `${name}-default`) continue
        policies.push({ ...a, metadata: { ...a.metadata, name: `${a.metadata.name}-${r}`.slice(0, 63).replace(/-+$/, '') }, spec: { ...a.spec, targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: r } } })
      }
    }
  }
  out.push(...servers.values(), ...policies)
  return { resources: out, unsupported: log.items }
}

/** A route with Service parents → that route kind of Gateway API (GRPCRoute is native in Linkerd ≥ 2.14). */
function route (r: HTTPRoute | GRPCRoute, idx: ServiceIndex, log: UnsupportedLog): Obj[] {
  const key = resourceKey(r)
  const ns = r.metadata.namespace
  const parentRefs: Obj[] = []
  r.spec.parentRefs.forEach((p, i) => {
    if (p.kind === 'Gateway') {
      log.add(key, `spec.parentRefs[${i}]`, 'Linkerd routes mesh (east-west) traffic only; a Gateway parent needs a separate ingress implementation')
      return
    }
    parentRefs.push({ group: 'core', kind: 'Service', name: p.name, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), port: p.port ?? idx.port(idx.resolve(p.name).service) })
  })
  if (parentRefs.length === 0) return []
  if (r.spec.hostnames !== undefined) log.add(key, 'spec.hostnames', 'hostnames are ignored on routes with Service parents (GAMMA)')
  const rules = r.kind === 'GRPCRoute'
    ? r.spec.rules.map((rule, i) => grpcRuleToLinkerd(rule, `spec.rules[${i}]`, key, idx, log))
    : r.spec.rules.map((rule, i) => ruleToLinkerd(rule, `spec.rules[${i}]`, key, idx, log))
  // Retries and per-try timeouts are annotations on the whole route in Linkerd: rules that differ
  // go to separate routes (Gateway API orders rules across routes by match specificity anyway).
  const groups = new Map<string, { rules: Obj[], annotations: Record<string, string> }>()
  rules.forEach(({ rule, annotations }) => {
    const k = JSON.stringify(annotations)
    let g = groups.get(k)
    if (g === undefined) groups.set(k, g = { rules: [], annotations })
    g.rules.push(rule)
  })
  const many = groups.size > 1
  return [...groups.values()].map((g, i) => ({
    apiVersion: GATEWAY_API,
    kind: r.kind,
    metadata: { name: many ? `${r.metadata.name}-${i}` : r.metadata.name, namespace: ns, ...(Object.keys(g.annotations).length > 0 ? { annotations: g.annotations } : {}) },
    spec: { parentRefs, rules: g.rules }
  }))
}

/** Meshwork's default `retry.codes`: a GRPCRoute that keeps them asks for nothing Linkerd cannot do. */
const DEFAULT_RETRY_CODES = '502,503,504'

/**
 * One GRPCRoute rule: matches and header filters as written (Linkerd reads GRPCRoute natively), retries as
 * `retry.linkerd.io/grpc` (the same status names), timeouts as on HTTPRoute.
 */
function grpcRuleToLinkerd (rule: GrpcRouteRule, path: string, key: string, idx: ServiceIndex, log: UnsupportedLog): { rule: Obj, annotations: Record<string, string> } {
  const out: Obj = {}
  if (rule.name !== undefined) log.add(key, `${path}.name`, 'rule names are not in the Gateway API version Linkerd reads; dropped')
  const matches = rule.matches.filter(m => m.method !== undefined || (m.headers !== undefined && m.headers.length > 0))
  if (matches.length > 0) {
    out.matches = matches.map(m => {
      const mm: Obj = {}
      if (m.method !== undefined) mm.method = { type: m.method.type, ...(m.method.service ? { service: m.method.service } : {}), ...(m.method.method ? { method: m.method.method } : {}) }
      if (m.headers !== undefined && m.headers.length > 0) mm.headers = m.headers.map(h => ({ type: h.type, name: h.name, value: h.value }))
      return mm
    })
  }
  const filters: Obj[] = []
  rule.filters?.forEach((f, i) => {
    if (f.type === 'RequestHeaderModifier') filters.push({ type: f.type, requestHeaderModifier: f.requestHeaderModifier })
    else if (f.type === 'ResponseHeaderModifier') filters.push({ type: f.type, responseHeaderModifier: f.responseHeaderModifier })
    else log.add(key, `${path}.filters[${i}]`, `Linkerd does not support the ${f.type} filter`)
  })
  if (filters.length > 0) out.filters = filters
  out.backendRefs = rule.backendRefs.map(b => ({
    name: b.name,
    ...(b.namespace !== undefined ? { namespace: b.namespace } : {}),
    port: b.port ?? idx.port(idx.resolve(b.name).service),
    weight: b.weight
  }))
  const annotations: Record<string, string> = {}
  if (rule.timeouts?.request !== undefined) annotations['timeout.linkerd.io/request'] = toSecondsOrMs(rule.timeouts.request)
  if (rule.retry !== undefined && rule.retry.attempts > 0) {
    if (rule.retry.grpcCodes !== undefined && rule.retry.grpcCodes.length > 0) annotations['retry.linkerd.io/grpc'] = rule.retry.grpcCodes.join(',')
    annotations['retry.linkerd.io/limit'] = String(rule.retry.attempts)
    if (rule.timeouts?.backendRequest !== undefined) annotations['retry.linkerd.io/timeout'] = toSecondsOrMs(rule.timeouts.backendRequest)
    if (rule.retry.codes.join(',') !== DEFAULT_RETRY_CODES) log.add(key, `${path}.retry.codes`, 'HTTP status retries (retry.linkerd.io/http) are not valid on a Linkerd GRPCRoute; only gRPC statuses (grpcCodes) are retried')
    log.add(key, `${path}.retry.backoff`, 'Linkerd has no retry backoff setting')
    if (!rule.retry.onConnectFailure) log.add(key, `${path}.retry.onConnectFailure`, 'Linkerd has no setting to leave connection failures out of retries')
  } else if (rule.timeouts?.backendRequest !== undefined) {
    annotations['timeout.linkerd.io/response'] = toSecondsOrMs(rule.timeouts.backendRequest)
  }
  return { rule: out, annotations }
}

function ruleToLinkerd (rule: RouteRule, path: string, key: string, idx: ServiceIndex, log: UnsupportedLog): { rule: Obj, annotations: Record<string, string> } {
  const out: Obj = {}
  if (rule.name !== undefined) log.add(key, `${path}.name`, 'rule names are not in the Gateway API version Linkerd reads; dropped')
  out.matches = rule.matches.map(m => {
    const mm: Obj = {}
    if (m.path !== undefined) mm.path = { type: m.path.type, value: m.path.value }
    if (m.headers !== undefined) mm.headers = m.headers.map(h => ({ type: h.type, name: h.name, value: h.value }))
    if (m.queryParams !== undefined) mm.queryParams = m.queryParams.map(q => ({ type: q.type, name: q.name, value: q.value }))
    if (m.method !== undefined) mm.method = m.method
    return mm
  })
  const filters: Obj[] = []
  rule.filters?.forEach((f, i) => {
    const fp = `${path}.filters[${i}]`
    if (f.type === 'RequestHeaderModifier') filters.push({ type: f.type, requestHeaderModifier: f.requestHeaderModifier })
    else if (f.type === 'ResponseHeaderModifier') filters.push({ type: f.type, responseHeaderModifier: f.responseHeaderModifier })
    else if (f.type === 'RequestRedirect') {
      const { path: p, ...rest } = f.requestRedirect
      filters.push({ type: f.type, requestRedirect: { ...rest, ...(p !== undefined ? { path: p } : {}) } })
    } else if (f.type === 'RequestMirror') log.add(key, fp, 'Linkerd does not support the RequestMirror filter')
    else log.add(key, fp, 'Linkerd does not support the URLRewrite filter')
  })
  if (filters.length > 0) out.filters = filters
  if (rule.backendRefs.length > 0) {
    out.backendRefs = rule.backendRefs.map(b => ({
      name: b.name,
      ...(b.namespace !== undefined ? { namespace: b.namespace } : {}),
      port: b.port ?? idx.port(idx.resolve(b.name).service),
      weight: b.weight
    }))
  }
  const annotations: Record<string, string> = {}
  if (rule.timeouts?.request !== undefined) annotations['timeout.linkerd.io/request'] = toSecondsOrMs(rule.timeouts.request)
  if (rule.retry !== undefined && rule.retry.attempts > 0) {
    if (rule.retry.codes.length > 0) annotations['retry.linkerd.io/http'] = rule.retry.codes.join(',')
    if (rule.retry.grpcCodes !== undefined && rule.retry.grpcCodes.length > 0) log.add(key, `${path}.retry.grpcCodes`, 'Linkerd retries on gRPC statuses only for GRPCRoutes (retry.linkerd.io/grpc is not valid on an HTTPRoute); write the gRPC calls as a GRPCRoute')
    annotations['retry.linkerd.io/limit'] = String(rule.retry.attempts)
    if (rule.timeouts?.backendRequest !== undefined) annotations['retry.linkerd.io/timeout'] = toSecondsOrMs(rule.timeouts.backendRequest)
    log.add(key, `${path}.retry.backoff`, 'Linkerd has no retry backoff setting')
    if (!rule.retry.onConnectFailure) log.add(key, `${path}.retry.onConnectFailure`, 'Linkerd has no setting to leave connection failures out of retries')
  } else if (rule.timeouts?.backendRequest !== undefined) {
    annotations['timeout.linkerd.io/response'] = toSecondsOrMs(rule.timeouts.backendRequest)
  }
  return { rule: out, annotations }
}

function destination (p: DestinationPolicy, log: UnsupportedLog): Obj {
  const key = resourceKey(p)
  const s = p.spec
  const annotations: Record<string, string> = {}
  if (s.loadBalancer !== undefined && s.loadBalancer.type !== 'PeakEWMA') log.add(key, 'spec.loadBalancer.type', 'Linkerd always balances with peak EWMA (power of two choices); the type is not configurable')
  if (s.connectionPool !== undefined) {
    for (const f of ['maxConnections', 'maxPendingRequests', 'maxRequests', 'connectTimeout', 'idleTimeout'] as const) {
      if (s.connectionPool[f] !== undefined) log.add(key, `spec.connectionPool.${f}`, `Linkerd has no ${f} setting (pools are managed by the proxy)`)
    }
    if (s.connectionPool.protocol === 'http1') log.add(key, 'spec.connectionPool.protocol', 'Linkerd proxies always upgrade HTTP/1 to HTTP/2 between each other')
  }
  const o = s.outlierDetection
  if (o !== undefined) {
    // Linkerd circuit breaking: consecutive-failures accrual with an exponential backoff penalty.
    annotations['balancer.linkerd.io/failure-accrual'] = 'consecutive'
    annotations['balancer.linkerd.io/failure-accrual-consecutive-max-failures'] = String(o.consecutive5xx)
    annotations['balancer.linkerd.io/failure-accrual-consecutive-min-penalty'] = toSecondsOrMs(o.baseEjectionTime)
    log.add(key, 'spec.outlierDetection.consecutiveConnectFailures', 'Linkerd counts connection failures and 5xx together in one consecutive-failures counter')
    log.add(key, 'spec.outlierDetection.interval', 'Linkerd has no ejection sweep interval (endpoints are probed after the penalty)')
    log.add(key, 'spec.outlierDetection.maxEjectionPercent', 'Linkerd has no cap on the share of ejected endpoints')
  }
  if (s.retryBudget !== undefined) log.add(key, 'spec.retryBudget', 'Linkerd retry annotations have no retry budget (only ServiceProfiles had one, and they disable annotations)')
  if (s.healthCheck !== undefined) log.add(key, 'spec.healthCheck', 'Linkerd has no active health checking; use Kubernetes readiness probes')
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: p.spec.targetRef.name, namespace: p.spec.targetRef.namespace ?? p.metadata.namespace, annotations }
  }
}

function meshConfig (m: MeshConfig, log: UnsupportedLog): Obj {
  const key = resourceKey(m)
  const s = m.spec
  const annotations: Record<string, string> = {}
  if (s.mtls.mode === 'STRICT') annotations['config.linkerd.io/default-inbound-policy'] = 'all-authenticated'
  else if (s.mtls.mode === 'PERMISSIVE') annotations['config.linkerd.io/default-inbound-policy'] = 'all-unauthenticated'
  else log.add(key, 'spec.mtls.mode', 'Linkerd cannot turn mTLS off between meshed pods')
  if (s.accessLog.enabled) {
    annotations['config.linkerd.io/access-log'] = 'json'
    if (s.accessLog.path !== 'stdout') log.add(key, 'spec.accessLog.path', 'the Linkerd proxy writes access logs to stderr only')
  }
  if (s.tracing.enabled) log.add(key, 'spec.tracing', 'Linkerd tracing needs the linkerd-jaeger extension (collector set at install time); the proxy follows the caller\'s sampling decision, so sampling is not configurable here')
  if (s.tracing.otlpEndpoint !== undefined) log.add(key, 'spec.tracing.otlpEndpoint', 'set with the linkerd-jaeger extension (collector.endpoint), not a resource')
  log.add(key, 'spec.defaultTimeout', 'Linkerd has no mesh-wide default request timeout; annotate Services or HTTPRoutes')
  log.add(key, 'spec.certificates.ttl', 'workload certificate lifetime is an install setting (identity.issuer.issuanceLifetime, default 24h)')
  if (s.trustDomain !== 'cluster.local') log.add(key, 'spec.trustDomain', 'the trust domain is an install setting (identityTrustDomain)')
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: m.metadata.namespace, annotations } }
}

function authz (a: AuthorizationPolicy, server: (ns: string, target: string) => Obj, log: UnsupportedLog): Obj[] {
  const key = resourceKey(a)
  const ns = a.spec.targetRef.namespace ?? a.metadata.namespace
  if (a.spec.action === 'DENY') {
    log.add(key, 'spec.action', 'Linkerd has no deny policies: access is denied unless an AuthorizationPolicy allows it')
    return []
  }
  const srv = server(ns, a.spec.targetRef.name)
  const out: Obj[] = []
  a.spec.rules.forEach((rule, i) => {
    const path = `spec.rules[${i}]`
    const name = `${a.metadata.name}-${i}`
    const authn: Obj[] = []
    if (rule.from !== undefined) {
      const refs: Obj[] = []
      const identities: string[] = []
      rule.from.forEach((f, j) => {
        if (f.notIdentities !== undefined) log.add(key, `${path}.from[${j}].notIdentities`, 'Linkerd authentications cannot exclude identities')
        for (const id of f.identities ?? []) {
          if (id === '*') { identities.push('*'); continue }
          const s = parseSpiffe(id)
          if (s === null) log.add(key, `${path}.from[${j}].identities`, `${id} is not a SPIFFE workload ID; Linkerd identities are ServiceAccounts`)
          else refs.push({ kind: 'ServiceAccount', name: s.serviceAccount, ...(s.namespace !== ns ? { namespace: s.namespace } : {}) })
        }
      })
      if (identities.length > 0 && refs.length > 0) log.add(key, `${path}.from`, 'a wildcard identity makes the listed identities redundant; only * is kept')
      const spec = identities.length > 0 ? { identities: ['*'] } : { identityRefs: refs }
      out.push({ apiVersion: `${POLICY}/v1alpha1`, kind: 'MeshTLSAuthentication', metadata: { name, namespace: ns }, spec })
      authn.push({ group: POLICY, kind: 'MeshTLSAuthentication', name })
    }
    let targetRef: Obj = { group: POLICY, kind: 'Server', name: srv.metadata.name }
    if (rule.to !== undefined) {
      const matches: Obj[] = []
      rule.to.forEach((t, j) => {
        if (t.notPaths !== undefined) log.add(key, `${path}.to[${j}].notPaths`, 'Gateway API matches cannot exclude paths')
        const paths = t.paths ?? ['*']
        const methods: (string | undefined)[] = t.methods ?? [undefined]
        for (const p of paths) for (const m of methods) matches.push({ ...pathMatch(p), ...(m !== undefined ? { method: m } : {}) })
      })
      // Linkerd authorizes per route: an HTTPRoute on the Server carries the paths and methods.
      out.push({
        apiVersion: GATEWAY_API,
        kind: 'HTTPRoute',
        metadata: { name, namespace: ns },
        spec: { parentRefs: [{ group: POLICY, kind: 'Server', name: srv.metadata.name }], rules: [{ matches: matches.slice(0, 8) }] }
      })
      if (matches.length > 8) log.add(key, `${path}.to`, 'more than 8 path × method combinations; the rest are dropped (Gateway API limit per rule)')
      targetRef = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name }
    }
    out.push({ apiVersion: `${POLICY}/v1alpha1`, kind: 'AuthorizationPolicy', metadata: { name, namespace: ns }, spec: { targetRef, requiredAuthenticationRefs: authn } })
  })
  return out
}

/** Meshwork/Istio path patterns (`/api/*`, `/x`, `*`) → Gateway API path matches. */
function pathMatch (p: string): Obj {
  if (p === '*') return { path: { type: 'PathPrefix', value: '/' } }
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1)
    // Gateway API prefixes match whole segments; a string prefix needs a regular expression.
    if (prefix.endsWith('/')) return { path: { type: 'PathPrefix', value: prefix } }
    return { path: { type: 'RegularExpression', value: `${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*` } }
  }
  return { path: { type: 'Exact', value: p } }
}

function rateLimit (rl: RateLimitPolicy, server: (ns: string, target: string) => Obj, log: UnsupportedLog): Obj {
  const key = resourceKey(rl)
  const ns = rl.spec.targetRef.namespace ?? rl.metadata.namespace
  const srv = server(ns, rl.spec.targetRef.name)
  const l = rl.spec.local
  const perSecond = { second: 1, minute: 60, hour: 3600 }[l.unit]
  const rps = Math.max(1, Math.ceil(l.requestsPerUnit / perSecond))
  if (l.unit !== 'second') log.add(key, 'spec.local.unit', `Linkerd limits per second only: ${l.requestsPerUnit}/${l.unit} becomes ${rps}/second`)
  if (l.burst !== undefined && l.burst !== l.requestsPerUnit) log.add(key, 'spec.local.burst', 'Linkerd has no burst setting')
  return {
    apiVersion: `${POLICY}/v1alpha1`,
    kind: 'HTTPLocalRateLimitPolicy',
    metadata: { name: rl.metadata.name, namespace: ns },
    spec: { targetRef: { group: POLICY, kind: 'Server', name: srv.metadata.name }, total: { requestsPerSecond: rps } }
  }
}

