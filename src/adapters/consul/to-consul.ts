import { type AuthorizationPolicy, type DestinationPolicy, type GRPCRoute, type HTTPRoute, type MeshConfig, type RateLimitPolicy, type Resource, type RouteMatch, type RouteRule, parseDuration, resourceKey } from '../../config/index.ts'
import { formatMs, toSecondsOrMs } from '../duration.ts'
import { grpcRuleAsHttp } from '../grpc-paths.ts'
import { ServiceIndex, type ServiceRef, parseSpiffe } from '../services.ts'
import { UnsupportedLog, type Unsupported } from '../unsupported.ts'

type Obj = Record<string, any>

const API = 'consul.hashicorp.com/v1alpha1'

interface IntentionEntry { name: string, action: 'allow' | 'deny', perms: Obj[] | undefined }
interface IntentionAcc { service: string, entries: IntentionEntry[], hasAllow: boolean }

/**
 * Meshwork resources → Consul config entries as Consul-on-Kubernetes CRDs: ServiceRouter,
 * ServiceSplitter, ServiceResolver (subsets select `Service.Meta.version`), ServiceDefaults,
 * ServiceIntentions and ProxyDefaults.
 *
 * @example
 * const { resources, unsupported } = toConsul(loaded.map(l => l.resource))
 */
export function toConsul (input: readonly Resource[]): { resources: Obj[], unsupported: Unsupported[] } {
  return new ConsulTranslation(input).run()
}

class ConsulTranslation {
  readonly log = new UnsupportedLog('consul')
  readonly idx: ServiceIndex
  /** `ns/service` → ServiceDefaults spec (protocol, upstream overrides, rate limits). */
  readonly defaults = new Map<string, Obj>()
  readonly resolvers = new Map<string, Obj>()
  readonly splitters = new Map<string, Obj>()
  readonly routers: Obj[] = []
  readonly intentions = new Map<string, IntentionAcc>()
  readonly other: Obj[] = []
  readonly callers: string[]

  constructor (readonly input: readonly Resource[]) {
    this.idx = new ServiceIndex(input)
    this.callers = [...new Set(input.filter(r => r.kind === 'Workload').map(r => (r as Extract<Resource, { kind: 'Workload' }>).spec.service))].sort()
  }

