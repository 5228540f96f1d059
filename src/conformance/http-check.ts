/**
 * One upstream `ExpectedResponse`: send its request (to a Gateway's address, or through a sidecar's outbound
 * listener for the mesh cases) and compare what came back — and what the echo backend says it received — as
 * the suite's `CompareRequest` does (conformance/utils/http/http.go of the pinned commit).
 */
import http from 'node:http'
import type { ExpectedResponse } from './cases.ts'

export interface Target {
  /** Where the TCP connection goes (a gateway's host port, or a sidecar's outbound port). */
  host: string
  port: number
  /** Host header when the case names none: the gateway address (`host:port`), as the suite's CalculateHost. */
  defaultHost: string
  /** Send the request-target in absolute form (HTTP proxy style, for the mesh client). */
  absolute: boolean
}

export interface Captured {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  /** The echo backend's report (status 200 only). */
  echo: EchoReport | null
}

export interface EchoReport { path: string, host: string, method: string, headers: Record<string, string[]>, namespace: string, pod: string }

const agent = new http.Agent({ keepAlive: false })

/** Send the case's request once. `extraHeaders` lets the runner tag a request (mirror checks). */
export function sendCase (target: Target, tc: ExpectedResponse, extraHeaders: Record<string, string> = {}, timeoutMs = 10_000): Promise<Captured> {
  const req = tc.Request
  const path = req.Path ?? '/'
  const host = req.Host !== undefined && req.Host !== '' ? req.Host : target.defaultHost
  const headers: Record<string, string> = { host, ...extraHeaders }
  for (const [k, v] of Object.entries(req.Headers ?? {})) headers[k] = v
  headers['X-Echo-Set-Header'] = Object.entries(tc.BackendSetResponseHeaders ?? {}).map(([k, v]) => `${k}:${v}`).join(',')
  return new Promise((resolve, reject) => {
    const r = http.request({ host: target.host, port: target.port, method: req.Method ?? 'GET', path: target.absolute ? `http://${host}${path}` : path, headers, agent, timeout: timeoutMs }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', c => { body += c })
      res.on('end', () => {
        let echo: EchoReport | null = null
        if (res.statusCode === 200) {
          try { echo = JSON.parse(body) as EchoReport } catch { echo = null }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, echo })
      })
      res.on('error', reject)
    })
    r.on('timeout', () => r.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })))
    r.on('error', reject)
    r.end()
  })
}

const isTimeout = (s: number): boolean => s === 504 || s === 408

function lower (h: Record<string, string[]>): Map<string, string> {
  const m = new Map<string, string>()
  for (const [k, v] of Object.entries(h)) m.set(k.toLowerCase(), v.join(','))
  return m
}

function responseHeader (h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()]
  return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : String(v)
}

/**
 * Compare a captured exchange with the expectation; `null` when it matches, else the first difference (the
 * suite's wording). A case without Namespace (the mesh cases) does not check it.
 */
export function compareCase (tc: ExpectedResponse, got: Captured, sentPath: string): string | null {
  const want = tc.Response?.StatusCode ?? 200
  if (isTimeout(got.status) && isTimeout(want)) return null
  if (got.status !== want) return `expected status code to be ${want}, got ${got.status}${got.headers['x-meshwork-error'] !== undefined ? ` (${String(got.headers['x-meshwork-error'])})` : ''}`
  if (got.status === 200) {
    const echo = got.echo
    if (echo === null) return 'the backend did not answer with the echo report'
    const exp = tc.ExpectedRequest?.Request ?? tc.Request
    const method = exp.Method ?? 'GET'
    if (exp.Host !== undefined && exp.Host !== '' && exp.Host !== echo.host) return `expected host to be ${exp.Host}, got ${echo.host}`
    const path = exp.Path ?? '/'
    if (path !== echo.path) return `expected path to be ${path}, got ${echo.path}`
    if (method !== echo.method) return `expected method to be ${method}, got ${echo.method}`
    if (tc.Namespace !== undefined && tc.Namespace !== echo.namespace) return `expected namespace to be ${tc.Namespace}, got ${echo.namespace}`
    const seen = lower(echo.headers)
    for (const [name, value] of Object.entries(tc.ExpectedRequest?.Request?.Headers ?? (tc.ExpectedRequest === undefined ? tc.Request.Headers ?? {} : {}))) {
      const actual = seen.get(name.toLowerCase())
      if (actual === undefined) return `expected ${name} header to be set`
      if (actual !== value) return `expected ${name} header to be set to ${value}, got ${actual}`
    }
    for (const [name, value] of Object.entries(tc.Response?.Headers ?? {})) {
      const actual = responseHeader(got.headers, name)
      if (actual === undefined) return `expected response header ${name} to be set`
      if (actual !== value) return `expected response header ${name} to be set to ${value}, got ${actual}`
    }
    for (const name of tc.Response?.AbsentHeaders ?? []) {
      if (responseHeader(got.headers, name) !== undefined) return `expected response header ${name} to not be set, got ${responseHeader(got.headers, name)}`
    }
    for (const name of tc.ExpectedRequest?.AbsentHeaders ?? []) {
      if (seen.has(name.toLowerCase())) return `expected ${name} header to not be set, got ${seen.get(name.toLowerCase())}`
    }
    if (!echo.pod.startsWith(tc.Backend ?? '')) return `expected pod name to start with ${tc.Backend}, got ${echo.pod}`
    return null
  }
  if (got.status >= 300 && got.status < 400 && tc.RedirectRequest !== undefined) {
    const location = responseHeader(got.headers, 'location')
    if (location === undefined) return 'a redirect without Location'
    // Parsed by hand: URL would drop a default port the suite tells apart (Go's url.Port()).
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(location)
    if (m === null) return `Location ${location} is not an absolute URL`
    const scheme = m[1].toLowerCase()
    const authority = m[2]
    const colon = authority.lastIndexOf(':')
    const hostname = colon > authority.lastIndexOf(']') && colon !== -1 ? authority.slice(0, colon) : authority
    const port = colon > authority.lastIndexOf(']') && colon !== -1 ? authority.slice(colon + 1) : ''
    const u = { hostname, pathname: m[3] === '' ? '/' : m[3] }
    const exp = tc.RedirectRequest
    const wantHost = exp.Host !== undefined && exp.Host !== '' ? exp.Host : u.hostname
    if (wantHost !== u.hostname) return `expected redirected hostname to be "${wantHost}", got "${u.hostname}"`
    if (exp.Port === undefined || exp.Port === '') {
      if (port !== '' && !((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443'))) return `for ${scheme} scheme, expected redirected port to be default or not set, got "${port}"`
    } else if (exp.Port !== port) return `expected redirected port to be "${exp.Port}", got "${port}"`
    const wantScheme = exp.Scheme !== undefined && exp.Scheme !== '' ? exp.Scheme : 'http'
    if (wantScheme !== scheme) return `expected redirected scheme to be "${wantScheme}", got "${scheme}"`
    const wantPath = exp.Path !== undefined && exp.Path !== '' ? exp.Path : sentPath.split('?')[0]
    if (wantPath !== u.pathname) return `expected redirected path to be "${wantPath}", got "${u.pathname}"`
  }
  return null
}
