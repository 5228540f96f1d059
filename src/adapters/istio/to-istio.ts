import { type AuthorizationPolicy, type DestinationPolicy, type FaultInjection, type Gateway, type GRPCRoute, type HTTPRoute, type MeshConfig, type RateLimitPolicy, type Resource, type RouteFilter, type RouteMatch, type RouteRule, parseDuration, resourceKey } from '../../config/index.ts'
import { formatMs, toSecondsOrMs } from '../duration.ts'
import { grpcRuleAsHttp } from '../grpc-paths.ts'
import { APP_LABEL, ServiceIndex, type ServiceRef, VERSION_LABEL } from '../services.ts'
import { UnsupportedLog, type Unsupported } from '../unsupported.ts'

type Obj = Record<string, any>

const NETWORKING = 'networking.istio.io/v1beta1'
const SECURITY = 'security.istio.io/v1beta1'
/** Namespace whose PeerAuthentication / Telemetry apply mesh-wide (Istio's root namespace). */
export const ISTIO_ROOT_NAMESPACE = 'istio-system'

/**
 * Meshwork resources → Istio resources (VirtualService, DestinationRule, Gateway, PeerAuthentication,
 * Telemetry, AuthorizationPolicy, and an EnvoyFilter for local rate limits, which Istio has no API for).
 *
 * @example
 * const { resources, unsupported } = toIstio(loaded.map(l => l.resource))
 */
export function toIstio (input: readonly Resource[]): { resources: Obj[], unsupported: Unsupported[] } {
  const t = new IstioTranslation(input)
  return t.run()
}

class IstioTranslation {
  readonly log = new UnsupportedLog('istio')
  readonly idx: ServiceIndex
  /** `ns/service` → subsets referenced by routes. */
  readonly subsets = new Map<string, Set<string>>()
  /** `ns/service` → the VirtualService that routes mesh calls to it. */
  readonly meshVs = new Map<string, Obj>()
  readonly out: Obj[] = []

  constructor (readonly input: readonly Resource[]) {
    this.idx = new ServiceIndex(input)
  }

  run (): { resources: Obj[], unsupported: Unsupported[] } {
    const by = <K extends Resource['kind']>(k: K) => this.input.filter(r => r.kind === k) as Extract<Resource, { kind: K }>[]
    for (const r of by('Workload')) {
      this.log.add(resourceKey(r), '', 'a Workload describes a local process; on Kubernetes deploy it as a Deployment labelled app/version and add the sidecar of the target mesh')
      const proto = this.idx.protocol(r.spec.service)
      if (proto !== 'http') this.log.add(resourceKey(r), 'spec.protocol', `give its Kubernetes Service port appProtocol: ${proto === 'grpc' ? 'grpc' : 'http2'} (or a name starting with ${proto === 'grpc' ? 'grpc-' : 'http2-'}): Istio picks the protocol from the Service port, not from a resource`)
    }
    for (const g of by('Gateway')) this.out.push(this.gateway(g))
    for (const r of by('HTTPRoute')) this.out.push(this.route(r))
    for (const r of by('GRPCRoute')) this.out.push(this.route(r))
    for (const f of by('FaultInjection')) this.fault(f)
    this.out.push(...this.destinationRules(by('DestinationPolicy')))
    for (const m of by('MeshConfig')) this.out.push(...this.meshConfig(m))
    for (const a of by('AuthorizationPolicy')) this.out.push(this.authz(a))
    for (const rl of by('RateLimitPolicy')) this.out.push(this.rateLimit(rl))
    return { resources: this.out, unsupported: this.log.items }
  }

