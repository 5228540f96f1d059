import type { RouteFilter } from '../../config/http-route.ts'
import { modifyPath } from './rewrite.ts'
import type { RouteRequest } from './types.ts'

type RequestRedirect = Extract<RouteFilter, { type: 'RequestRedirect' }>['requestRedirect']

const WELL_KNOWN_PORT: Record<string, number> = { http: 80, https: 443 }

/** Split `host:port` / `[v6]:port`; port `-1` when absent. */
export function splitAuthority (authority: string): { host: string, port: number } {
  const close = authority.lastIndexOf(']')
  const colon = authority.lastIndexOf(':')
  if (colon > close && colon !== -1) {
    const port = Number(authority.slice(colon + 1))
    return { host: authority.slice(0, colon), port: Number.isInteger(port) && authority.length > colon + 1 ? port : -1 }
  }
  return { host: authority, port: -1 }
}

/**
 * Compile a `RequestRedirect` filter to `(req) => { status, location }` per Gateway API:
 * scheme defaults to the request's; hostname to the request's host; the port is the filter's, else the
 * well-known port of a configured scheme, else the port the request came in on (from its authority, or
 * the default of its scheme); the port is left out of Location for http:80 and https:443. The path is
 * replaced (ReplaceFullPath), prefix-swapped (ReplacePrefixMatch) or kept; the query is always kept.
 *
 * @example
 * compileRedirect({ scheme: 'https', statusCode: 301 }, [])({ authority: 'shop.example.com', path: '/a', query: 'x=1', ... })
 * // { status: 301, location: 'https://shop.example.com/a?x=1' }
 */
export function compileRedirect (r: RequestRedirect, prefixes: string[]): (req: RouteRequest) => { status: number, location: string } {
  const status = r.statusCode ?? 302
  return (req) => {
    const reqScheme = req.scheme ?? 'http'
    const scheme = r.scheme ?? reqScheme
    const { host, port: reqPort } = splitAuthority(req.authority)
    let port: number
    if (r.port !== undefined) port = r.port
    else if (r.scheme !== undefined) port = WELL_KNOWN_PORT[r.scheme] ?? -1
    else port = reqPort !== -1 ? reqPort : (WELL_KNOWN_PORT[reqScheme] ?? -1)
    const hostname = r.hostname ?? host
    const showPort = port !== -1 && port !== WELL_KNOWN_PORT[scheme]
    const path = modifyPath(req.path, r.path, prefixes)
    const location = `${scheme}://${hostname}${showPort ? `:${port}` : ''}${path}${req.query === '' ? '' : `?${req.query}`}`
    return { status, location }
  }
}
