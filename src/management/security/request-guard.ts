import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Session, SessionStore } from './session-store.ts'
import { sameSecret } from './session-store.ts'

/**
 * Who may talk to the management server, checked on every request before any route runs:
 *
 * ```
 *  request ─▶ Host is 127.0.0.1 / localhost / [::1] (or an allowed name) with our port?   no ─▶ 403 HOST_REFUSED
 *          ─▶ Origin (when sent) is our own origin; Sec-Fetch-Site (when sent) same-origin? no ─▶ 403 ORIGIN_REFUSED
 *          ─▶ ?token= on a page URL: right ─▶ Set-Cookie + 303 to the same URL without it; wrong ─▶ 401 TOKEN_INVALID
 *          ─▶ session cookie, or Authorization: Bearer <launch token>?                      no ─▶ 401 UNAUTHENTICATED
 *          ─▶ POST/PUT/PATCH/DELETE: content-type application/json?                          no ─▶ 415 CONTENT_TYPE
 *                                    cookie callers: x-meshwork-csrf = the session's token?  no ─▶ 403 CSRF
 *          ─▶ the route
 * ```
 * CSRF: a per-session synchronizer token (not double-submit: cookies are shared by every port of a
 * host, so a page on 127.0.0.1:<other port> could read a CSRF cookie). The UI reads it from
 * `GET /api/v1/session`, which a cross-origin page cannot read (no CORS headers are ever sent).
 * Bearer callers (scripts, the CLI) need no CSRF token: a browser cannot attach that header cross-origin.
 * The OTLP receiver `POST /v1/traces` is for proxies (which reach it through the pod network under
 * another Host): it needs no session, but refuses anything a browser sent (Origin or Sec-Fetch-*).
 */