  gateway (g: Gateway): Obj {
    const key = resourceKey(g)
    const servers = g.spec.listeners.map((l, i) => {
      const server: Obj = {
        port: { number: l.port, name: l.name, protocol: l.protocol },
        hosts: [l.hostname ?? '*']
      }
      if (l.tls?.certificateRefs !== undefined && l.tls.certificateRefs.length > 0) {
        const ref = l.tls.certificateRefs[0]
        server.tls = { mode: 'SIMPLE', credentialName: ref.name }
        if (ref.certFile !== undefined || ref.keyFile !== undefined) {
          this.log.add(key, `spec.listeners[${i}].tls.certificateRefs[0]`, 'Istio reads gateway certificates from a Kubernetes Secret named by credentialName, not from files: create the Secret from certFile/keyFile')
        }
        if (l.tls.certificateRefs.length > 1) this.log.add(key, `spec.listeners[${i}].tls.certificateRefs`, 'only the first certificate is used (Istio takes one credentialName per server)')
      }
      return server
    })
    const egress = g.spec.gatewayClassName === 'meshwork-egress'
    return {
      apiVersion: NETWORKING,
      kind: 'Gateway',
      metadata: meta(g.metadata.name, g.metadata.namespace),
      spec: { selector: { istio: egress ? 'egressgateway' : 'ingressgateway' }, servers }
    }
  }

  /**
   * A route → one VirtualService. A GRPCRoute becomes `http` entries with uri/header matches, as Istio itself
   * converts GRPCRoutes (a gRPC call is a POST to `/<Service>/<Method>`; see `grpc-paths.ts`).
   */
  route (r: HTTPRoute | GRPCRoute): Obj {
    const key = resourceKey(r)
    const ns = r.metadata.namespace
    const hosts: string[] = []
    const gateways: string[] = []
    let meshParent = false
    for (const p of r.spec.parentRefs) {
      if (p.kind === 'Service') {
        meshParent = true
        hosts.push(this.host({ service: p.name, namespace: p.namespace }, ns))
      } else {
        gateways.push(p.namespace !== undefined && p.namespace !== ns ? `${p.namespace}/${p.name}` : p.name)
      }
    }
    if (gateways.length > 0) {
      hosts.push(...(r.spec.hostnames ?? ['*']))
      if (meshParent) gateways.push('mesh')
    } else if (r.spec.hostnames !== undefined) {
      r.spec.parentRefs.forEach((p, i) => { if (p.port !== undefined) this.log.add(key, `spec.parentRefs[${i}].port`, 'a VirtualService applies to every port of its hosts') })
      this.log.add(key, 'spec.hostnames', 'hostnames of a route attached to a Service are ignored (GAMMA); Istio matches mesh calls by the Service host')
    }
    const rules: RouteRule[] = r.kind === 'GRPCRoute' ? r.spec.rules.map(grpcRuleAsHttp) : r.spec.rules
    const http = rules.map((rule, i) => this.rule(key, ns, rule, `spec.rules[${i}]`))
    const vs: Obj = {
      apiVersion: NETWORKING,
      kind: 'VirtualService',
      metadata: meta(r.metadata.name, ns),
      spec: { hosts: unique(hosts), ...(gateways.length > 0 ? { gateways } : {}), http }
    }
    if (meshParent) {
      for (const p of r.spec.parentRefs) if (p.kind === 'Service' && !this.meshVs.has(`${p.namespace ?? ns}/${p.name}`)) this.meshVs.set(`${p.namespace ?? ns}/${p.name}`, vs)
    }
    return vs
  }

