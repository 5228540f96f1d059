import { type Resource, validateResource } from '../../config/index.ts'
import { parseGoDuration, toMeshworkDuration } from '../duration.ts'
import { UnsupportedLog, type Unsupported } from '../unsupported.ts'

type Obj = Record<string, any>

/** Istio `retryOn` conditions that mean "connection failed or reset before a response". */
const CONNECT_CONDITIONS = new Set(['connect-failure', 'reset', 'refused-stream', 'reset-before-request'])
const CODE_CONDITIONS: Record<string, number[]> = { '5xx': [500, 501, 502, 503, 504], 'gateway-error': [502, 503, 504] }

/**
 * Istio VirtualService / DestinationRule objects → Meshwork resources (HTTPRoute, FaultInjection,
 * DestinationPolicy). Every Istio field without a Meshwork equivalent is reported, and each produced
 * resource is validated against the Meshwork schema.
 *
 * @example
 * const { resources, unsupported } = fromIstio(yaml.parseAllDocuments(text).map(d => d.toJS()))
 */
export function fromIstio (objects: readonly unknown[]): { resources: Resource[], unsupported: Unsupported[] } {
  const log = new UnsupportedLog('meshwork')
  const raw: Obj[] = []
  for (const o of objects) {
    if (typeof o !== 'object' || o === null) continue
    const obj = o as Obj
    const key = `${obj.kind ?? '?'}/${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name ?? '?'}`
    if (typeof obj.apiVersion !== 'string' || !obj.apiVersion.startsWith('networking.istio.io/')) {
      log.add(key, 'apiVersion', 'only networking.istio.io VirtualService and DestinationRule are read')
      continue
    }
    if (obj.kind !== 'VirtualService' && obj.kind !== 'DestinationRule') {
      log.add(key, 'kind', `${String(obj.kind)} is not translated (VirtualService and DestinationRule are)`)
      continue
    }
    // Input comes from users and the UI: a shape the Istio schema would reject is reported, never thrown.
    try {
      const clean = withoutNulls(obj) as Obj
      raw.push(...(obj.kind === 'VirtualService' ? virtualService(clean, key, log) : destinationRule(clean, key, log)))
    } catch (err) {
      log.add(key, 'spec', `not a readable ${String(obj.kind)}: ${(err as Error).message}`)
    }
  }
  const resources: Resource[] = []
  for (const r of raw) {
    const v = validateResource(r)
    if (v.ok) resources.push(v.resource)
    else for (const p of v.problems) log.add(`${r.kind}/${r.metadata.namespace}/${r.metadata.name}`, p.path, `the translated resource is not valid Meshwork config: ${p.reason}`)
  }
  return { resources, unsupported: log.items }
}

/** JSON `null` reads as absent (YAML `key:` with no value is null); arrays lose their null items. */
function withoutNulls (v: unknown): unknown {
  if (Array.isArray(v)) return v.filter(x => x !== null).map(withoutNulls)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]))
  return v
}

