import { appendResource, deleteIn, documentsOf, type ResourceRef, removeResource, setIn } from './yaml-edit.ts'

/**
 * The common intents of the Config page's forms, read from and written into the editor's YAML text.
 * Reading gives the running values (the forms start from them, not from defaults); writing changes only
 * the fields the user touched, through yaml-edit.ts, so the diff shows nothing else (issue 19).
 */
type Obj = Record<string, any>

/** Every resource of the text as plain data (documents with syntax errors left out). */
export function resourcesOf (text: string): Obj[] {
  return documentsOf(text).filter(d => d.errors.length === 0).map(d => d.toJS()).filter(v => v !== null && typeof v === 'object')
}

export function servicesOf (resources: readonly Obj[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (const d of resources) {
    if (d.kind !== 'Workload') continue
    const s = d.spec?.service
    const v = d.spec?.version ?? 'v1'
    if (typeof s !== 'string') continue
    m.set(s, [...new Set([...(m.get(s) ?? []), v])].sort())
  }
  return m
}

/**
 * The GAMMA route of a service: a GRPCRoute attached to it when it has one (a GRPCRoute on a service makes its
 * HTTPRoutes ignored), else an HTTPRoute attached to it (the one named after it first).
 */
export function serviceRouteOf (resources: readonly Obj[], service: string): Obj | undefined {
  for (const kind of ['GRPCRoute', 'HTTPRoute']) {
    const attached = resources.filter(r => r.kind === kind && (r.spec?.parentRefs ?? []).some((p: Obj) => (p.kind ?? 'Service') === 'Service' && p.name === service))
    if (attached.length > 0) return attached.find(r => r.metadata?.name === service) ?? attached[0]
  }
  return undefined
}

const routeRef = (route: Obj): ResourceRef => ({ kind: route.kind === 'GRPCRoute' ? 'GRPCRoute' : 'HTTPRoute', name: route.metadata.name })
/** The retry block a form writes when the route had none (a GRPCRoute also retries on UNAVAILABLE). */
const newRetry = (route: Obj | undefined, attempts: number): Obj =>
  ({ attempts, backoff: '25ms', codes: [502, 503, 504], ...(route?.kind === 'GRPCRoute' ? { grpcCodes: ['unavailable'] } : {}) })
const rulesOf = (route: Obj | undefined): Obj[] => (Array.isArray(route?.spec?.rules) ? route.spec.rules : [])

function newRoute (service: string, rule: Obj): Obj {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: service }, spec: { parentRefs: [{ kind: 'Service', name: service }], rules: [{ backendRefs: [{ name: service }], ...rule }] } }
}

// --- timeouts and retries -------------------------------------------------------------------------

export interface RouteSettings {
  /** `timeouts.request` of the route's rules, '' when unset, null when the rules differ. */
  request: string | null
  /** `timeouts.backendRequest` (per try), same conventions. */
  backendRequest: string | null
  /** `retry.attempts` (0 without retry), null when the rules differ. */
  attempts: number | null
}
export type RouteChanges = Partial<{ request: string, backendRequest: string, attempts: number }>

function common<T> (values: T[]): T | null {
  return values.length > 0 && values.every(v => v === values[0]) ? values[0] : null
}

export function routeSettingsOf (route: Obj | undefined): RouteSettings {
  const rules = rulesOf(route)
  if (rules.length === 0) return { request: '', backendRequest: '', attempts: 0 }
  return {
    request: common(rules.map(r => String(r.timeouts?.request ?? ''))),
    backendRequest: common(rules.map(r => String(r.timeouts?.backendRequest ?? ''))),
    attempts: common(rules.map(r => (r.retry == null ? 0 : Number(r.retry.attempts ?? 2))))
  }
}

/** Write the touched timeout/retry fields into every rule of the service's route (or a new route). */
export function writeRouteSettings (text: string, service: string, changes: RouteChanges): string {
  const route = serviceRouteOf(resourcesOf(text), service)
  if (route === undefined) {
    const timeouts = Object.fromEntries((['request', 'backendRequest'] as const).filter(k => changes[k]).map(k => [k, changes[k]]))
    return appendResource(text, newRoute(service, {
      ...(Object.keys(timeouts).length > 0 ? { timeouts } : {}),
      ...(changes.attempts ? { retry: newRetry(undefined, changes.attempts) } : {})
    }))
  }
  const ref = routeRef(route)
  let out = text
  rulesOf(route).forEach((rule, i) => {
    const at = ['spec', 'rules', i]
    for (const field of ['request', 'backendRequest'] as const) {
      const v = changes[field]
      if (v === undefined) continue
      if (v !== '') out = setIn(out, ref, [...at, 'timeouts', field], v)
      else if (rule.timeouts?.[field] !== undefined) {
        const others = Object.keys(rule.timeouts).filter(k => k !== field && (changes as Obj)[k] !== '')
        out = others.length === 0 ? deleteIn(out, ref, [...at, 'timeouts']) : deleteIn(out, ref, [...at, 'timeouts', field])
      }
    }
    if (changes.attempts !== undefined) {
      if (changes.attempts <= 0) out = deleteIn(out, ref, [...at, 'retry'])
      else if (rule.retry != null) out = setIn(out, ref, [...at, 'retry', 'attempts'], changes.attempts)
      else out = setIn(out, ref, [...at, 'retry'], newRetry(route, changes.attempts))
    }
  })
  return out
}

// --- traffic split ----------------------------------------------------------------------------------