export interface RequestGuardOptions {
  store: SessionStore
  /** The port the server listens on (known after listen). */
  port: () => number
  /** Host names accepted besides 127.0.0.1, localhost and [::1] (e.g. the address given to --host). */
  allowedHosts?: readonly string[]
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']

export function sessionCookieName (port: number): string {
  // Cookies do not isolate ports: one name per port keeps two servers on one host apart.
  return `meshwork-session-${port}`
}

/** How many requests were refused, by MESH_ERR code (`GET /api/v1/status` shows them as `access.refused`). */
export type RefusalCounts = Map<string, number>

function sendRefusal (req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (req.url.startsWith('/api/') || req.headers.accept?.includes('text/html') !== true) {
    return reply.status(status).header('x-meshwork-error', code).send({ code, message })
  }
  const page = `<!doctype html><meta charset="utf-8"><title>Meshwork: ${code}</title><body style="font-family:sans-serif;max-width:40em;margin:4em auto">` +
    `<h1>${status === 401 ? 'Log in with the URL printed at start' : 'Refused'}</h1><p>${escapeHtml(message)}</p><p><code>${code}</code></p></body>`
  return reply.status(status).header('x-meshwork-error', code).type('text/html; charset=utf-8').send(page)
}

function escapeHtml (s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}

function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** What the guard learnt about a request, for the routes (`GET /api/v1/session`). */
export interface RequestIdentity { via: 'cookie' | 'bearer', session: Session | null }

declare module 'fastify' {
  interface FastifyRequest { meshworkIdentity?: RequestIdentity }
}

/**
 * Installs the checks above as the first `onRequest` hook, and `GET /api/v1/session` (the CSRF token)
 * and `POST /api/v1/session/logout`.
 *
 * @example installRequestGuard(app, { store: new SessionStore(), port: () => 8088 })
 */
export function installRequestGuard (app: FastifyInstance, opts: RequestGuardOptions): RefusalCounts {
  const { store } = opts
  const refusals: RefusalCounts = new Map()
  const refuse = (req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string): FastifyReply => {
    refusals.set(code, (refusals.get(code) ?? 0) + 1)
    return sendRefusal(req, reply, status, code, message)
  }
  const hostNames = [...LOOPBACK_NAMES, ...(opts.allowedHosts ?? [])].map(h => h.toLowerCase())

  app.addHook('onRequest', async (req, reply) => {
    const port = opts.port()
    const q = req.url.indexOf('?')
    const path = q === -1 ? req.url : req.url.slice(0, q)
    const origin = req.headers.origin
    const fetchSite = req.headers['sec-fetch-site']

    if (path === '/v1/traces') {
      if (origin !== undefined || fetchSite !== undefined) return refuse(req, reply, 403, 'MESH_ERR_API_ORIGIN_REFUSED', 'the OTLP receiver takes spans from proxies, not from browser pages')
      return
    }

    // DNS rebinding: a name the attacker controls that now resolves to 127.0.0.1 arrives with its own Host.
    const host = (req.headers.host ?? '').toLowerCase()
    const allowedHosts = hostNames.map(h => `${h}:${port}`)
    if (!allowedHosts.includes(host)) {
      return refuse(req, reply, 403, 'MESH_ERR_API_HOST_REFUSED', `Host "${req.headers.host ?? ''}" is not this server (use http://127.0.0.1:${port}); requests under other names are refused (DNS rebinding)`)
    }
    if (origin !== undefined && !allowedHosts.some(h => origin === `http://${h}`)) {
      return refuse(req, reply, 403, 'MESH_ERR_API_ORIGIN_REFUSED', `requests from origin "${origin}" are refused: only the UI's own origin may call this server`)
    }
    // Fetch metadata (sent by every current browser, even for <img> and no-cors requests, which carry no
    // Origin): API calls must come from the UI itself. Top-level navigations to pages stay allowed.
    if (path.startsWith('/api/') && fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
      return refuse(req, reply, 403, 'MESH_ERR_API_ORIGIN_REFUSED', `a ${fetchSite} request to the API is refused: only the UI's own pages may call it`)
    }

    const cookieName = sessionCookieName(port)
    if (q !== -1 && !path.startsWith('/api/') && req.method === 'GET') {
      const params = new URLSearchParams(req.url.slice(q + 1))
      const token = params.get('token')
      if (token !== null) {
        const session = store.exchange(token)
        if (session === null) return refuse(req, reply, 401, 'MESH_ERR_API_TOKEN_INVALID', 'the token in this URL is not the one this server printed at start (it changes at every start): copy the UI URL from the output of `meshwork up` or `meshwork server`')
        params.delete('token')
        const rest = params.toString()
        return reply.status(303)
          .header('set-cookie', `${cookieName}=${session.id}; Path=/; HttpOnly; SameSite=Strict`)
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .header('location', rest === '' ? path : `${path}?${rest}`)
          .send()
      }
    }

    let identity: RequestIdentity | null = null
    const authz = req.headers.authorization
    if (authz?.startsWith('Bearer ') === true) {
      if (!store.checkToken(authz.slice(7).trim())) return refuse(req, reply, 401, 'MESH_ERR_API_TOKEN_INVALID', 'the bearer token is not this server\'s launch token')
      identity = { via: 'bearer', session: null }
    } else {
      const session = store.lookup(cookieValue(req.headers.cookie, cookieName))
      if (session !== null) identity = { via: 'cookie', session }
    }
    if (identity === null) {
      return refuse(req, reply, 401, 'MESH_ERR_API_UNAUTHENTICATED', `no session: open the UI with the URL printed at start (http://127.0.0.1:${port}/?token=…), or send Authorization: Bearer <token>`)
    }
    if (STATE_CHANGING.has(req.method)) {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
      if (ct !== 'application/json') return refuse(req, reply, 415, 'MESH_ERR_API_CONTENT_TYPE', `${req.method} ${path} needs a JSON body (content-type: application/json), got "${ct}"`)
      if (identity.via === 'cookie') {
        const csrf = req.headers['x-meshwork-csrf']
        if (typeof csrf !== 'string' || !sameSecret(csrf, identity.session!.csrf)) {
          return refuse(req, reply, 403, 'MESH_ERR_API_CSRF', `${req.method} ${path} needs the session's x-meshwork-csrf header (GET /api/v1/session gives it)`)
        }
      }
    }
    req.meshworkIdentity = identity
    // Pages and API answers: no framing by other sites (clickjacking), no URL leaking through Referer.
    reply.header('x-frame-options', 'DENY')
    reply.header('content-security-policy', "frame-ancestors 'none'")
    reply.header('referrer-policy', 'no-referrer')
    reply.header('x-content-type-options', 'nosniff')
  })

  app.get('/api/v1/session', async (req, reply) => {
    const id = req.meshworkIdentity
    reply.header('cache-control', 'no-store')
    return { via: id?.via, csrfToken: id?.session?.csrf ?? null }
  })
  app.post('/api/v1/session/logout', async (req, reply) => {
    const s = req.meshworkIdentity?.session
    if (s != null) store.end(s.id)
    return reply.header('set-cookie', `${sessionCookieName(opts.port())}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`).send({ ok: true })
  })
  return refusals
}