  rule (key: string, ns: string, rule: RouteRule, path: string): Obj {
    const out: Obj = {}
    if (rule.name !== undefined) out.name = rule.name
    out.match = rule.matches.map(m => matchToIstio(m))
    const redirect = rule.filters?.find(f => f.type === 'RequestRedirect')
    if (redirect === undefined) {
      const total = rule.backendRefs.reduce((s, b) => s + b.weight, 0)
      const weights = percentages(rule.backendRefs.map(b => b.weight))
      if (rule.backendRefs.length > 1 && weights.some((w, i) => w * total !== rule.backendRefs[i].weight * 100)) {
        this.log.add(key, `${path}.backendRefs`, `weights rounded to whole percentages (${weights.join('/')}); Istio weights are percentages`)
      }
      out.route = rule.backendRefs.map((b, i) => {
        const dest = this.destination(this.idx.resolve(b.name, b.namespace), ns, b.port)
        return rule.backendRefs.length > 1 ? { destination: dest, weight: weights[i] } : { destination: dest }
      })
    }
    rule.filters?.forEach((f, i) => this.filter(key, ns, f, `${path}.filters[${i}]`, out, rule.matches))
    // A redirect answers without calling upstream: Istio takes no route, retries or timeout with it.
    if (redirect !== undefined) return out
    // Gateway API timeouts (GEP-1742): request bounds everything, backendRequest bounds each try.
    const req = rule.timeouts?.request
    const perTry = rule.timeouts?.backendRequest
    if (rule.retry !== undefined && rule.retry.attempts > 0) {
      const retryOn = rule.retry.codes.map(String)
      // gRPC statuses: Istio's retryOn takes the same names (Envoy's retry_on grpc conditions).
      if (rule.retry.grpcCodes !== undefined) retryOn.push(...rule.retry.grpcCodes)
      if (rule.retry.onConnectFailure) retryOn.push('connect-failure', 'reset', 'refused-stream')
      out.retries = { attempts: rule.retry.attempts, ...(retryOn.length > 0 ? { retryOn: retryOn.join(',') } : {}), ...(perTry !== undefined ? { perTryTimeout: toSecondsOrMs(perTry) } : {}) }
      if (parseDuration(rule.retry.backoff) !== 25) {
        this.log.add(key, `${path}.retry.backoff`, 'Istio has no retry backoff setting in VirtualService (Envoy uses a 25ms base interval); an EnvoyFilter on the route would be needed')
      }
      if (req !== undefined) out.timeout = toSecondsOrMs(req)
    } else {
      // Istio retries by default (2 attempts); a Meshwork rule without retry makes one attempt.
      out.retries = { attempts: 0 }
      const single = [req, perTry].filter((d): d is string => d !== undefined).map(parseDuration)
      if (single.length > 0) out.timeout = formatMs(Math.min(...single))
    }
    return out
  }

