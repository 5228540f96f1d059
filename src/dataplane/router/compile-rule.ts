import { parseDuration } from '../../config/duration.ts'
import type { GrpcRouteRule } from '../../config/grpc-route.ts'
import type { HeaderModifier, RouteFilter, RouteRule } from '../../config/http-route.ts'
import { NoRouteError } from '../../errors.ts'
import type { Cluster } from './clusters.ts'
import { compileHeaderOps } from './header-ops.ts'
import { compileRedirect } from './redirect.ts'
import { compileRewrite } from './rewrite.ts'
import { compileRetryPolicy } from '../resilience/retry.ts'
import type { BackendPick, CompiledRule, MirrorTarget } from './types.ts'

/** A backendRef as the router sees it: the cluster it names and its weight. */
export interface WeightedBackend { pick: BackendPick, weight: number }

/** Resolve a backendRef name (`reviews` or `reviews-v2`) to a pick, using the cluster map to split service and version. */
export function backendPick (name: string, clusters: Map<string, Cluster>, port?: number): BackendPick {
  const c = clusters.get(name)
  const pick: BackendPick = { cluster: name, service: c?.service ?? name, version: c?.version ?? null }
  if (port !== undefined) pick.port = port
  return Object.freeze(pick)
}

/**
 * Weighted choice compiled once: backends with weight 0 are dropped, the rest get a cumulative weight
 * array. Perf: one backend → a closure returning a constant; otherwise a linear scan for ≤ 8 backends
 * (the common case, cache-friendly) and a binary search above.
 *
 * @example
 * makePicker([{ pick: v1, weight: 90 }, { pick: v2, weight: 10 }])(0.95) === v2
 */
export function makePicker (backends: WeightedBackend[]): (rand?: number) => BackendPick {
  const live = backends.filter(b => b.weight > 0)
  if (live.length === 0) {
    return () => { throw new NoRouteError('the rule has no backend with a weight above 0') }
  }
  if (live.length === 1) {
    const only = live[0].pick
    return () => only
  }
  const picks = live.map(b => b.pick)
  const cumulative = new Float64Array(live.length)
  let total = 0
  for (let i = 0; i < live.length; i++) cumulative[i] = total += live[i].weight
  const last = live.length - 1
  if (live.length <= 8) {
    return (rand = Math.random()) => {
      const target = rand * total
      for (let i = 0; i < last; i++) if (target < cumulative[i]) return picks[i]
      return picks[last]
    }
  }
  return (rand = Math.random()) => {
    const target = rand * total
    let lo = 0
    let hi = last
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (target < cumulative[mid]) hi = mid
      else lo = mid + 1
    }
    return picks[lo]
  }
}

/** GEP-1742: a zero duration disables the timeout. */
function timeoutOf (d: string | undefined): number | null {
  if (d === undefined) return null
  const ms = parseDuration(d)
  return ms > 0 ? ms : null
}

/**
 * Compile one HTTPRoute rule: weighted picker, header ops, redirect, rewrite, mirrors, timeouts, retry.
 * Everything absent is `null`.
 *
 * @example
 * const rule = compileRule(route.spec.rules[0], 0, buildClusters(snapshot))
 * rule.pickBackend().cluster // 'reviews-v2'
 */
export function compileRule (rule: RouteRule, index: number, clusters: Map<string, Cluster>): CompiledRule {
  const reqMods: HeaderModifier[] = []
  const resMods: HeaderModifier[] = []
  const mirrors: MirrorTarget[] = []
  const prefixes: string[] = []
  for (const m of rule.matches) {
    if (m.path === undefined) prefixes.push('/')
    else if (m.path.type !== 'RegularExpression') prefixes.push(m.path.value)
  }
  let redirect: CompiledRule['redirect'] = null
  let rewrite: CompiledRule['rewrite'] = null
  for (const f of rule.filters ?? []) {
    switch (f.type) {
      case 'RequestHeaderModifier': reqMods.push(f.requestHeaderModifier); break
      case 'ResponseHeaderModifier': resMods.push(f.responseHeaderModifier); break
      case 'RequestMirror': {
        const fr = f.requestMirror.fraction
        const percent = fr === undefined ? f.requestMirror.percent : Math.min(100, fr.numerator / fr.denominator * 100)
        if (percent > 0) mirrors.push(Object.freeze({ cluster: f.requestMirror.backendRef.name, percent }))
        break
      }
      case 'RequestRedirect': redirect = compileRedirect(f.requestRedirect, prefixes); break
      case 'URLRewrite': rewrite = compileRewrite(f.urlRewrite, prefixes); break
    }
  }
  const backends = rule.backendRefs.map(b => ({ pick: backendPick(b.name, clusters, b.port), weight: b.weight }))
  return Object.freeze({
    name: rule.name ?? null,
    index,
    pickBackend: makePicker(backends),
    requestHeaders: compileHeaderOps(reqMods),
    responseHeaders: compileHeaderOps(resMods),
    redirect,
    rewrite,
    mirrors: mirrors.length > 0 ? mirrors : null,
    timeoutMs: timeoutOf(rule.timeouts?.request),
    perTryTimeoutMs: timeoutOf(rule.timeouts?.backendRequest),
    retry: compileRetryPolicy(rule.retry)
  })
}

/**
 * Compile one GRPCRoute rule into the same CompiledRule: its filters are HTTPRoute's header modifiers and
 * mirror (ExtensionRef never gets here: the schema's rule refuses it), and it has no redirect or rewrite.
 *
 * @example compileGrpcRule(grpcRoute.spec.rules[0], 0, clusters).pickBackend().cluster // 'stars-v2'
 */
export function compileGrpcRule (rule: GrpcRouteRule, index: number, clusters: Map<string, Cluster>): CompiledRule {
  const filters = rule.filters?.filter((f): f is Extract<RouteFilter, { type: typeof f.type }> => f.type !== 'ExtensionRef')
  return compileRule({ name: rule.name, matches: [], filters, backendRefs: rule.backendRefs, timeouts: rule.timeouts, retry: rule.retry }, index, clusters)
}

/** The implicit rule of a service without routes: everything to `cluster`, no filters. */
export function defaultRule (cluster: string, clusters: Map<string, Cluster>): CompiledRule {
  return compileRule({ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ kind: 'Service', name: cluster, weight: 1 }] }, -1, clusters)
}
