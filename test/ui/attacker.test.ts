// Attacks on the management UI from Chromium, as a malicious page the operator happens to open would
// try them: pages served on ANOTHER origin (127.0.0.2:<port>, and 127.0.0.1:<other port>, which shares
// the UI's cookies since cookies ignore ports) fire fetches, form posts and <img> requests at the UI's
// API with the operator's browser already logged in; a DNS-rebinding page (rebind.test, resolved by
// Chromium to the attacker first and then relayed to the UI) calls the API as "same origin".
// All must fail, the control plane's config must stay as it was, and the real UI must still work.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { type Browser, chromium, type Page } from 'playwright-core'
import { screenshot, startPlayground } from './browser.ts'

let playground: Awaited<ReturnType<typeof startPlayground>>
let uiPort: number
const servers: Server[] = []
let browser: Browser | null = null

const ROUTE_YAML = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: evil }\nspec:\n  parentRefs: [{ kind: Service, name: reviews }]\n  rules:\n    - backendRefs: [{ name: reviews-v3, weight: 100 }]\n'

/** The attack, run inside the attacker's page; `ui` is the UI's base URL as the attacker names it. */
function attackPage (ui: string): string {
  return `<!doctype html><meta charset="utf-8"><title>cute cats</title><body><h1>cute cats</h1>
<iframe name="sink" style="display:none"></iframe>
<script>
const ui = ${JSON.stringify(ui)}
const body = JSON.stringify({ yaml: ${JSON.stringify(ROUTE_YAML)}, prune: true })
window.results = {}
async function attempt (name, fn) {
  try { window.results[name] = await fn() } catch (e) { window.results[name] = 'error: ' + e.name }
}
window.attack = async () => {
  // simple (no-preflight) requests the browser sends with the operator's cookies
  await attempt('no-cors text/plain POST apply', async () => { const r = await fetch(ui + '/api/v1/config/apply', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body }); return 'sent (opaque ' + r.type + ')' })
  await attempt('cors JSON POST apply (needs preflight)', async () => { const r = await fetch(ui + '/api/v1/config/apply', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-meshwork-csrf': 'guess' }, body }); return 'read ' + r.status })
  await attempt('cors GET config (read secrets)', async () => { const r = await fetch(ui + '/api/v1/config', { credentials: 'include' }); return 'read ' + r.status + ' ' + (await r.text()).slice(0, 40) })
  await attempt('cors GET session (steal CSRF token)', async () => { const r = await fetch(ui + '/api/v1/session', { credentials: 'include' }); return 'read ' + (await r.text()) })
  await attempt('img GET events', () => new Promise(res => { const i = new Image(); i.onload = () => res('loaded'); i.onerror = () => res('img error'); i.src = ui + '/api/v1/config?img=1' }))
  await attempt('EventSource events', () => new Promise(res => { const es = new EventSource(ui + '/api/v1/events', { withCredentials: true }); es.onopen = () => { es.close(); res('open') }; es.onerror = () => { es.close(); res('es error') } }))
  await attempt('form POST text/plain apply', () => new Promise(res => {
    const f = document.createElement('form'); f.method = 'POST'; f.action = ui + '/api/v1/config/apply'; f.enctype = 'text/plain'; f.target = 'sink'
    const i = document.createElement('input'); i.name = body.slice(0, -1) + ',"x":"'; i.value = '"}'; f.appendChild(i); document.body.appendChild(f)
    document.querySelector('iframe').onload = () => res('submitted'); f.submit(); setTimeout(() => res('submitted (no load event)'), 3000)
  }))
  await attempt('form POST urlencoded delete', () => new Promise(res => {
    const f = document.createElement('form'); f.method = 'POST'; f.action = ui + '/api/v1/session/logout'; f.target = 'sink'
    document.body.appendChild(f); document.querySelector('iframe').onload = () => res('submitted'); f.submit(); setTimeout(() => res('submitted (no load event)'), 3000)
  }))
  return window.results
}
</script>`
}

/** Every API request the UI server answered, seen on its socket server, with its status and error code. */
const answered: Array<{ method: string, url: string, status: number, own: boolean }> = []

function refusedTotal (code?: string): number {
  return Object.entries(playground.refusals()).reduce((n, [c, k]) => n + (code === undefined || c === code ? k : 0), 0)
}

async function listen (host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const s = createServer(handler)
  servers.push(s)
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, host, resolve) })
  return (s.address() as AddressInfo).port
}

before(async () => {
  playground = await startPlayground()
  uiPort = Number(new URL(playground.url).port)
  playground.httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () => {
      // `own`: sent by the logged-in UI itself (its own Host, same-origin fetch), e.g. its topology polling, not by an
      // attack page (another origin: cross-site or same-site; a rebinding page: another Host)
      const self = `127.0.0.1:${(playground.httpServer.address() as { port: number }).port}`
      const own = req.headers.host === self && req.headers['sec-fetch-site'] === 'same-origin'
      if (req.url?.startsWith('/api/') === true) answered.push({ method: req.method!, url: req.url, status: res.statusCode, own })
    })
  })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    // rebind.test is the attacker's name: Chromium resolves it to the attacker's address, whose server
    // then relays to the UI (what a rebinding DNS answer achieves: same origin, other machine).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--host-resolver-rules=MAP rebind.test 127.0.0.2']
  })
})
after(async () => {
  await browser?.close()
  for (const s of servers) s.close()
  await playground?.close()
})