  filter (key: string, ns: string, f: RouteFilter, path: string, out: Obj, matches: RouteMatch[]): void {
    switch (f.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const mod = f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier
        const side = f.type === 'RequestHeaderModifier' ? 'request' : 'response'
        const h: Obj = {}
        if (mod.set !== undefined) h.set = Object.fromEntries(mod.set.map(x => [x.name, x.value]))
        if (mod.add !== undefined) {
          h.add = Object.fromEntries(mod.add.map(x => [x.name, x.value]))
          if (new Set(mod.add.map(x => x.name.toLowerCase())).size !== mod.add.length) this.log.add(key, `${path}.${f.type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier'}.add`, 'Istio adds one value per header name; repeated names keep the last value')
        }
        if (mod.remove !== undefined) h.remove = mod.remove
        out.headers = { ...(out.headers ?? {}), [side]: h }
        return
      }
      case 'RequestMirror': {
        if (out.mirror !== undefined) {
          this.log.add(key, path, 'Istio VirtualService (v1beta1) mirrors to one destination per route; only the first mirror is kept')
          return
        }
        const m = f.requestMirror
        out.mirror = this.destination(this.idx.resolve(m.backendRef.name, m.backendRef.namespace), ns, m.backendRef.port)
        out.mirrorPercentage = { value: m.percent }
        return
      }
      case 'RequestRedirect': {
        const r = f.requestRedirect
        const red: Obj = { redirectCode: r.statusCode }
        if (r.scheme !== undefined) red.scheme = r.scheme
        if (r.hostname !== undefined) red.authority = r.hostname
        if (r.port !== undefined) red.port = r.port
        if (r.path?.type === 'ReplaceFullPath') red.uri = r.path.replaceFullPath
        else if (r.path?.type === 'ReplacePrefixMatch') this.log.add(key, `${path}.requestRedirect.path`, 'Istio redirects can only replace the whole path (redirect.uri), not the matched prefix')
        out.redirect = red
        return
      }
      case 'URLRewrite': {
        const r = f.urlRewrite
        const rw: Obj = {}
        if (r.hostname !== undefined) rw.authority = r.hostname
        if (r.path?.type === 'ReplacePrefixMatch') {
          // Istio's rewrite.uri replaces the matched prefix for prefix matches: the same semantics.
          rw.uri = r.path.replacePrefixMatch
          if (matches.some(m => m.path?.type === 'RegularExpression')) this.log.add(key, `${path}.urlRewrite.path`, 'a prefix rewrite on a regular-expression match replaces the whole path in Istio')
        } else if (r.path?.type === 'ReplaceFullPath') {
          if (matches.every(m => m.path?.type === 'Exact')) rw.uri = r.path.replaceFullPath
          else this.log.add(key, `${path}.urlRewrite.path`, 'Istio rewrite.uri replaces only the matched prefix; a full-path rewrite needs uriRegexRewrite (Istio 1.21+), not in the published v1beta1 schema')
        }
        out.rewrite = rw
      }
    }
  }

  /** Istio host for a service: the short name in its own namespace, the FQDN across namespaces. */
  host (ref: ServiceRef, fromNs: string): string {
    if (ref.namespace === undefined || ref.namespace === fromNs) return ref.service
    return `${ref.service}.${ref.namespace}.svc.cluster.local`
  }

  destination (ref: ServiceRef, fromNs: string, port: number | undefined): Obj {
    const d: Obj = { host: this.host(ref, fromNs) }
    if (ref.subset !== undefined) {
      d.subset = ref.subset
      const k = `${ref.namespace ?? fromNs}/${ref.service}`
      let set = this.subsets.get(k)
      if (set === undefined) this.subsets.set(k, set = new Set())
      set.add(ref.subset)
    }
    if (port !== undefined) d.port = { number: port }
    return d
  }

  fault (f: FaultInjection): void {
    const key = resourceKey(f)
    const ns = f.spec.targetRef.namespace ?? f.metadata.namespace
    const target = this.idx.resolve(f.spec.targetRef.name)
    const fault: Obj = {}
    if (f.spec.delay !== undefined) fault.delay = { fixedDelay: toSecondsOrMs(f.spec.delay.fixedDelay), percentage: { value: f.spec.delay.percentage } }
    if (f.spec.abort !== undefined) fault.abort = { httpStatus: f.spec.abort.httpStatus, percentage: { value: f.spec.abort.percentage } }
    if (target.subset !== undefined) {
      this.log.add(key, 'spec.targetRef.name', `Istio injects faults per route, not per version: the fault applies to calls to every version of ${target.service}`)
    }
    const vs = this.meshVs.get(`${ns}/${target.service}`)
    const matches = f.spec.matches
    if (vs !== undefined && (matches === undefined || matches.length === 0)) {
      for (const h of vs.spec.http as Obj[]) h.fault = fault
      return
    }
    const faultRoute: Obj = { ...(matches !== undefined && matches.length > 0 ? { match: matches.map(matchToIstio) } : {}), fault, route: [{ destination: { host: this.host({ service: target.service, namespace: f.spec.targetRef.namespace }, f.metadata.namespace) } }] }
    if (vs !== undefined) {
      this.log.add(key, 'spec.matches', `in Istio, requests this fault matches are routed to ${target.service} directly, ahead of the rules of the route ${vs.metadata.name} (faults live in the VirtualService)`)
      ;(vs.spec.http as Obj[]).unshift(faultRoute)
      return
    }
    const http = [faultRoute]
    if (faultRoute.match !== undefined) http.push({ route: [{ destination: { host: faultRoute.route[0].destination.host } }] })
    const created: Obj = { apiVersion: NETWORKING, kind: 'VirtualService', metadata: meta(f.metadata.name, f.metadata.namespace), spec: { hosts: [faultRoute.route[0].destination.host], http } }
    this.meshVs.set(`${ns}/${target.service}`, created)
    this.out.push(created)
  }

  destinationRules (policies: DestinationPolicy[]): Obj[] {
    // One DestinationRule per host: service-level policy + one subset per version routes use.
    interface Entry { ns: string, service: string, policy?: Obj, subsetPolicies: Map<string, Obj>, name?: string }
    const hosts = new Map<string, Entry>()
    const entry = (ns: string, service: string): Entry => {
      const k = `${ns}/${service}`
      let e = hosts.get(k)
      if (e === undefined) hosts.set(k, e = { ns, service, subsetPolicies: new Map() })
      return e
    }
    for (const [k, set] of this.subsets) {
      const [ns, service] = k.split('/')
      const e = entry(ns, service)
      for (const s of set) if (!e.subsetPolicies.has(s)) e.subsetPolicies.set(s, {})
    }
    for (const p of policies) {
      const ns = p.spec.targetRef.namespace ?? p.metadata.namespace
      const ref = this.idx.resolve(p.spec.targetRef.name)
      const e = entry(ns, ref.service)
      const tp = this.trafficPolicy(p)
      const taken = ref.subset !== undefined ? Object.keys(e.subsetPolicies.get(ref.subset) ?? {}).length > 0 : e.policy !== undefined
      if (taken) {
        this.log.add(resourceKey(p), 'spec.targetRef', `another DestinationPolicy already targets ${p.spec.targetRef.name}; Istio takes one DestinationRule per host, the first is kept`)
        continue
      }
      if (ref.subset !== undefined) e.subsetPolicies.set(ref.subset, tp)
      else { e.policy = tp; e.name = p.metadata.name }
    }
    const out: Obj[] = []
    for (const e of [...hosts.values()].sort((a, b) => `${a.ns}/${a.service}`.localeCompare(`${b.ns}/${b.service}`))) {
      const spec: Obj = { host: e.service }
      if (e.policy !== undefined && Object.keys(e.policy).length > 0) spec.trafficPolicy = e.policy
      if (e.subsetPolicies.size > 0) {
        spec.subsets = [...e.subsetPolicies].sort(([a], [b]) => a.localeCompare(b)).map(([name, tp]) => ({
          name, labels: { [VERSION_LABEL]: name }, ...(Object.keys(tp).length > 0 ? { trafficPolicy: tp } : {})
        }))
      }
      out.push({ apiVersion: NETWORKING, kind: 'DestinationRule', metadata: meta(e.name ?? e.service, e.ns), spec })
    }
    return out
  }

  trafficPolicy (p: DestinationPolicy): Obj {
    const key = resourceKey(p)
    const s = p.spec
    const tp: Obj = {}
    if (s.loadBalancer !== undefined) {
      const lb = s.loadBalancer.type
      tp.loadBalancer = { simple: lb === 'RoundRobin' ? 'ROUND_ROBIN' : 'LEAST_REQUEST' }
      if (lb === 'PeakEWMA') this.log.add(key, 'spec.loadBalancer.type', 'Istio has no peak-EWMA balancer; LEAST_REQUEST is used')
    }
    if (s.connectionPool !== undefined) {
      const c = s.connectionPool
      const tcp: Obj = { connectTimeout: toSecondsOrMs(c.connectTimeout) }
      if (c.maxConnections !== undefined) tcp.maxConnections = c.maxConnections
      const http: Obj = { idleTimeout: toSecondsOrMs(c.idleTimeout) }
      if (c.maxPendingRequests !== undefined) http.http1MaxPendingRequests = c.maxPendingRequests
      if (c.maxRequests !== undefined) http.http2MaxRequests = c.maxRequests
      if (c.protocol !== undefined) http.h2UpgradePolicy = c.protocol === 'h2' ? 'UPGRADE' : 'DO_NOT_UPGRADE'
      tp.connectionPool = { tcp, http }
    }
    if (s.outlierDetection !== undefined) {
      const o = s.outlierDetection
      // Connect failures are "local origin" errors in Envoy: counted apart from 5xx only when split.
      tp.outlierDetection = {
        consecutive5xxErrors: o.consecutive5xx,
        splitExternalLocalOriginErrors: true,
        consecutiveLocalOriginFailures: o.consecutiveConnectFailures,
        interval: toSecondsOrMs(o.interval),
        baseEjectionTime: toSecondsOrMs(o.baseEjectionTime),
        maxEjectionPercent: o.maxEjectionPercent
      }
    }
    if (s.retryBudget !== undefined) this.log.add(key, 'spec.retryBudget', 'Istio has no retry budget in its published API (Envoy retry_budget needs an EnvoyFilter); retries are bounded by attempts only')
    if (s.healthCheck !== undefined) this.log.add(key, 'spec.healthCheck', 'Istio has no active health checking; use Kubernetes readiness probes (and outlierDetection for passive checks)')
    return tp
  }

  meshConfig (m: MeshConfig): Obj[] {
    const key = resourceKey(m)
    const s = m.spec
    const out: Obj[] = [{
      apiVersion: SECURITY,
      kind: 'PeerAuthentication',
      metadata: meta('default', ISTIO_ROOT_NAMESPACE),
      spec: { mtls: { mode: s.mtls.mode } }
    }]
    const telemetry: Obj = {
      tracing: [s.tracing.enabled ? { randomSamplingPercentage: s.tracing.sampling } : { disableSpanReporting: true }],
      accessLogging: [{ providers: [{ name: 'envoy' }], disabled: !s.accessLog.enabled }]
    }
    out.push({ apiVersion: 'telemetry.istio.io/v1alpha1', kind: 'Telemetry', metadata: meta('mesh-default', ISTIO_ROOT_NAMESPACE), spec: telemetry })
    if (s.tracing.otlpEndpoint !== undefined) this.log.add(key, 'spec.tracing.otlpEndpoint', 'Istio sets the OTLP collector at install time (meshConfig.extensionProviders[].opentelemetry), not in a resource')
    if (s.accessLog.enabled && s.accessLog.path !== 'stdout') this.log.add(key, 'spec.accessLog.path', 'the Envoy access log provider writes to stdout; a file needs meshConfig.accessLogFile at install time')
    this.log.add(key, 'spec.defaultTimeout', 'Istio has no mesh-wide default request timeout (routes without one wait indefinitely); set timeout on each VirtualService route')
    this.log.add(key, 'spec.certificates.ttl', 'workload certificate lifetime is an istiod install setting (DEFAULT_WORKLOAD_CERT_TTL), not a resource')
    if (s.trustDomain !== 'cluster.local') this.log.add(key, 'spec.trustDomain', 'the trust domain is an install setting (meshConfig.trustDomain)')
    return out
  }

  authz (a: AuthorizationPolicy): Obj {
    const target = this.idx.resolve(a.spec.targetRef.name)
    const labels: Record<string, string> = { [APP_LABEL]: target.service }
    if (target.subset !== undefined) labels[VERSION_LABEL] = target.subset
    const rules = a.spec.rules.map(r => {
      const out: Obj = {}
      if (r.from !== undefined) {
        out.from = r.from.map(f => {
          const source: Obj = {}
          if (f.identities !== undefined) source.principals = f.identities.map(principal)
          if (f.notIdentities !== undefined) source.notPrincipals = f.notIdentities.map(principal)
          return { source }
        })
      }
      if (r.to !== undefined) {
        out.to = r.to.map(t => {
          const operation: Obj = {}
          if (t.paths !== undefined) operation.paths = t.paths
          if (t.notPaths !== undefined) operation.notPaths = t.notPaths
          if (t.methods !== undefined) operation.methods = t.methods
          return { operation }
        })
      }
      return out
    })
    return {
      apiVersion: SECURITY,
      kind: 'AuthorizationPolicy',
      metadata: meta(a.metadata.name, a.spec.targetRef.namespace ?? a.metadata.namespace),
      spec: { selector: { matchLabels: labels }, action: a.spec.action, ...(rules.length > 0 ? { rules } : {}) }
    }
  }

  rateLimit (rl: RateLimitPolicy): Obj {
    const target = this.idx.resolve(rl.spec.targetRef.name)
    const labels: Record<string, string> = { [APP_LABEL]: target.service }
    if (target.subset !== undefined) labels[VERSION_LABEL] = target.subset
    const l = rl.spec.local
    // Envoy refills the bucket in steps of fill_interval (at least 50ms): small steps keep the rate smooth
    // like Meshwork's continuous refill; the bucket size is the burst.
    const unitMs = { second: 1000, minute: 60_000, hour: 3_600_000 }[l.unit]
    const fillMs = Math.max(50, Math.ceil(unitMs / l.requestsPerUnit))
    const perFill = Math.max(1, Math.round((l.requestsPerUnit * fillMs) / unitMs))
    // Istio has no rate-limit API: the local_ratelimit HTTP filter is inserted on the inbound sidecar
    // (the documented Istio recipe), with a token bucket equal to Meshwork's.
    return {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: meta(`${rl.metadata.name}-local-ratelimit`, rl.spec.targetRef.namespace ?? rl.metadata.namespace),
      spec: {
        workloadSelector: { labels },
        configPatches: [{
          applyTo: 'HTTP_FILTER',
          match: { context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
          patch: {
            operation: 'INSERT_BEFORE',
            value: {
              name: 'envoy.filters.http.local_ratelimit',
              typed_config: {
                '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
                type_url: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
                value: {
                  stat_prefix: 'http_local_rate_limiter',
                  token_bucket: { max_tokens: l.burst ?? l.requestsPerUnit, tokens_per_fill: perFill, fill_interval: `${fillMs / 1000}s` },
                  filter_enabled: { runtime_key: 'local_rate_limit_enabled', default_value: { numerator: 100, denominator: 'HUNDRED' } },
                  filter_enforced: { runtime_key: 'local_rate_limit_enforced', default_value: { numerator: 100, denominator: 'HUNDRED' } }
                }
              }
            }
          }
        }]
      }
    }
  }
}