function virtualService (vs: Obj, key: string, log: UnsupportedLog): Obj[] {
  const spec: Obj = vs.spec ?? {}
  const ns: string = vs.metadata?.namespace ?? 'default'
  const name = k8sName(vs.metadata?.name ?? 'route')
  const out: Obj[] = []
  for (const field of ['tcp', 'tls', 'exportTo']) if (spec[field] !== undefined) log.add(key, `spec.${field}`, `VirtualService ${field} has no Meshwork equivalent (HTTP routes only)`)
  const gateways: string[] = spec.gateways ?? []
  const mesh = gateways.length === 0 || gateways.includes('mesh')
  const hosts: string[] = spec.hosts ?? []
  const parentRefs: Obj[] = []
  let hostnames: string[] | undefined
  if (mesh) for (const h of hosts) parentRefs.push(serviceRef(h, ns))
  for (const g of gateways) {
    if (g === 'mesh') continue
    const [gns, gname] = g.includes('/') ? g.split('/') : [undefined, g]
    parentRefs.push({ kind: 'Gateway', name: k8sName(gname), ...(gns !== undefined && gns !== ns ? { namespace: gns } : {}) })
    hostnames = hosts.filter(h => h !== '*')
  }
  const rules: Obj[] = []
  const http: Obj[] = spec.http ?? []
  http.forEach((h, i) => {
    const path = `spec.http[${i}]`
    for (const field of ['delegate', 'corsPolicy', 'directResponse', 'mirrors', 'retries.retryRemoteLocalities', 'match.sourceLabels', 'match.gateways']) {
      const value = field.split('.').reduce<any>((o, k) => (Array.isArray(o) ? o.map(x => x?.[k]).find(x => x !== undefined) : o?.[k]), h)
      if (value !== undefined) log.add(key, `${path}.${field}`, `${field} has no Meshwork equivalent`)
    }
    const rule: Obj = {}
    if (typeof h.name === 'string') rule.name = h.name
    if (Array.isArray(h.match) && h.match.length > 0) rule.matches = h.match.map((m: Obj, j: number) => match(m, key, `${path}.match[${j}]`, log))
    const filters: Obj[] = []
    if (h.headers?.request !== undefined) filters.push({ type: 'RequestHeaderModifier', requestHeaderModifier: headerMod(h.headers.request) })
    if (h.headers?.response !== undefined) filters.push({ type: 'ResponseHeaderModifier', responseHeaderModifier: headerMod(h.headers.response) })
    if (h.mirror !== undefined) {
      filters.push({ type: 'RequestMirror', requestMirror: { backendRef: { name: backendName(h.mirror), ...(h.mirror.port?.number !== undefined ? { port: h.mirror.port.number } : {}) }, percent: Math.round(h.mirrorPercentage?.value ?? h.mirrorPercent ?? 100) } })
    }
    if (h.redirect !== undefined) {
      const r = h.redirect
      const red: Obj = {}
      if (r.scheme !== undefined) red.scheme = r.scheme
      if (r.authority !== undefined) red.hostname = r.authority
      if (typeof r.port === 'number') red.port = r.port
      if (r.derivePort !== undefined) log.add(key, `${path}.redirect.derivePort`, 'derivePort has no Meshwork equivalent')
      if (r.uri !== undefined) red.path = { type: 'ReplaceFullPath', replaceFullPath: r.uri }
      red.statusCode = r.redirectCode ?? 301
      filters.push({ type: 'RequestRedirect', requestRedirect: red })
    }
    if (h.rewrite !== undefined) {
      const rw: Obj = {}
      if (h.rewrite.authority !== undefined) rw.hostname = h.rewrite.authority
      if (h.rewrite.uri !== undefined) rw.path = { type: 'ReplacePrefixMatch', replacePrefixMatch: h.rewrite.uri }
      if (h.rewrite.uriRegexRewrite !== undefined) log.add(key, `${path}.rewrite.uriRegexRewrite`, 'regular-expression rewrites have no Meshwork equivalent')
      filters.push({ type: 'URLRewrite', urlRewrite: rw })
    }
    if (filters.length > 0) rule.filters = filters
    if (Array.isArray(h.route)) {
      rule.backendRefs = h.route.map((d: Obj) => ({
        name: backendName(d.destination ?? {}),
        ...(d.destination?.port?.number !== undefined ? { port: d.destination.port.number } : {}),
        weight: h.route.length === 1 ? 1 : (d.weight ?? 0)
      }))
      h.route.forEach((d: Obj, j: number) => { if (d.headers !== undefined) log.add(key, `${path}.route[${j}].headers`, 'per-destination header changes have no Meshwork equivalent (use the rule\'s filters)') })
    }
    const timeouts: Obj = {}
    if (h.timeout !== undefined) {
      const ms = parseGoDuration(h.timeout)
      if (ms === null) log.add(key, `${path}.timeout`, `cannot read duration ${JSON.stringify(h.timeout)}`)
      else if (ms > 0) timeouts.request = toMeshworkDuration(ms)
    }
    const retries: Obj | undefined = h.retries
    if (h.redirect !== undefined || h.directResponse !== undefined) {
      // No upstream call: retries do not apply.
    } else if (retries === undefined) {
      // Istio's default when retries is absent: 2 attempts on connect failures / refused streams.
      rule.retry = { attempts: 2, codes: [], onConnectFailure: true }
    } else if ((retries.attempts ?? 0) > 0) {
      const codes = new Set<number>()
      let onConnectFailure = false
      for (const c of String(retries.retryOn ?? 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes').split(',').map(s => s.trim()).filter(Boolean)) {
        if (/^[0-9]{3}$/.test(c)) codes.add(Number(c))
        else if (CODE_CONDITIONS[c] !== undefined) for (const n of CODE_CONDITIONS[c]) codes.add(n)
        else if (CONNECT_CONDITIONS.has(c)) onConnectFailure = true
        else if (c !== 'retriable-status-codes') log.add(key, `${path}.retries.retryOn`, `retry condition ${JSON.stringify(c)} has no Meshwork equivalent`)
      }
      rule.retry = { attempts: Math.min(retries.attempts, 10), codes: [...codes].filter(c => c >= 400).sort((a, b) => a - b), onConnectFailure }
      if (retries.attempts > 10) log.add(key, `${path}.retries.attempts`, 'Meshwork allows at most 10 attempts; capped')
      if (retries.perTryTimeout !== undefined) {
        const ms = parseGoDuration(retries.perTryTimeout)
        if (ms !== null) timeouts.backendRequest = toMeshworkDuration(ms)
      }
    }
    if (Object.keys(timeouts).length > 0) rule.timeouts = timeouts
    rules.push(rule)
    if (h.fault !== undefined) {
      out.push(fault(h, ns, name, i, hosts, key, path, log))
      if (i > 0) log.add(key, `${path}.fault`, 'Istio faults only requests this rule gets (earlier rules match first); the Meshwork FaultInjection keeps the rule\'s matches but not the precedence of earlier rules')
    }
  })
  out.unshift({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns },
    spec: { parentRefs, ...(hostnames !== undefined && hostnames.length > 0 ? { hostnames } : {}), rules }
  })
  return out
}

