// Issue 17 (golden metrics): the Metrics page in Chromium against the management server scraping three stand-in
// proxies over real sockets: live tables per service / workload / route / source, sorting by mouse and keyboard,
// uPlot charts with units and a time range picker; screenshots at 1440×900 and 1920×1080 in light and dark.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { type ManagementServer, startManagementServer } from '../../src/management/server.ts'
import { launchBrowser, login, screenshot } from './browser.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const started = Date.now()
// service → [requests/s, failing share, share of requests under 10 ms]
const PROFILE: Record<string, [number, number, number]> = { reviews: [200, 0.1, 0.5], ratings: [10, 0, 0.9], details: [100, 0.04, 0.7] }

function text (service: string): string {
  const [rate, bad, fast] = PROFILE[service]
  const n = Math.floor(((Date.now() - started) / 1000) * rate)
  const e = Math.floor(n * bad)
  const l = `source="productpage",destination="${service}",destination_version="v1",route="${service}-default"`
  return [
    `meshwork_requests_total{direction="inbound",${l},code="200",class="2xx"} ${n - e}`,
    `meshwork_requests_total{direction="inbound",${l},code="503",class="5xx"} ${e}`,
    `meshwork_request_duration_seconds_bucket{direction="inbound",${l},class="2xx",le="0.01"} ${Math.floor(n * fast)}`,
    `meshwork_request_duration_seconds_bucket{direction="inbound",${l},class="2xx",le="0.1"} ${n}`,
    `meshwork_request_duration_seconds_bucket{direction="inbound",${l},class="2xx",le="+Inf"} ${n}`,
    ''
  ].join('\n')
}

const dir = mkdtempSync(join(tmpdir(), 'mw-ui-metrics-'))
const proxies: http.Server[] = []
let server: ManagementServer
let browser: Browser

before(async () => {
  const targets: Array<{ url: string, proxyId: string, role: 'sidecar', service: string, version: string }> = []
  for (const service of Object.keys(PROFILE)) {
    const s = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text(service)))
    s.listen(0, '127.0.0.1')
    await once(s, 'listening')
    proxies.push(s)
    targets.push({ url: `http://127.0.0.1:${(s.address() as { port: number }).port}/metrics`, proxyId: `${service}-v1-0`, role: 'sidecar', service, version: 'v1' })
  }
  server = await startManagementServer({ backend: new ControlPlaneBackend('http://127.0.0.1:9'), scrapeTargets: () => targets, scrapeIntervalMs: 500, dataDir: join(dir, 'mgmt'), benchmarks: false, uiDir: join(ROOT, 'ui', 'dist') })
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await server?.close()
  for (const s of proxies) s.close()
  rmSync(dir, { recursive: true, force: true })
})

const col = async (page: import('playwright-core').Page, id: string) => await page.locator(`[data-testid=golden-table] tbody td[data-col=${id}]`).allTextContents()

test('services table: live rows with success, RPS and p50/p95/p99; sorted by clicks and by keyboard', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  await login(page, server.openUrl)
  await page.goto(`${server.url}/#/metrics`)
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=golden-table] tbody tr[data-key]').length === 3 && [...document.querySelectorAll('[data-testid=golden-table] td[data-col=rps]')].every(td => Number(td.textContent) > 0), undefined, { timeout: 15_000 })
  assert.deepEqual(await col(page, 'service'), ['details', 'ratings', 'reviews'])
  const reviews = page.locator('[data-key=reviews]')
  assert.match(await reviews.locator('[data-col=successRate]').textContent() ?? '', /^ [89]\d(\.\d)?%$/)
  for (const p of ['p50Ms', 'p95Ms', 'p99Ms']) assert.match(await reviews.locator(`[data-col=${p}]`).textContent() ?? '', /^[\d.]+ms$/, p)
  assert.equal(await reviews.getAttribute('class'), ' health-failing')
  // live: the RPS cell is re-rendered from new scrapes
  const first = await reviews.locator('[data-col=rps]').textContent()
  await page.waitForFunction(v => document.querySelector('[data-key=reviews] [data-col=rps]')?.textContent !== v, first, { timeout: 10_000 })
  await page.locator('button[data-sort=rps]').click()
  assert.deepEqual(await col(page, 'service'), ['reviews', 'details', 'ratings'])
  assert.equal(await page.locator('th:has(button[data-sort=rps])').getAttribute('aria-sort'), 'descending')
  await page.locator('button[data-sort=rps]').click()
  assert.deepEqual(await col(page, 'service'), ['ratings', 'details', 'reviews'])
  // keyboard: focus the Success header and press Enter (highest first), then Space (lowest first)
  await page.locator('button[data-sort=successRate]').focus()
  await page.keyboard.press('Enter')
  assert.deepEqual(await col(page, 'service'), ['ratings', 'details', 'reviews'])
  await page.keyboard.press(' ')
  assert.deepEqual(await col(page, 'service'), ['reviews', 'details', 'ratings'])
  assert.equal(await page.locator('th:has(button[data-sort=successRate])').getAttribute('aria-sort'), 'ascending')
  await page.close()
})

