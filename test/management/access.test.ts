// Who may call the management server: the launch token, the session cookie, Host/Origin checks and
// CSRF, over real sockets with raw node:http requests (so Host and Origin can be forged as an attacker would).
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { type ManagementServer, startManagementServer } from '../../src/management/server.ts'

const MESH = join(import.meta.dirname, '..', '..', 'samples', 'bookinfo', 'mesh.yaml')
let dir: string
let cp: Awaited<ReturnType<typeof startControlPlane>>
let server: ManagementServer
let port: number

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mw-access-'))
  cp = await startControlPlane({ files: [MESH], host: '127.0.0.1', port: 0, dataDir: join(dir, 'cp') })
  server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url), scrapeTargets: () => [], scrapeIntervalMs: 60_000, uiDir: join(dir, 'no-ui'), benchmarks: false })
  port = Number(new URL(server.url).port)
})
after(async () => {
  await server?.close()
  await cp?.close()
  rmSync(dir, { recursive: true, force: true })
})

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: string, code?: string }

/** One raw request; `headers.host` defaults to the server's own. Streams (SSE) are cut after the head. */
function raw (method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, setHost: false }, res => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy()
        resolve({ status: res.statusCode!, headers: res.headers, body: '' })
        return
      }
      let text = ''
      res.setEncoding('utf8')
      res.on('data', c => { text += c })
      res.on('end', () => {
        let code: string | undefined
        try { code = JSON.parse(text).code } catch { code = res.headers['x-meshwork-error'] as string | undefined }
        resolve({ status: res.statusCode!, headers: res.headers, body: text, code })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function login (): Promise<{ cookie: string, csrf: string }> {
  const r = await raw('GET', `/?token=${server.token}&x=1`)
  assert.equal(r.status, 303)
  assert.equal(r.headers.location, '/?x=1', 'the redirect drops the token and keeps the rest')
  const setCookie = String(r.headers['set-cookie'])
  assert.match(setCookie, /HttpOnly/)
  assert.match(setCookie, /SameSite=Strict/)
  const cookie = setCookie.split(';')[0]
  const s = await raw('GET', '/api/v1/session', { cookie })
  assert.equal(s.status, 200)
  const csrf = JSON.parse(s.body).csrfToken as string
  assert.ok(csrf.length >= 32)
  return { cookie, csrf }
}

const YAML = JSON.stringify({ yaml: 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\nspec:\n  parentRefs: [{ kind: Service, name: reviews }]\n  rules:\n    - backendRefs: [{ name: reviews-v1 }]\n' })

test('the printed URL carries a random launch token; every page and API call without a session is refused with 401', async () => {
  assert.match(server.openUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{40,}$/)
  for (const path of ['/api/v1/status', '/api/v1/config', '/api/v1/events', '/api/v1/tap?service=reviews', '/', '/index.html']) {
    const r = await raw('GET', path)
    assert.equal(r.status, 401, path)
    assert.equal(r.code, 'MESH_ERR_API_UNAUTHENTICATED', path)
  }
  const wrong = await raw('GET', '/?token=not-the-token-at-all')
  assert.equal(wrong.status, 401)
  assert.equal(wrong.code, 'MESH_ERR_API_TOKEN_INVALID')
  assert.equal(wrong.headers['set-cookie'], undefined)
  const forged = await raw('GET', '/api/v1/status', { cookie: `meshwork-session-${port}=forged` })
  assert.equal(forged.code, 'MESH_ERR_API_UNAUTHENTICATED')
})

test('the token is exchanged for an HttpOnly SameSite=Strict cookie that opens the API and the SSE streams', async () => {
  const { cookie } = await login()
  assert.equal((await raw('GET', '/api/v1/status', { cookie })).status, 200)
  const events = await raw('GET', '/api/v1/events', { cookie })
  assert.equal(events.status, 200)
  assert.match(String(events.headers['content-type']), /text\/event-stream/)
  assert.equal((await raw('GET', '/api/v1/tap?service=reviews', { cookie })).status, 200)
  const bearer = await raw('GET', '/api/v1/status', { authorization: `Bearer ${server.token}` })
  assert.equal(bearer.status, 200)
  assert.equal((await raw('GET', '/api/v1/status', { authorization: 'Bearer wrong' })).code, 'MESH_ERR_API_TOKEN_INVALID')
})

test('DNS rebinding: a Host other than 127.0.0.1/localhost/[::1] with our port is refused, even with a valid session', async () => {
  const { cookie } = await login()
  for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.2:${port}`, '']) {
    const r = await raw('GET', '/api/v1/status', { host, cookie })
    assert.equal(r.status, 403, host)
    assert.equal(r.code, 'MESH_ERR_API_HOST_REFUSED', host)
  }
  const tokenUnderRebind = await raw('GET', `/?token=${server.token}`, { host: `rebind.example:${port}` })
  assert.equal(tokenUnderRebind.code, 'MESH_ERR_API_HOST_REFUSED')
  for (const host of [`localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) assert.equal((await raw('GET', '/api/v1/status', { host, cookie })).status, 200, host)
})

test('cross-origin: a foreign Origin or a cross-site fetch is refused with 403 before any route runs', async () => {
  const { cookie, csrf } = await login()
  for (const origin of [`http://127.0.0.1:${port + 1}`, 'http://evil.example', 'null', `https://127.0.0.1:${port}`]) {
    const r = await raw('POST', '/api/v1/config/apply', { cookie, origin, 'x-meshwork-csrf': csrf, 'content-type': 'application/json' }, YAML)
    assert.equal(r.status, 403, origin)
    assert.equal(r.code, 'MESH_ERR_API_ORIGIN_REFUSED', origin)
  }
  for (const site of ['same-site', 'cross-site']) {
    const r = await raw('GET', '/api/v1/config', { cookie, 'sec-fetch-site': site })
    assert.equal(r.code, 'MESH_ERR_API_ORIGIN_REFUSED', site)
  }
  const ok = await raw('GET', '/api/v1/config', { cookie, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' })
  assert.equal(ok.status, 200)
})

test('state-changing calls need a JSON body and the session CSRF token; bearer callers need no CSRF token', async () => {
  const { cookie, csrf } = await login()
  const cpVersion = async (): Promise<string> => (await (await fetch(`${cp.url}/v1/status`)).json() as { version: string }).version
  const before = await cpVersion()
  const form = await raw('POST', '/api/v1/config/apply', { cookie, 'x-meshwork-csrf': csrf, 'content-type': 'application/x-www-form-urlencoded' }, 'yaml=x')
  assert.equal(form.status, 415)
  assert.equal(form.code, 'MESH_ERR_API_CONTENT_TYPE')
  const plain = await raw('POST', '/api/v1/config/apply', { cookie, 'x-meshwork-csrf': csrf, 'content-type': 'text/plain' }, YAML)
  assert.equal(plain.code, 'MESH_ERR_API_CONTENT_TYPE')
  const noCsrf = await raw('POST', '/api/v1/config/apply', { cookie, 'content-type': 'application/json' }, YAML)
  assert.equal(noCsrf.status, 403)
  assert.equal(noCsrf.code, 'MESH_ERR_API_CSRF')
  const other = await login()
  const wrongCsrf = await raw('POST', '/api/v1/config/apply', { cookie, 'x-meshwork-csrf': other.csrf, 'content-type': 'application/json' }, YAML)
  assert.equal(wrongCsrf.code, 'MESH_ERR_API_CSRF', 'another session\'s token does not do')
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    assert.equal((await raw(method, '/api/v1/config', { cookie, 'content-type': 'application/json' }, '{}')).code, 'MESH_ERR_API_CSRF', method)
  }
  assert.equal(await cpVersion(), before, 'no refused call reached the control plane')
  const good = await raw('POST', '/api/v1/config/validate', { cookie, 'x-meshwork-csrf': csrf, 'content-type': 'application/json' }, YAML)
  assert.equal(good.status, 200, good.body)
  const bearer = await raw('POST', '/api/v1/config/validate', { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, YAML)
  assert.equal(bearer.status, 200)
  const logout = await raw('POST', '/api/v1/session/logout', { cookie, 'x-meshwork-csrf': csrf, 'content-type': 'application/json' }, '{}')
  assert.equal(logout.status, 200)
  assert.equal((await raw('GET', '/api/v1/status', { cookie })).code, 'MESH_ERR_API_UNAUTHENTICATED')
})

test('the OTLP receiver takes spans from proxies without a session but refuses anything a browser sends', async () => {
  const spans = JSON.stringify({ resourceSpans: [] })
  assert.equal((await raw('POST', '/v1/traces', { 'content-type': 'application/json', host: `198.18.0.1:${port}` }, spans)).status, 200)
  const fromPage = await raw('POST', '/v1/traces', { 'content-type': 'text/plain', origin: 'http://evil.example' }, spans)
  assert.equal(fromPage.code, 'MESH_ERR_API_ORIGIN_REFUSED')
  const noCors = await raw('POST', '/v1/traces', { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' }, spans)
  assert.equal(noCors.code, 'MESH_ERR_API_ORIGIN_REFUSED')
})