function fault (h: Obj, ns: string, name: string, i: number, hosts: string[], key: string, path: string, log: UnsupportedLog): Obj {
  const spec: Obj = { targetRef: { kind: 'Service', name: k8sName(shortHost(hosts[0] ?? name)) } }
  if (hosts.length > 1) log.add(key, `${path}.fault`, `a Meshwork FaultInjection targets one service; only ${hosts[0]} is kept`)
  if (Array.isArray(h.match) && h.match.length > 0) spec.matches = h.match.map((m: Obj, j: number) => match(m, key, `${path}.match[${j}]`, new UnsupportedLog('meshwork')))
  const d = h.fault.delay
  if (d !== undefined) {
    const ms = parseGoDuration(d.fixedDelay ?? '')
    if (ms === null) log.add(key, `${path}.fault.delay`, 'only fixedDelay is supported')
    else spec.delay = { fixedDelay: toMeshworkDuration(ms), percentage: d.percentage?.value ?? d.percent ?? 100 }
  }
  const a = h.fault.abort
  if (a !== undefined) {
    if (a.httpStatus === undefined) log.add(key, `${path}.fault.abort`, 'only httpStatus aborts are supported (not gRPC or HTTP/2 errors)')
    else spec.abort = { httpStatus: a.httpStatus, percentage: a.percentage?.value ?? 100 }
  }
  return { apiVersion: 'meshwork.dev/v1alpha1', kind: 'FaultInjection', metadata: { name: k8sName(`${name}-fault-${i}`), namespace: ns }, spec }
}

function match (m: Obj, key: string, path: string, log: UnsupportedLog): Obj {
  const out: Obj = {}
  if (m.uri !== undefined) {
    if (m.uri.exact !== undefined) out.path = { type: 'Exact', value: m.uri.exact }
    else if (m.uri.prefix !== undefined) out.path = { type: 'PathPrefix', value: m.uri.prefix }
    else if (m.uri.regex !== undefined) out.path = { type: 'RegularExpression', value: m.uri.regex }
  }
  if (m.headers !== undefined) out.headers = Object.entries(m.headers as Obj).flatMap(([name, sm]) => stringMatch(sm, key, `${path}.headers.${name}`, log, name))
  if (m.queryParams !== undefined) out.queryParams = Object.entries(m.queryParams as Obj).flatMap(([name, sm]) => stringMatch(sm, key, `${path}.queryParams.${name}`, log, name))
  if (m.method !== undefined) {
    if (m.method.exact !== undefined) out.method = m.method.exact
    else log.add(key, `${path}.method`, 'only exact method matches are supported')
  }
  for (const field of ['authority', 'scheme', 'port', 'sourceNamespace', 'withoutHeaders', 'ignoreUriCase']) if (m[field] !== undefined) log.add(key, `${path}.${field}`, `match on ${field} has no Meshwork equivalent`)
  return out
}