export interface Split {
  /** Weight per version, as the route's last rule has them. */
  weights: Record<string, number>
  /** The rule sends to the whole service (every version by instance), not to version subsets. */
  whole: boolean
}

export function splitOf (route: Obj | undefined, service: string, versions: readonly string[]): Split {
  const refs: Obj[] = rulesOf(route).at(-1)?.backendRefs ?? []
  const even = Math.round(100 / Math.max(1, versions.length))
  if (refs.length === 0 || refs.some(r => r.name === service)) return { weights: Object.fromEntries(versions.map(v => [v, even])), whole: true }
  return { weights: Object.fromEntries(versions.map(v => [v, Number(refs.find(r => r.name === `${service}-${v}`)?.weight ?? 0)])), whole: false }
}

/** Point the last rule's backends at the version subsets with these weights (0 = none). */
export function writeSplit (text: string, service: string, weights: Record<string, number>): string {
  const route = serviceRouteOf(resourcesOf(text), service)
  const old: Obj = (rulesOf(route).at(-1)?.backendRefs ?? [])[0] ?? {}
  // keep what the backends had besides name and weight (kind, namespace, port): the diff shows the split only
  const { name: _name, weight: _weight, ...kept } = old
  const at = (name: string): Obj => ({ ...('kind' in kept ? { kind: kept.kind } : {}), name, ...Object.fromEntries(Object.entries(kept).filter(([k]) => k !== 'kind')) })
  const refs = Object.entries(weights).filter(([, w]) => w > 0).map(([v, weight]) => ({ ...at(`${service}-${v}`), weight }))
  const backendRefs = refs.length > 0 ? refs : [at(service)]
  if (route === undefined) return appendResource(text, { ...newRoute(service, {}), spec: { parentRefs: [{ kind: 'Service', name: service }], rules: [{ backendRefs }] } })
  return setIn(text, routeRef(route), ['spec', 'rules', rulesOf(route).length - 1, 'backendRefs'], backendRefs)
}

// --- fault injection --------------------------------------------------------------------------------

export interface Fault { abortPercent: number, status: number, delayPercent: number, delay: string }

function faultResourceOf (resources: readonly Obj[], service: string): Obj | undefined {
  const all = resources.filter(r => r.kind === 'FaultInjection' && r.spec?.targetRef?.name === service)
  return all.find(r => r.metadata?.name === `${service}-fault`) ?? all[0]
}

export function faultOf (resources: readonly Obj[], service: string): Fault {
  const spec = faultResourceOf(resources, service)?.spec
  return {
    abortPercent: spec?.abort ? Number(spec.abort.percentage ?? 100) : 0,
    status: Number(spec?.abort?.httpStatus ?? 503),
    delayPercent: spec?.delay ? Number(spec.delay.percentage ?? 100) : 0,
    delay: String(spec?.delay?.fixedDelay ?? '1s')
  }
}

/** Write the touched fault fields; with both percentages at 0 the FaultInjection is removed. */
export function writeFault (text: string, service: string, changes: Partial<Fault>): string {
  const resources = resourcesOf(text)
  const existing = faultResourceOf(resources, service)
  const next = { ...faultOf(resources, service), ...changes }
  if (next.abortPercent <= 0 && next.delayPercent <= 0) return existing === undefined ? text : removeResource(text, { kind: 'FaultInjection', name: existing.metadata.name })
  if (existing === undefined) {
    return appendResource(text, {
      apiVersion: 'meshwork.dev/v1alpha1',
      kind: 'FaultInjection',
      metadata: { name: `${service}-fault` },
      spec: {
        targetRef: { name: service },
        ...(next.abortPercent > 0 ? { abort: { httpStatus: next.status, percentage: next.abortPercent } } : {}),
        ...(next.delayPercent > 0 ? { delay: { fixedDelay: next.delay, percentage: next.delayPercent } } : {})
      }
    })
  }
  const ref = { kind: 'FaultInjection', name: existing.metadata.name }
  let out = text
  const part = (key: 'abort' | 'delay', pct: keyof Fault, field: string, fieldKey: keyof Fault, whole: Obj): void => {
    const has = existing.spec?.[key] != null
    if (changes[pct] !== undefined && Number(next[pct]) <= 0) { if (has) out = deleteIn(out, ref, ['spec', key]); return }
    if (!has) { if (changes[pct] !== undefined) out = setIn(out, ref, ['spec', key], whole); return }
    if (changes[pct] !== undefined) out = setIn(out, ref, ['spec', key, 'percentage'], next[pct])
    if (changes[fieldKey] !== undefined) out = setIn(out, ref, ['spec', key, field], next[fieldKey])
  }
  part('abort', 'abortPercent', 'httpStatus', 'status', { httpStatus: next.status, percentage: next.abortPercent })
  part('delay', 'delayPercent', 'fixedDelay', 'delay', { fixedDelay: next.delay, percentage: next.delayPercent })
  return out
}

// --- mTLS -------------------------------------------------------------------------------------------

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE'

export function mtlsOf (resources: readonly Obj[]): MtlsMode {
  return resources.find(d => d.kind === 'MeshConfig')?.spec?.mtls?.mode ?? 'STRICT'
}

export function writeMtls (text: string, mode: MtlsMode): string {
  const mesh = resourcesOf(text).find(d => d.kind === 'MeshConfig')
  if (mesh === undefined) return appendResource(text, { apiVersion: 'meshwork.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'mesh' }, spec: { mtls: { mode } } })
  return setIn(text, { kind: 'MeshConfig', name: mesh.metadata.name }, ['spec', 'mtls', 'mode'], mode)
}