async function resources (): Promise<string> {
  return await fetch(`${playground.cpUrl}/v1/resources`).then(r => r.text())
}

/** A logged-in operator's browser context (the cookie set by the token URL), then the attacker page in it. */
async function victimPage (attackerUrl: string): Promise<Page> {
  const context = await browser!.newContext()
  const page = await context.newPage()
  await page.goto(playground.openUrl)
  assert.ok((await context.cookies()).some(c => c.name === `meshwork-session-${uiPort}` && c.httpOnly && c.sameSite === 'Strict'))
  await page.goto(attackerUrl)
  // the UI page is gone; let its last in-flight polls land before the attack is observed
  await new Promise(resolve => setTimeout(resolve, 500))
  return page
}

for (const where of ['127.0.0.2 (another site)', '127.0.0.1:<other port> (same site, shares the cookie)']) {
  test(`a page on ${where} cannot change or read the config through the logged-in browser`, async () => {
    const host = where.startsWith('127.0.0.2') ? '127.0.0.2' : '127.0.0.1'
    const port = await listen(host, 0, (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage(`http://127.0.0.1:${uiPort}`)) })
    const before = await resources()
    const page = await victimPage(`http://${host}:${port}/`)
    const seen = answered.length
    const refusedBefore = refusedTotal()
    const results = await page.evaluate('window.attack()') as Record<string, string>
    await new Promise(resolve => setTimeout(resolve, 300))
    for (const [name, outcome] of Object.entries(results)) console.log(`# attack from ${host}: ${name} → ${outcome}`)
    assert.equal(await resources(), before, 'the control plane config is unchanged')
    for (const [name, outcome] of Object.entries(results)) assert.doesNotMatch(outcome, /^read 2\d\d|^loaded$|^open$/, `${name}: ${outcome}`)
    const hits = answered.slice(seen).filter(a => a.url.startsWith('/api/') && !a.own)
    assert.ok(hits.length >= 5, `the attacks reached the server (${hits.length})`)
    for (const h of hits) assert.ok(h.status === 401 || h.status === 403 || h.status === 415, `${h.method} ${h.url} → ${h.status}`)
    assert.equal(refusedTotal() - refusedBefore, hits.length, 'each attack request was refused by the access checks (counted by code)')
    console.log(`# attacks from ${host}: ${hits.length} requests reached the UI server, ${hits.length} refused: ${JSON.stringify(playground.refusals())}`)
    await page.context().close()
  })
}

test('DNS rebinding: a page whose name now points at the UI is refused by the Host check', async () => {
  // The attacker's server on 127.0.0.2:<the UI's port>: the page first, then every other request is
  // relayed to the UI unchanged (Host: rebind.test:<port>), as after a rebinding DNS answer.
  await listen('127.0.0.2', uiPort, (req, res) => {
    if (req.url === '/') { res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage('')); return }
    const up = request({ host: '127.0.0.1', port: uiPort, method: req.method, path: req.url, headers: req.headers }, r => { res.writeHead(r.statusCode!, r.headers); r.pipe(res) })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  const before = await resources()
  const page = await victimPage(`http://rebind.test:${uiPort}/`)
  const seen = answered.length
  const hostRefusedBefore = refusedTotal('MESH_ERR_API_HOST_REFUSED')
  const results = await page.evaluate('window.attack()') as Record<string, string>
  await new Promise(resolve => setTimeout(resolve, 300))
  for (const [name, outcome] of Object.entries(results)) console.log(`# rebinding: ${name} → ${outcome}`)
  assert.equal(await resources(), before)
  const hits = answered.slice(seen).filter(a => a.url.startsWith('/api/') && !a.own)
  assert.ok(hits.length >= 5, `the relayed requests reached the UI server (${hits.length})`)
  for (const h of hits) assert.equal(h.status, 403, `${h.method} ${h.url}`)
  assert.equal(refusedTotal('MESH_ERR_API_HOST_REFUSED') - hostRefusedBefore, hits.length, 'every relayed request was refused by the Host check')
  // same-origin reads succeed at the HTTP level but carry only the refusal
  assert.match(results['cors GET config (read secrets)'], /^read 403/)
  await page.context().close()
})

test('the real UI still works after the attacks: the token URL logs in, a config edit applies', async () => {
  const page = playground.page
  await page.goto(`${playground.openUrl}#/config`)
  assert.doesNotMatch(page.url(), /token=/, 'the token is dropped from the address bar')
  await page.waitForFunction(() => (document.querySelector('[data-testid=yaml-editor]') as HTMLTextAreaElement | null)?.value.includes('kind: Workload') === true, undefined, { timeout: 15_000 })
  await page.getByTestId('form-service').selectOption('reviews')
  await page.getByTestId('weight-v1').fill('0')
  await page.getByTestId('weight-v2').fill('100')
  await page.getByTestId('weight-v3').fill('0')
  await page.getByTestId('apply-split').click()
  await page.getByTestId('review').click()
  await page.getByTestId('confirm-apply').click()
  await page.getByTestId('apply-result').waitFor()
  assert.match(await page.getByTestId('apply-result').textContent() ?? '', /Applied: version/)
  const route = (JSON.parse(await resources()) as any[]).find(r => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews')
  assert.deepEqual(route.spec.rules.at(-1).backendRefs.map((b: any) => [b.name, b.weight]), [['reviews-v2', 100]])
  await screenshot(page, 'attacker-ui-still-works')
})