function stringMatch (sm: Obj, key: string, path: string, log: UnsupportedLog, name: string): Obj[] {
  if (sm.exact !== undefined) return [{ type: 'Exact', name, value: sm.exact }]
  if (sm.regex !== undefined) return [{ type: 'RegularExpression', name, value: sm.regex }]
  if (sm.prefix !== undefined) return [{ type: 'RegularExpression', name, value: `^${escapeRegex(sm.prefix)}.*` }]
  log.add(key, path, 'unsupported string match')
  return []
}

function headerMod (h: Obj): Obj {
  const out: Obj = {}
  if (h.set !== undefined) out.set = Object.entries(h.set as Record<string, string>).map(([name, value]) => ({ name, value }))
  if (h.add !== undefined) out.add = Object.entries(h.add as Record<string, string>).map(([name, value]) => ({ name, value }))
  if (h.remove !== undefined) out.remove = h.remove
  return out
}

function destinationRule (dr: Obj, key: string, log: UnsupportedLog): Obj[] {
  const spec: Obj = dr.spec ?? {}
  const ns: string = dr.metadata?.namespace ?? 'default'
  const host = k8sName(shortHost(spec.host ?? '?'))
  // `reviews.other.svc.cluster.local` names a service of another namespace.
  const hostParts = String(spec.host ?? '').split('.')
  const hostNs = hostParts.length >= 2 && hostParts[1] !== 'svc' ? hostParts[1] : undefined
  const out: Obj[] = []
  if (spec.exportTo !== undefined) log.add(key, 'spec.exportTo', 'exportTo has no Meshwork equivalent')
  if (spec.workloadSelector !== undefined) log.add(key, 'spec.workloadSelector', 'workloadSelector has no Meshwork equivalent')
  if (spec.trafficPolicy !== undefined) out.push(policy(spec.trafficPolicy, k8sName(dr.metadata?.name ?? host), ns, host, hostNs, key, 'spec.trafficPolicy', log))
  const subsets: Obj[] = spec.subsets ?? []
  subsets.forEach((s, i) => {
    const labels = Object.keys(s.labels ?? {})
    if (labels.some(l => l !== 'version')) log.add(key, `spec.subsets[${i}].labels`, 'Meshwork subsets are versions: a subset is `<service>-<version>` and selects the version label only')
    if (s.labels?.version !== undefined && s.labels.version !== s.name) log.add(key, `spec.subsets[${i}].name`, `backend names use the version label: subset ${s.name} is reached as ${host}-${s.labels.version}`)
    if (s.trafficPolicy !== undefined) out.push(policy(s.trafficPolicy, k8sName(`${dr.metadata?.name ?? host}-${s.name}`), ns, k8sName(`${host}-${s.labels?.version ?? s.name}`), hostNs, key, `spec.subsets[${i}].trafficPolicy`, log))
  })
  return out
}

