import type { RouteFilter } from '../../config/http-route.ts'
import type { RouteRequest } from './types.ts'

type URLRewrite = Extract<RouteFilter, { type: 'URLRewrite' }>['urlRewrite']
/** Gateway API HTTPPathModifier: `ReplaceFullPath` or `ReplacePrefixMatch`. */
export type PathModifier = NonNullable<URLRewrite['path']>

/**
 * Gateway API `ReplacePrefixMatch`: swap the matched prefix for `replacement`, keep the rest of the
 * path. Trailing slashes of the prefix and of the replacement are not significant:
 * `/foo` + `/foo/bar` + `/xyz` → `/xyz/bar`; `/foo` + `/foo/bar` + `/` → `/bar`; `/` + `/foo` + `/xyz` → `/xyz/foo`.
 *
 * @example
 * replacePrefixMatch('/v1/users', '/v1', '/api') // '/api/users'
 */
export function replacePrefixMatch (path: string, prefix: string, replacement: string): string {
  const p = stripTrailingSlash(prefix)
  const r = stripTrailingSlash(replacement)
  const out = r + path.slice(p.length)
  return out === '' ? '/' : out
}

function stripTrailingSlash (s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s
}

/** True when `path` is under `prefix` on a segment boundary (`/foo` matches `/foo`, `/foo/x`, not `/foobar`). */
export function pathHasPrefix (path: string, prefix: string): boolean {
  const p = stripTrailingSlash(prefix)
  if (p === '') return true
  if (!path.startsWith(p)) return false
  return path.length === p.length || path.charCodeAt(p.length) === 47 /* / */
}

/**
 * The longest of `prefixes` the path is under, or `null`. A rule may have several matches; the rewrite
 * uses the prefix that matched (the longest, which is also the one with precedence).
 */
export function longestMatchingPrefix (path: string, prefixes: string[]): string | null {
  let best: string | null = null
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]
    if (pathHasPrefix(path, p) && (best === null || stripTrailingSlash(p).length > stripTrailingSlash(best).length)) best = p
  }
  return best
}

/** New path (no query) after a path modifier; `prefixes` are the rule's PathPrefix/Exact match values. */
export function modifyPath (path: string, modifier: PathModifier | undefined, prefixes: string[]): string {
  if (modifier === undefined) return path
  if (modifier.type === 'ReplaceFullPath') return modifier.replaceFullPath
  const prefix = longestMatchingPrefix(path, prefixes)
  // A RegularExpression match has no prefix to replace: the path is left as it is.
  return prefix === null ? path : replacePrefixMatch(path, prefix, modifier.replacePrefixMatch)
}

/**
 * Compile a `URLRewrite` filter: `(req) => { path, authority }` where `path` is the new request-target
 * (query kept) and `authority` the new host, or `null` to keep the request's.
 *
 * @example
 * compileRewrite({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }, ['/api'])({ path: '/api/x', query: 'q=1', ... }) // { path: '/x?q=1', authority: null }
 */
export function compileRewrite (rw: URLRewrite, prefixes: string[]): (req: RouteRequest) => { path: string, authority: string | null } {
  const authority = rw.hostname ?? null
  const modifier = rw.path
  return (req) => {
    const path = modifyPath(req.path, modifier, prefixes)
    return { path: req.query === '' ? path : `${path}?${req.query}`, authority }
  }
}
