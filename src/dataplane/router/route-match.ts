import type { RouteMatch } from '../../config/http-route.ts'
import type { RouteRequest } from './types.ts'

export const PATH_EXACT = 0
export const PATH_PREFIX = 1
export const PATH_REGEX = 2

/** A header or query-param condition: exact `value`, or an anchored `re`. */
export interface ValueMatch { name: string, value: string, re: RegExp | null }

/**
 * A Gateway API HTTPRouteMatch compiled once: regexes anchored and built here, header names lower-cased,
 * empty condition lists `null`.
 */
export interface CompiledMatch {
  pathType: number
  /** Exact value, or the prefix without its trailing slash (`''` for `/`). */
  path: string
  /** Characters of the configured path value, for precedence. */
  pathLength: number
  pathRe: RegExp | null
  method: string | null
  headers: ValueMatch[] | null
  query: ValueMatch[] | null
}

/** Anchor a Gateway API regular expression (full match, as Envoy's `safe_regex`). */
export function anchored (source: string): RegExp {
  return new RegExp(`^(?:${source})$`)
}

function compileValues (list: { type: 'Exact' | 'RegularExpression', name: string, value: string }[] | undefined, lower: boolean): ValueMatch[] | null {
  if (list === undefined || list.length === 0) return null
  const out: ValueMatch[] = []
  const seen = new Set<string>()
  for (const m of list) {
    const name = lower ? m.name.toLowerCase() : m.name
    // Gateway API: when several entries name the same header/param, only the first is considered.
    if (seen.has(name)) continue
    seen.add(name)
    out.push({ name, value: m.value, re: m.type === 'RegularExpression' ? anchored(m.value) : null })
  }
  return out
}

/**
 * @example
 * compileMatch({ path: { type: 'PathPrefix', value: '/api/' } }).path // '/api'
 */
export function compileMatch (m: RouteMatch): CompiledMatch {
  const type = m.path?.type ?? 'PathPrefix'
  const value = m.path?.value ?? '/'
  let pathType = PATH_PREFIX
  let path = value
  let pathRe: RegExp | null = null
  if (type === 'Exact') pathType = PATH_EXACT
  else if (type === 'RegularExpression') { pathType = PATH_REGEX; pathRe = anchored(value) }
  else if (path.endsWith('/')) path = path.slice(0, -1)
  return {
    pathType,
    path,
    pathLength: value.length,
    pathRe,
    method: m.method ?? null,
    headers: compileValues(m.headers, true),
    // Query parameter names are case-sensitive (Gateway API).
    query: compileValues(m.queryParams, false)
  }
}

/**
 * Precedence per Gateway API: Exact path, then longest PathPrefix, then RegularExpression; then a
 * method match; then more header matches; then more query matches. Negative when `a` wins.
 */
export function compareMatches (a: CompiledMatch, b: CompiledMatch): number {
  if (a.pathType !== b.pathType) return a.pathType - b.pathType
  if (a.pathType !== PATH_REGEX && a.pathLength !== b.pathLength) return b.pathLength - a.pathLength
  const am = a.method === null ? 0 : 1
  const bm = b.method === null ? 0 : 1
  if (am !== bm) return bm - am
  const ah = a.headers?.length ?? 0
  const bh = b.headers?.length ?? 0
  if (ah !== bh) return bh - ah
  return (b.query?.length ?? 0) - (a.query?.length ?? 0)
}

/** Does the request satisfy every condition of the match? */
export function matchesRequest (m: CompiledMatch, req: RouteRequest): boolean {
  const path = req.path
  if (m.pathType === PATH_PREFIX) {
    const p = m.path
    if (p.length !== 0) {
      // Segment boundary: `/foo` matches `/foo` and `/foo/…`, never `/foobar`.
      if (!path.startsWith(p)) return false
      if (path.length !== p.length && path.charCodeAt(p.length) !== 47 /* / */) return false
    }
  } else if (m.pathType === PATH_EXACT) {
    if (path !== m.path) return false
  } else if (!m.pathRe!.test(path)) {
    return false
  }
  if (m.method !== null && m.method !== req.method) return false
  if (m.headers !== null) {
    const hs = m.headers
    for (let i = 0; i < hs.length; i++) {
      const v = headerValue(req.headers, hs[i].name)
      if (v === undefined || !valueMatches(hs[i], v)) return false
    }
  }
  if (m.query !== null) {
    const qs = m.query
    for (let i = 0; i < qs.length; i++) {
      const v = queryParam(req.query, qs[i].name)
      if (v === undefined || !valueMatches(qs[i], v)) return false
    }
  }
  return true
}

function valueMatches (m: ValueMatch, v: string): boolean {
  return m.re === null ? m.value === v : m.re.test(v)
}

/** Value of a header; repeated headers are joined with `,` (RFC 9110 §5.3), as Envoy matches them. */
export function headerValue (headers: string[], name: string): string | undefined {
  let out: string | undefined
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) out = out === undefined ? headers[i + 1] : `${out},${headers[i + 1]}`
  }
  return out
}

/**
 * First value of a query parameter in a raw query string (no `?`), percent- and `+`-decoded; `''` for
 * `?flag`; `undefined` when absent. Perf: scans the raw text; nothing is allocated unless it matches.
 */
export function queryParam (query: string, name: string): string | undefined {
  if (query.length === 0) return undefined
  let start = 0
  while (start <= query.length) {
    let end = query.indexOf('&', start)
    if (end === -1) end = query.length
    const eq = query.indexOf('=', start)
    const keyEnd = eq !== -1 && eq < end ? eq : end
    if (keyMatches(query, start, keyEnd, name)) return eq !== -1 && eq < end ? decode(query.slice(eq + 1, end)) : ''
    start = end + 1
  }
  return undefined
}

function keyMatches (query: string, start: number, end: number, name: string): boolean {
  if (end - start === name.length && query.startsWith(name, start)) return true
  // Encoded keys are rare: decode only when the raw key could contain an escape.
  if (end - start < name.length) return false
  const raw = query.slice(start, end)
  return (raw.includes('%') || raw.includes('+')) && decode(raw) === name
}

function decode (s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s
  try {
    return decodeURIComponent(s.replaceAll('+', ' '))
  } catch {
    return s
  }
}