function policy (tp: Obj, name: string, ns: string, target: string, targetNs: string | undefined, key: string, path: string, log: UnsupportedLog): Obj {
  const spec: Obj = { targetRef: { kind: 'Service', name: target, ...(targetNs !== undefined && targetNs !== ns ? { namespace: targetNs } : {}) } }
  for (const field of ['tls', 'portLevelSettings', 'tunnel', 'proxyProtocol']) if (tp[field] !== undefined) log.add(key, `${path}.${field}`, `${field} has no Meshwork equivalent`)
  const lb = tp.loadBalancer
  if (lb !== undefined) {
    if (lb.simple === 'ROUND_ROBIN') spec.loadBalancer = { type: 'RoundRobin' }
    else if (lb.simple === 'LEAST_REQUEST' || lb.simple === 'LEAST_CONN') spec.loadBalancer = { type: 'LeastRequest' }
    else log.add(key, `${path}.loadBalancer`, `${lb.simple ?? (lb.consistentHash !== undefined ? 'consistentHash' : 'this')} load balancing has no Meshwork equivalent (RoundRobin, LeastRequest, PeakEWMA)`)
    if (lb.localityLbSetting !== undefined || lb.warmupDurationSecs !== undefined) log.add(key, `${path}.loadBalancer`, 'locality and warm-up settings have no Meshwork equivalent')
  }
  const cp = tp.connectionPool
  if (cp !== undefined) {
    const pool: Obj = {}
    if (cp.tcp?.maxConnections !== undefined) pool.maxConnections = cp.tcp.maxConnections
    if (cp.tcp?.connectTimeout !== undefined) pool.connectTimeout = dur(cp.tcp.connectTimeout)
    if (cp.http?.http1MaxPendingRequests !== undefined) pool.maxPendingRequests = cp.http.http1MaxPendingRequests
    if (cp.http?.http2MaxRequests !== undefined) pool.maxRequests = cp.http.http2MaxRequests
    if (cp.http?.idleTimeout !== undefined) pool.idleTimeout = dur(cp.http.idleTimeout)
    if (cp.http?.h2UpgradePolicy === 'UPGRADE') pool.protocol = 'h2'
    for (const f of ['maxRequestsPerConnection', 'maxRetries', 'useClientProtocol']) if (cp.http?.[f] !== undefined) log.add(key, `${path}.connectionPool.http.${f}`, `${f} has no Meshwork equivalent`)
    if (cp.tcp?.tcpKeepalive !== undefined) log.add(key, `${path}.connectionPool.tcp.tcpKeepalive`, 'tcpKeepalive has no Meshwork equivalent')
    spec.connectionPool = pool
  }
  const od = tp.outlierDetection
  if (od !== undefined) {
    const o: Obj = {}
    const c5 = od.consecutive5xxErrors ?? od.consecutiveErrors ?? od.consecutiveGatewayErrors
    if (c5 !== undefined) o.consecutive5xx = Math.max(1, c5)
    if (od.consecutiveGatewayErrors !== undefined && od.consecutive5xxErrors !== undefined) log.add(key, `${path}.outlierDetection.consecutiveGatewayErrors`, 'Meshwork counts all 5xx together; consecutiveGatewayErrors is dropped')
    if (od.consecutiveLocalOriginFailures !== undefined) o.consecutiveConnectFailures = Math.max(1, od.consecutiveLocalOriginFailures)
    if (od.interval !== undefined) o.interval = dur(od.interval)
    if (od.baseEjectionTime !== undefined) o.baseEjectionTime = dur(od.baseEjectionTime)
    if (od.maxEjectionPercent !== undefined) o.maxEjectionPercent = od.maxEjectionPercent
    if (od.minHealthPercent !== undefined) log.add(key, `${path}.outlierDetection.minHealthPercent`, 'minHealthPercent has no Meshwork equivalent')
    spec.outlierDetection = o
  }
  return { apiVersion: 'meshwork.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name, namespace: ns }, spec }
}

function dur (s: string): string {
  const ms = parseGoDuration(s)
  return ms === null ? s : toMeshworkDuration(ms)
}

/** `reviews.default.svc.cluster.local` → `reviews`. */
function shortHost (h: string): string {
  return h.split('.')[0]
}

function serviceRef (host: string, ns: string): Obj {
  const parts = host.split('.')
  const ref: Obj = { kind: 'Service', name: k8sName(parts[0]) }
  if (parts.length >= 2 && parts[1] !== ns && parts[1] !== 'svc') ref.namespace = parts[1]
  return ref
}

/** Destination → Meshwork backend name: a subset is addressed as `<service>-<subset>`. */
function backendName (d: Obj): string {
  const host = shortHost(String(d.host ?? '?'))
  return k8sName(d.subset !== undefined ? `${host}-${d.subset}` : host)
}

/** Istio names may be DNS subdomains; Meshwork names are DNS labels. */
function k8sName (s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'x'
}

function escapeRegex (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

