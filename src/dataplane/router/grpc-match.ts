/**
 * GRPCRouteMatch compiled once, tested against the request's `:path` (`/<package.Service>/<Method>`) and
 * headers, and ranked by the GRPCRoute spec's precedence.
 */
import type { GrpcRouteMatch } from '../../config/grpc-route.ts'
import { anchored, headerValue, type ValueMatch } from './route-match.ts'
import type { RouteRequest } from './types.ts'

export interface CompiledGrpcMatch {
  /**
   * `/<service>/<method>` when both are Exact. Perf: the common GRPCRoute match is one string comparison.
   */
  exactPath: string | null
  /** Exact service, `null` when absent or a regex. */
  service: string | null
  serviceRe: RegExp | null
  method: string | null
  methodRe: RegExp | null
  /** Does the match look at the path at all (`method` given)? `{}` matches every request. */
  pathMatters: boolean
  headers: ValueMatch[] | null
  /** Precedence: characters of an Exact value, 0 for a regex, -1 when absent. */
  serviceRank: number
  methodRank: number
}

function rank (type: 'Exact' | 'RegularExpression', value: string | undefined): number {
  if (value === undefined || value === '') return -1
  return type === 'Exact' ? value.length : 0
}

/**
 * @example
 * compileGrpcMatch({ method: { type: 'Exact', service: 'bookinfo.stars.v1.Stars', method: 'GetStars' } }).exactPath
 * // '/bookinfo.stars.v1.Stars/GetStars'
 */
export function compileGrpcMatch (m: GrpcRouteMatch): CompiledGrpcMatch {
  const type = m.method?.type ?? 'Exact'
  const service = m.method?.service !== undefined && m.method.service !== '' ? m.method.service : undefined
  const method = m.method?.method !== undefined && m.method.method !== '' ? m.method.method : undefined
  const exact = type === 'Exact'
  let headers: ValueMatch[] | null = null
  if (m.headers !== undefined && m.headers.length > 0) {
    headers = []
    const seen = new Set<string>()
    for (const h of m.headers) {
      const name = h.name.toLowerCase()
      // Gateway API: of several entries naming the same header, only the first counts.
      if (seen.has(name)) continue
      seen.add(name)
      headers.push({ name, value: h.value, re: h.type === 'RegularExpression' ? anchored(h.value) : null })
    }
  }
  return {
    exactPath: exact && service !== undefined && method !== undefined ? `/${service}/${method}` : null,
    service: exact ? service ?? null : null,
    serviceRe: !exact && service !== undefined ? anchored(service) : null,
    method: exact ? method ?? null : null,
    methodRe: !exact && method !== undefined ? anchored(method) : null,
    pathMatters: service !== undefined || method !== undefined,
    headers,
    serviceRank: rank(type, service),
    methodRank: rank(type, method)
  }
}

/**
 * Does the request satisfy the match? A match naming a service or method needs a gRPC-shaped path
 * (`/S/M`, both parts non-empty, no further `/`); the parts are compared as received (case-sensitive).
 */
export function matchesGrpc (m: CompiledGrpcMatch, req: RouteRequest): boolean {
  if (m.exactPath !== null) {
    if (req.path !== m.exactPath) return false
  } else if (m.pathMatters) {
    const path = req.path
    const slash = path.indexOf('/', 1)
    if (path.charCodeAt(0) !== 47 /* / */ || slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return false
    if (m.service !== null) {
      if (slash - 1 !== m.service.length || !path.startsWith(m.service, 1)) return false
    } else if (m.serviceRe !== null && !m.serviceRe.test(path.slice(1, slash))) {
      return false
    }
    if (m.method !== null) {
      if (path.length - slash - 1 !== m.method.length || !path.endsWith(m.method)) return false
    } else if (m.methodRe !== null && !m.methodRe.test(path.slice(slash + 1))) {
      return false
    }
  }
  if (m.headers !== null) {
    const hs = m.headers
    for (let i = 0; i < hs.length; i++) {
      const v = headerValue(req.headers, hs[i].name)
      if (v === undefined || (hs[i].re === null ? hs[i].value !== v : !hs[i].re!.test(v))) return false
    }
  }
  return true
}

/**
 * GRPCRoute precedence (GRPCRouteRule.matches): more characters in the matching service, then in the method,
 * then more header matches. A regex ranks below any Exact value of the same part and above none (the spec leaves
 * regexes implementation-specific). Negative when `a` wins; hostnames are ranked by the table before this.
 */
export function compareGrpcMatches (a: CompiledGrpcMatch, b: CompiledGrpcMatch): number {
  if (a.serviceRank !== b.serviceRank) return b.serviceRank - a.serviceRank
  if (a.methodRank !== b.methodRank) return b.methodRank - a.methodRank
  return (b.headers?.length ?? 0) - (a.headers?.length ?? 0)
}

/**
 * Canonical text of a GRPCRouteMatch: same key ⇔ same requests (header names case-insensitive, header order
 * irrelevant, only the first condition per header counts; an empty service/method is no condition).
 */
export function grpcMatchKey (m: GrpcRouteMatch): string {
  const type = m.method?.type ?? 'Exact'
  const service = m.method?.service ?? ''
  const method = m.method?.method ?? ''
  const seen = new Map<string, string>()
  for (const h of m.headers ?? []) {
    const name = h.name.toLowerCase()
    if (!seen.has(name)) seen.set(name, `${h.type ?? 'Exact'}:${JSON.stringify(name)}=${JSON.stringify(h.value)}`)
  }
  const part = service === '' && method === '' ? '*' : `${type} ${JSON.stringify(service)}/${JSON.stringify(method)}`
  return `grpc ${part} h[${[...seen.values()].sort().join(',')}]`
}