  run (): { resources: Obj[], unsupported: Unsupported[] } {
    const by = <K extends Resource['kind']>(k: K) => this.input.filter(r => r.kind === k) as Extract<Resource, { kind: K }>[]
    for (const r of by('Workload')) this.log.add(resourceKey(r), '', 'a Workload describes a local process; on Kubernetes deploy it as a Deployment with the consul.hashicorp.com/connect-inject annotation and service-meta-version set to its version')
    for (const g of by('Gateway')) this.log.add(resourceKey(g), 'spec', 'Consul API Gateway reads Gateway API Gateways/HTTPRoutes directly (gatewayClassName consul); not translated to config entries')
    for (const r of by('HTTPRoute')) this.route(r)
    for (const r of by('GRPCRoute')) this.route(r)
    for (const f of by('FaultInjection')) this.log.add(resourceKey(f), 'spec', 'Consul has no fault injection')
    for (const p of by('DestinationPolicy')) this.destination(p)
    for (const m of by('MeshConfig')) this.other.push(this.meshConfig(m))
    for (const a of by('AuthorizationPolicy')) this.authz(a)
    for (const rl of by('RateLimitPolicy')) this.rateLimit(rl)
    const crd = (kind: string, key: string, spec: Obj): Obj => {
      const [ns, name] = key.split('/')
      return { apiVersion: API, kind, metadata: { name, namespace: ns }, spec }
    }
    const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => a.localeCompare(b))
    const resources = [
      ...sorted(this.defaults).map(([k, spec]) => crd('ServiceDefaults', k, spec)),
      ...sorted(this.resolvers).map(([k, spec]) => crd('ServiceResolver', k, spec.subsets === undefined ? spec : { ...spec, subsets: Object.fromEntries(Object.entries(spec.subsets).sort(([a], [b]) => a.localeCompare(b))) })),
      ...sorted(this.splitters).map(([k, spec]) => crd('ServiceSplitter', k, spec)),
      ...this.routers,
      ...sorted(this.intentions).map(([k, acc]) => crd('ServiceIntentions', k, this.intentionSpec(acc))),
      ...this.other
    ]
    return { resources, unsupported: this.log.items }
  }

  serviceDefaults (ns: string, service: string): Obj {
    const k = `${ns}/${service}`
    let d = this.defaults.get(k)
    // L7 routing needs an HTTP-family protocol; grpc makes Consul's Envoy speak HTTP/2 and count gRPC statuses.
    if (d === undefined) this.defaults.set(k, d = { protocol: this.idx.protocol(service) })
    return d
  }

  /** Register the subset on the service's resolver; returns the Consul destination fields. */
  target (ref: ServiceRef, ns: string): Obj {
    this.serviceDefaults(ref.namespace ?? ns, ref.service)
    if (ref.subset === undefined) return { service: ref.service, ...(ref.namespace !== undefined && ref.namespace !== ns ? { namespace: ref.namespace } : {}) }
    const k = `${ref.namespace ?? ns}/${ref.service}`
    let r = this.resolvers.get(k)
    if (r === undefined) this.resolvers.set(k, r = {})
    r.subsets = { ...(r.subsets ?? {}), [ref.subset]: { filter: `Service.Meta.version == ${ref.subset}` } }
    return { service: ref.service, serviceSubset: ref.subset, ...(ref.namespace !== undefined && ref.namespace !== ns ? { namespace: ref.namespace } : {}) }
  }

  /** A route → a ServiceRouter per Service parent; a GRPCRoute's method matches become path matches (`grpc-paths.ts`). */
  route (r: HTTPRoute | GRPCRoute): void {
    const key = resourceKey(r)
    const rules: RouteRule[] = r.kind === 'GRPCRoute' ? r.spec.rules.map(grpcRuleAsHttp) : r.spec.rules
    const ns = r.metadata.namespace
    r.spec.parentRefs.forEach((p, i) => {
      if (p.kind === 'Gateway') {
        this.log.add(key, `spec.parentRefs[${i}]`, 'routes on a Gateway are read by Consul API Gateway as Gateway API HTTPRoutes; only Service parents become a service-router')
        return
      }
      const routes: Obj[] = []
      rules.forEach((rule, j) => routes.push(...this.rule(key, ns, rule, `spec.rules[${j}]`)))
      this.serviceDefaults(p.namespace ?? ns, this.idx.resolve(p.name).service)
      this.routers.push({ apiVersion: API, kind: 'ServiceRouter', metadata: { name: p.name, namespace: p.namespace ?? ns }, spec: { routes } })
    })
    if (r.spec.parentRefs.filter(p => p.kind === 'Service').length > 0 && r.spec.hostnames !== undefined) this.log.add(key, 'spec.hostnames', 'hostnames are ignored on routes with Service parents')
  }

  rule (key: string, ns: string, rule: RouteRule, path: string): Obj[] {
    const dest: Obj = {}
    if (rule.filters?.some(f => f.type === 'RequestRedirect')) {
      this.log.add(key, `${path}.filters`, 'a Consul service-router cannot answer with a redirect; the rule is left out')
      return []
    }
    if (rule.backendRefs.length === 1) {
      Object.assign(dest, this.target(this.idx.resolve(rule.backendRefs[0].name, rule.backendRefs[0].namespace), ns))
      if (rule.backendRefs[0].port !== undefined) this.log.add(key, `${path}.backendRefs[0].port`, 'Consul routes to services, not ports')
    } else {
      Object.assign(dest, this.split(key, ns, rule, path))
    }
    rule.filters?.forEach((f, i) => {
      const fp = `${path}.filters[${i}]`
      if (f.type === 'RequestHeaderModifier') dest.requestHeaders = headerChanges(f.requestHeaderModifier)
      else if (f.type === 'ResponseHeaderModifier') dest.responseHeaders = headerChanges(f.responseHeaderModifier)
      else if (f.type === 'RequestMirror') this.log.add(key, fp, 'Consul has no traffic mirroring')
      else if (f.type === 'URLRewrite') {
        const rw = f.urlRewrite
        if (rw.hostname !== undefined) this.log.add(key, `${fp}.urlRewrite.hostname`, 'Consul service-router cannot rewrite the host')
        if (rw.path?.type === 'ReplacePrefixMatch') dest.prefixRewrite = rw.path.replacePrefixMatch
        else if (rw.path?.type === 'ReplaceFullPath') {
          if (rule.matches.every(m => m.path?.type === 'Exact')) dest.prefixRewrite = rw.path.replaceFullPath
          else this.log.add(key, `${fp}.urlRewrite.path`, 'Consul prefixRewrite replaces the matched prefix only; a full-path rewrite needs exact path matches')
        }
      }
    })
    const req = rule.timeouts?.request
    const perTry = rule.timeouts?.backendRequest
    if (rule.retry !== undefined && rule.retry.attempts > 0) {
      dest.numRetries = rule.retry.attempts
      if (rule.retry.codes.length > 0) dest.retryOnStatusCodes = rule.retry.codes
      if (rule.retry.grpcCodes !== undefined && rule.retry.grpcCodes.length > 0) dest.retryOn = [...rule.retry.grpcCodes]
      dest.retryOnConnectFailure = rule.retry.onConnectFailure
      this.log.add(key, `${path}.retry.backoff`, 'Consul service-router has no retry backoff setting')
      if (perTry !== undefined) this.log.add(key, `${path}.timeouts.backendRequest`, 'Consul service-router has no per-try timeout; requestTimeout bounds the whole request')
      if (req !== undefined) dest.requestTimeout = toSecondsOrMs(req)
    } else {
      dest.numRetries = 0
      const single = [req, perTry].filter((d): d is string => d !== undefined).map(parseDuration)
      if (single.length > 0) dest.requestTimeout = formatMs(Math.min(...single))
    }
    // Consul routes have one match each: a rule with several matches becomes several routes.
    return rule.matches.map(m => ({ match: { http: matchToConsul(m) }, destination: dest }))
  }

  /**
   * Weighted backends: the route sends to the service without a subset and the service's splitter splits.
   * Consul has one splitter per service, so only one distinct split per service can be expressed.
   */
  split (key: string, ns: string, rule: RouteRule, path: string): Obj {
    const refs = rule.backendRefs.map(b => this.idx.resolve(b.name, b.namespace))
    const service = refs[0].service
    const total = rule.backendRefs.reduce((s, b) => s + b.weight, 0)
    const splits = rule.backendRefs.map((b, i) => ({ weight: Math.round((b.weight * 10000) / total) / 100, ...this.target(refs[i], ns) }))
    const drift = 100 - splits.reduce((s, x) => s + x.weight, 0)
    // Rounding drift goes to the largest split, which it cannot push below zero.
    const largest = splits.reduce((a, b) => (b.weight > a.weight ? b : a))
    largest.weight = Math.round((largest.weight + drift) * 100) / 100
    const k = `${refs[0].namespace ?? ns}/${service}`
    const existing = this.splitters.get(k)
    if (existing !== undefined && JSON.stringify(existing.splits) !== JSON.stringify(splits)) {
      this.log.add(key, `${path}.backendRefs`, `Consul has one service-splitter per service; ${service} already has a different split, kept`)
    } else {
      this.splitters.set(k, { splits })
    }
    if (refs.some(r => r.service === service && r.subset === undefined)) this.log.add(key, `${path}.backendRefs`, `a split to ${service} itself loops through its own splitter in Consul; give every backend a version subset`)
    return { service }
  }

  destination (p: DestinationPolicy): void {
    const key = resourceKey(p)
    const ns = p.spec.targetRef.namespace ?? p.metadata.namespace
    const ref = this.idx.resolve(p.spec.targetRef.name)
    if (ref.subset !== undefined) this.log.add(key, 'spec.targetRef.name', `Consul applies these settings per service: they cover every version of ${ref.service}`)
    const s = p.spec
    const rk = `${ns}/${ref.service}`
    const resolver = this.resolvers.get(rk) ?? {}
    if (s.loadBalancer !== undefined) {
      resolver.loadBalancer = { policy: s.loadBalancer.type === 'RoundRobin' ? 'round_robin' : 'least_request' }
      if (s.loadBalancer.type === 'PeakEWMA') this.log.add(key, 'spec.loadBalancer.type', 'Consul (Envoy) has no peak-EWMA balancer; least_request is used')
    }
    const upstream: Obj = { name: ref.service }
    if (s.connectionPool !== undefined) {
      const c = s.connectionPool
      resolver.connectTimeout = toSecondsOrMs(c.connectTimeout)
      const limits: Obj = {}
      if (c.maxConnections !== undefined) limits.maxConnections = c.maxConnections
      if (c.maxPendingRequests !== undefined) limits.maxPendingRequests = c.maxPendingRequests
      if (c.maxRequests !== undefined) limits.maxConcurrentRequests = c.maxRequests
      if (Object.keys(limits).length > 0) upstream.limits = limits
      this.log.add(key, 'spec.connectionPool.idleTimeout', 'Consul sets idle timeouts per route (service-router idleTimeout), not per destination')
      if (c.protocol !== undefined) this.log.add(key, 'spec.connectionPool.protocol', 'Consul sidecars speak the protocol of the service (service-defaults protocol); the hop protocol is not configurable apart from it')
    }
    if (s.outlierDetection !== undefined) {
      const o = s.outlierDetection
      upstream.passiveHealthCheck = {
        interval: toSecondsOrMs(o.interval),
        maxFailures: o.consecutive5xx,
        enforcingConsecutive5xx: 100,
        maxEjectionPercent: o.maxEjectionPercent,
        baseEjectionTime: toSecondsOrMs(o.baseEjectionTime)
      }
      this.log.add(key, 'spec.outlierDetection.consecutiveConnectFailures', 'Consul passive health checks count consecutive 5xx only')
    }
    if (Object.keys(resolver).length > 0) this.resolvers.set(rk, resolver)
    if (upstream.limits !== undefined || upstream.passiveHealthCheck !== undefined) {
      // Limits and passive checks are caller-side in Consul: each caller's service-defaults overrides
      // its upstream. Callers are the services of the Workloads given.
      const callers = this.callers.filter(c => c !== ref.service)
      if (callers.length === 0) this.log.add(key, 'spec', 'Consul sets connection limits and passive health checks in each caller\'s service-defaults (upstreamConfig.overrides); no caller Workloads were given, so they are not emitted')
      for (const c of callers) {
        const d = this.serviceDefaults(ns, c)
        d.upstreamConfig = { overrides: [...(d.upstreamConfig?.overrides ?? []), upstream] }
      }
    }
    if (s.retryBudget !== undefined) this.log.add(key, 'spec.retryBudget', 'Consul has no retry budget')
    if (s.healthCheck !== undefined) this.log.add(key, 'spec.healthCheck', 'Consul on Kubernetes takes health from readiness probes; no active HTTP health check in config entries')
  }

  meshConfig (m: MeshConfig): Obj {
    const key = resourceKey(m)
    const s = m.spec
    const spec: Obj = {}
    if (s.mtls.mode === 'DISABLE') this.log.add(key, 'spec.mtls.mode', 'Consul service mesh traffic is always mTLS')
    else spec.mutualTLSMode = s.mtls.mode === 'STRICT' ? 'strict' : 'permissive'
    spec.accessLogs = s.accessLog.enabled
      ? { enabled: true, ...(s.accessLog.path === 'stdout' ? { type: 'stdout' } : { type: 'file', path: s.accessLog.path }) }
      : { enabled: false }
    if (s.tracing.enabled) this.log.add(key, 'spec.tracing', 'Consul tracing is raw Envoy config (proxy-defaults config.envoy_tracing_json and a collector cluster); sampling and exporter are not translated')
    this.log.add(key, 'spec.defaultTimeout', 'Consul has no mesh-wide default request timeout; set requestTimeout per service-router route or service-resolver')
    this.log.add(key, 'spec.certificates.ttl', 'leaf certificate lifetime is a Consul server setting (connect.ca_config.leaf_cert_ttl)')
    this.log.add(key, 'spec.trustDomain', 'Consul derives the trust domain from the cluster ID (<id>.consul); it cannot be set')
    return { apiVersion: API, kind: 'ProxyDefaults', metadata: { name: 'global', namespace: m.metadata.namespace }, spec }
  }

  authz (a: AuthorizationPolicy): void {
    const key = resourceKey(a)
    const ns = a.spec.targetRef.namespace ?? a.metadata.namespace
    const ref = this.idx.resolve(a.spec.targetRef.name)
    if (ref.subset !== undefined) this.log.add(key, 'spec.targetRef.name', `Consul intentions apply per service: this policy covers every version of ${ref.service}`)
    const k = `${ns}/${ref.service}`
    let acc = this.intentions.get(k)
    if (acc === undefined) this.intentions.set(k, acc = { service: ref.service, entries: [], hasAllow: false })
    const action = a.spec.action === 'ALLOW' ? 'allow' : 'deny'
    if (action === 'allow') acc.hasAllow = true
    a.spec.rules.forEach((rule, i) => {
      const path = `spec.rules[${i}]`
      const names: string[] = []
      if (rule.from === undefined) names.push('*')
      rule.from?.forEach((f, j) => {
        if (f.notIdentities !== undefined) this.log.add(key, `${path}.from[${j}].notIdentities`, 'Consul intentions cannot exclude sources')
        for (const id of f.identities ?? []) {
          if (id === '*') { names.push('*'); continue }
          const s = parseSpiffe(id)
          if (s === null) this.log.add(key, `${path}.from[${j}].identities`, `${id} is not a SPIFFE workload ID; Consul sources are service names`)
          else names.push(s.serviceAccount)
        }
      })
      let perms: Obj[] | undefined
      if (rule.to !== undefined) {
        perms = []
        rule.to.forEach((t, j) => {
          if (t.notPaths !== undefined) this.log.add(key, `${path}.to[${j}].notPaths`, 'Consul intention permissions cannot exclude paths')
          for (const p of t.paths ?? ['*']) {
            const http: Obj = p === '*' ? { pathPrefix: '/' } : p.endsWith('*') ? { pathPrefix: p.slice(0, -1) } : { pathExact: p }
            if (t.methods !== undefined) http.methods = t.methods
            perms!.push({ action, http })
          }
        })
      }
      for (const name of names) acc.entries.push({ name, action, perms })
    })
  }

  /**
   * One ServiceIntentions per destination. Consul applies the most specific source only, while Meshwork
   * refuses a call that any DENY matches: wildcard denies are therefore copied into every named source,
   * and an ALLOW policy adds a final wildcard deny (calls no ALLOW matches are refused).
   */
  intentionSpec (acc: IntentionAcc): Obj {
    const asPerms = (e: IntentionEntry): Obj[] => e.perms ?? [{ action: e.action, http: { pathPrefix: '/' } }]
    const wildcardDeny = acc.entries.filter(e => e.name === '*' && e.action === 'deny').flatMap(asPerms)
    const names = [...new Set(acc.entries.map(e => e.name))].filter(n => n !== '*')
    const sources: Obj[] = []
    const merge = (name: string, entries: IntentionEntry[], extraDeny: Obj[], tail: Obj[]): Obj => {
      if (entries.length === 1 && entries[0].perms === undefined && extraDeny.length === 0 && tail.length === 0) return { name, action: entries[0].action }
      const perms = structuredClone([...extraDeny, ...entries.flatMap(asPerms), ...tail])
      // First matching permission wins in Consul: denies go first.
      perms.sort((x, y) => (x.action === 'deny' ? 0 : 1) - (y.action === 'deny' ? 0 : 1))
      const catchAll = (p: Obj) => p.http.pathPrefix === '/' && p.http.methods === undefined
      if (perms.every(p => p.action === perms[0].action && catchAll(p))) return { name, action: perms[0].action }
      if (perms.every(p => p.action === 'deny') && perms.some(catchAll)) return { name, action: 'deny' }
      return { name, permissions: perms }
    }
    for (const n of names) sources.push(merge(n, acc.entries.filter(e => e.name === n), wildcardDeny, []))
    const wild = acc.entries.filter(e => e.name === '*')
    const hasWildAllow = wild.some(e => e.action === 'allow')
    if (wild.length > 0 || acc.hasAllow) {
      const catchAll = acc.hasAllow && !(hasWildAllow && wild.some(e => e.action === 'allow' && e.perms === undefined)) ? [{ action: 'deny', http: { pathPrefix: '/' } }] : []
      sources.push(merge('*', wild.length > 0 ? wild : [{ name: '*', action: 'deny', perms: undefined }], [], wild.length > 0 ? catchAll : []))
    }
    return { destination: { name: acc.service }, sources }
  }

  rateLimit (rl: RateLimitPolicy): void {
    const key = resourceKey(rl)
    const ns = rl.spec.targetRef.namespace ?? rl.metadata.namespace
    const ref = this.idx.resolve(rl.spec.targetRef.name)
    const l = rl.spec.local
    const perSecond = { second: 1, minute: 60, hour: 3600 }[l.unit]
    // Consul's RequestsPerSecond is an integer (the token bucket's refill rate).
    const rps = Math.max(1, Math.ceil(l.requestsPerUnit / perSecond))
    this.serviceDefaults(ns, ref.service).rateLimits = { instanceLevel: { requestsPerSecond: rps, requestsMaxBurst: l.burst ?? l.requestsPerUnit } }
    this.log.add(key, 'spec.local', 'service-defaults RateLimits need Consul Enterprise 1.17+; Community edition ignores them')
    if (l.unit !== 'second') this.log.add(key, 'spec.local.unit', `Consul limits in whole requests per second: ${l.requestsPerUnit}/${l.unit} becomes ${rps}/second`)
    if (ref.subset !== undefined) this.log.add(key, 'spec.targetRef.name', `Consul rate limits apply per service: every version of ${ref.service}`)
  }
}

function headerChanges (m: { set?: { name: string, value: string }[], add?: { name: string, value: string }[], remove?: string[] }): Obj {
  const out: Obj = {}
  if (m.add !== undefined) out.add = Object.fromEntries(m.add.map(h => [h.name, h.value]))
  if (m.set !== undefined) out.set = Object.fromEntries(m.set.map(h => [h.name, h.value]))
  if (m.remove !== undefined) out.remove = m.remove
  return out
}

function matchToConsul (m: RouteMatch): Obj {
  const out: Obj = {}
  if (m.path !== undefined) {
    if (m.path.type === 'Exact') out.pathExact = m.path.value
    else if (m.path.type === 'PathPrefix') out.pathPrefix = m.path.value
    else out.pathRegex = m.path.value
  }
  if (m.headers !== undefined) out.header = m.headers.map(h => ({ name: h.name, ...(h.type === 'Exact' ? { exact: h.value } : { regex: h.value }) }))
  if (m.queryParams !== undefined) out.queryParam = m.queryParams.map(q => ({ name: q.name, ...(q.type === 'Exact' ? { exact: q.value } : { regex: q.value }) }))
  if (m.method !== undefined) out.methods = [m.method]
  return out
}