test('workload, route and by-source tabs list their rows', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  await login(page, server.openUrl)
  await page.goto(`${server.url}/#/metrics`)
  await page.locator('[data-tab=workload]').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=golden-table]')?.getAttribute('data-by') === 'workload' && document.querySelectorAll('[data-testid=golden-table] tr[data-key]').length === 3)
  assert.deepEqual(await col(page, 'workload'), ['details-v1-0', 'ratings-v1-0', 'reviews-v1-0'])
  await page.locator('[data-tab=route]').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=golden-table]')?.getAttribute('data-by') === 'route' && document.querySelectorAll('[data-testid=golden-table] tr[data-key]').length === 3)
  assert.deepEqual(await col(page, 'route'), ['details-default', 'ratings-default', 'reviews-default'])
  await page.locator('[data-tab=source]').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=golden-table]')?.getAttribute('data-by') === 'source')
  // these stand-ins export inbound metrics only: no caller side, so the table says it is empty
  assert.match(await page.getByTestId('golden-table').textContent() ?? '', /No traffic seen yet/)
  await page.close()
})

for (const [w, h] of [[1440, 900], [1920, 1080]]) {
  test(`charts of a service at ${w}x${h}: request rate, success and latency with units; time range picker; light and dark`, async () => {
    const page = await browser.newPage({ viewport: { width: w, height: h } })
  await login(page, server.openUrl)
    await page.goto(`${server.url}/#/metrics`)
    await page.locator('[data-key=reviews] button.link').click()
    const charts = page.getByTestId('golden-charts')
    await charts.waitFor()
    assert.equal(await charts.getAttribute('data-source'), 'proxies')
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=chart-latency]')?.getAttribute('data-points')) >= 3, undefined, { timeout: 15_000 })
    assert.deepEqual(await page.locator('[data-testid=golden-charts] .u-title').allTextContents(), ['Request rate', 'Success rate', 'Latency'])
    assert.equal(await page.locator('[data-testid=golden-charts] canvas').count(), 3)
    // the legend names each series with its unit
    const legend = await page.locator('[data-testid=chart-latency] .u-legend').textContent() ?? ''
    assert.match(legend, /p50.*p95.*p99/)
    assert.match(legend, /\d ms/)
    assert.match(await page.locator('[data-testid=chart-rps] .u-legend').textContent() ?? '', /req\/s/)
    // every chart lies inside the window and beside the table, not over it
    const boxes = await page.locator('.metrics-table, [data-testid=golden-charts] .time-chart').evaluateAll(els => els.map(e => { const b = e.getBoundingClientRect(); return { x: b.x, y: b.y, r: b.right, b: b.bottom } }))
    for (const b of boxes) assert.ok(b.x >= 0 && b.r <= w, JSON.stringify(b))
    const [table, ...cs] = boxes
    for (const c of cs) assert.ok(c.x >= table.r, 'charts right of the table')
    await screenshot(page, `metrics-charts-${w}x${h}`)
    const wanted = page.waitForRequest(r => r.url().includes('/metrics/series') && r.url().includes('range=1h'))
    await page.locator('[data-testid=range-picker] [data-range="1h"]').click()
    await wanted
    assert.equal(await page.locator('[data-range="1h"]').getAttribute('aria-checked'), 'true')
    await page.getByTestId('theme-toggle').click()
    await page.getByTestId('theme-toggle').click()
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark')
    await page.waitForTimeout(300)
    await screenshot(page, `metrics-charts-dark-${w}x${h}`)
    await page.getByTestId('theme-toggle').click()
    await page.close()
  })
}