function matchToIstio (m: RouteMatch): Obj {
  const out: Obj = {}
  if (m.path !== undefined) {
    const k = m.path.type === 'Exact' ? 'exact' : m.path.type === 'PathPrefix' ? 'prefix' : 'regex'
    out.uri = { [k]: m.path.value }
  }
  if (m.headers !== undefined) out.headers = Object.fromEntries(m.headers.map(h => [h.name.toLowerCase(), { [h.type === 'Exact' ? 'exact' : 'regex']: h.value }]))
  if (m.queryParams !== undefined) out.queryParams = Object.fromEntries(m.queryParams.map(q => [q.name, { [q.type === 'Exact' ? 'exact' : 'regex']: q.value }]))
  if (m.method !== undefined) out.method = { exact: m.method }
  return out
}

/** Istio principals are SPIFFE IDs without the scheme: `cluster.local/ns/default/sa/productpage`. */
function principal (id: string): string {
  return id.startsWith('spiffe://') ? id.slice('spiffe://'.length) : id
}

/** Integer weights → whole percentages summing to 100 (largest remainder), as Istio expects. */
export function percentages (weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  if (total === 0) return weights.map(() => 0)
  const exact = weights.map(w => (w * 100) / total)
  const floor = exact.map(Math.floor)
  let rest = 100 - floor.reduce((a, b) => a + b, 0)
  const order = exact.map((e, i) => [e - floor[i], i] as const).sort((a, b) => b[0] - a[0])
  for (const [, i] of order) { if (rest <= 0) break; floor[i]++; rest-- }
  return floor
}

function meta (name: string, namespace: string): Obj {
  return { name, namespace }
}

function unique<T> (xs: T[]): T[] {
  return [...new Set(xs)]
}
