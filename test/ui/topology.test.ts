// Issue 17 (topology): the graph in real Chromium at 1440×900 and 1920×1080, on the Bookinfo config and on a
// synthetic 120-service mesh (`?fixture=synthetic-120`): nothing cut off or overlapping, namespaces collapse and
// expand, pan and zoom, find and focus, edge label modes, traffic dots, identity in the side panel.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { login, screenshot, startPlayground } from './browser.ts'
import { graphBoxes, layoutProblems } from './geometry.ts'

let pg: Awaited<ReturnType<typeof startPlayground>>
let browser: Browser

before(async () => {
  pg = await startPlayground({ width: 1440, height: 900 })
  browser = pg.page.context().browser() ?? await chromium.launch()
})
after(async () => { await pg?.close() })

const SIZES = [{ width: 1440, height: 900 }, { width: 1920, height: 1080 }]

async function open (viewport: { width: number, height: number }, query = '', opts: { reducedMotion?: 'reduce' | 'no-preference' } = {}) {
  const context = await browser.newContext({ viewport, reducedMotion: opts.reducedMotion ?? 'no-preference' })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', e => errors.push(e.message))
  await login(page, pg.openUrl)
  await page.goto(`${pg.url}/${query}#/topology`)
  await page.getByTestId('topology').waitFor()
  // one frame for the fit-to-view after the canvas is measured
  await page.waitForTimeout(300)
  return { page, context, errors }
}

async function assertClean (page: import('playwright-core').Page, what: string): Promise<number> {
  const g = await graphBoxes(page)
  assert.deepEqual(layoutProblems(g), [], what)
  return g.boxes.length
}

for (const size of SIZES) {
  const tag = `${size.width}x${size.height}`
  test(`bookinfo graph at ${tag}: every node inside the canvas, nothing overlapping, all idle (grey) without traffic`, async () => {
    const { page, context, errors } = await open(size)
    const n = await assertClean(page, tag)
    assert.ok(n >= 8, `${n} boxes`)
    for (const id of ['productpage', 'reviews', 'ratings', 'details', 'stars', 'ingress', 'egress']) {
      assert.equal(await page.locator(`[data-node=${id}]`).getAttribute('data-health'), 'idle', id)
    }
    assert.equal(await page.locator('[data-version^="reviews/"]').count(), 3)
    await screenshot(page, `topology-bookinfo-${tag}`)
    assert.deepEqual(errors, [])
    await context.close()
  })

  test(`120 services at ${tag}: opens as namespaces; expanded, all 121 nodes fit without overlap`, async () => {
    const { page, context, errors } = await open(size, '?fixture=synthetic-120')
    assert.equal(await page.locator('[data-testid=topology] .node.namespace').count(), 6)
    await assertClean(page, `${tag} collapsed`)
    await screenshot(page, `topology-120-collapsed-${tag}`)
    await page.getByTestId('expand-all').click()
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=topology] .node').length === 121)
    await page.waitForTimeout(200)
    await assertClean(page, `${tag} expanded`)
    const healths = await page.locator('[data-testid=topology] .node').evaluateAll(els => [...new Set(els.map(e => e.getAttribute('data-health')))].sort())
    assert.deepEqual(healths, ['degraded', 'failing', 'healthy', 'idle'])
    await screenshot(page, `topology-120-expanded-${tag}`)
    assert.deepEqual(errors, [])
    await context.close()
  })
}

test('120 services: zoom (buttons, wheel, keys), pan by dragging, fit again; collapse a namespace by its title', async () => {
  const { page, context } = await open(SIZES[0], '?fixture=synthetic-120')
  await page.getByTestId('expand-all').click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=topology] .node').length === 121)
  const zoom = async () => Number(await page.getByTestId('topology').getAttribute('data-zoom'))
  const transform = async () => await page.locator('[data-testid=topology] .viewport').getAttribute('transform')
  const fit = await zoom()
  assert.ok(fit < 1, `fit zoom ${fit}`)
  await page.getByTestId('zoom-in').click()
  assert.ok(Math.abs(await zoom() - fit * 1.25) < 0.01)
  const canvas = (await page.getByTestId('graph-canvas').boundingBox())!
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2)
  await page.mouse.wheel(0, -400)
  await page.waitForFunction(z => Number(document.querySelector('[data-testid=topology]')?.getAttribute('data-zoom')) > z, fit * 1.3)
  const before = await transform()
  await page.mouse.move(canvas.x + 30, canvas.y + 30)
  await page.mouse.down()
  await page.mouse.move(canvas.x + 230, canvas.y + 130, { steps: 5 })
  await page.mouse.up()
  assert.notEqual(await transform(), before)
  await page.getByTestId('graph-canvas').focus()
  const z0 = await zoom()
  await page.keyboard.press('-')
  assert.ok(await zoom() < z0)
  await page.keyboard.press('0')
  assert.ok(Math.abs(await zoom() - fit) < 0.001)
  await page.locator('[data-namespace=payments] .ns-title').click()
  await page.locator('[data-node="namespace:payments"]').waitFor()
  assert.equal(await page.locator('[data-ns=payments]').count(), 1)
  assert.match(await page.locator('[data-node="namespace:payments"]').textContent() ?? '', /20 services \(collapsed\)/)
  await assertClean(page, 'payments collapsed')
  await page.locator('[data-node="namespace:payments"]').press('Enter')
  await page.waitForFunction(() => document.querySelectorAll('[data-ns=payments]').length === 20)
  await context.close()
})

test('120 services: find centres and selects a service in a collapsed namespace, the panel shows its identity; focus shows its neighbours', async () => {
  const { page, context } = await open(SIZES[0], '?fixture=synthetic-120')
  await page.getByTestId('find').fill('catalog-svc-07')
  await page.getByTestId('find').press('Enter')
  const node = page.locator('[data-node="catalog-svc-07"]')
  await node.waitFor()
  await page.waitForTimeout(200)
  assert.match(await node.getAttribute('class') ?? '', /selected/)
  assert.match(await node.getAttribute('class') ?? '', /found/)
  const box = (await node.locator('.node-box').boundingBox())!
  const canvas = (await page.getByTestId('graph-canvas').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  assert.ok(Math.abs(cx - (canvas.x + canvas.width / 2)) < 2 && Math.abs(cy - (canvas.y + canvas.height / 2)) < 2, 'centred')
  assert.ok(box.width >= 150, `readable: ${box.width}px wide`)
  const panel = page.getByTestId('service-panel')
  await panel.waitFor()
  assert.equal(await panel.locator('[data-proxy="catalog-svc-07-v1-0"] [data-field=identity]').textContent(), 'spiffe://meshwork.local/ns/catalog/sa/catalog-svc-07')
  assert.equal(await panel.locator('[data-proxy="catalog-svc-07-v1-0"] [data-field=attestation]').textContent(), 'join-token')
  assert.match(await panel.locator('[data-proxy="catalog-svc-07-v1-0"] [data-field=certNotAfter]').textContent() ?? '', /^2030-01-01T12:00:00.000Z \(in \d+ d\)$/)
  await screenshot(page, 'topology-120-find-1440x900')
  await page.getByTestId('focus').click()
  await page.getByTestId('clear-focus').waitFor()
  const shown = await page.locator('[data-testid=topology] .node').evaluateAll(els => els.map(e => e.getAttribute('data-node')))
  assert.ok(shown.includes('catalog-svc-07') && shown.includes('catalog-svc-02'), shown.join(','))
  assert.ok(shown.length < 10, `${shown.length} nodes in focus`)
  await assertClean(page, 'focus')
  await screenshot(page, 'topology-120-focus-1440x900')
  await page.getByTestId('find').fill('no-such-thing')
  await page.getByTestId('find-go').click()
  assert.match(await page.getByTestId('find-error').textContent() ?? '', /no service matches/)
  await page.getByTestId('clear-focus').click()
  await context.close()
})

test('edge labels switch between rps, success %, p99 and traffic share; protocol and mTLS lock on every edge', async () => {
  const { page, context } = await open(SIZES[1], '?fixture=synthetic-120')
  await page.getByTestId('expand-all').click()
  const label = page.locator('[data-edge="ingress->shop-svc-00"] .edge-label')
  assert.match(await label.textContent() ?? '', /^[\d.]+ rps$/)
  for (const [mode, re] of [['success', /^\d+(\.\d)?%$|^–$/], ['p99', /^p99 ([\d.]+m?s|–)$/], ['share', /^\d+% share$/], ['none', /^$/], ['rps', /^[\d.]+ rps$/]] as const) {
    await page.getByTestId('edge-label-mode').selectOption(mode)
    assert.match(await label.textContent() ?? '', re, mode)
    await assertClean(page, mode)
  }
  const edges = await page.locator('[data-testid=topology] .edge').evaluateAll(els => els.map(e => ({ p: e.getAttribute('data-protocol'), text: e.querySelector('.edge-protocol')?.textContent, lock: e.querySelector('.lock')?.getAttribute('data-mtls') })))
  assert.deepEqual([...new Set(edges.map(e => e.text))].sort(), ['HTTP', 'TCP', 'gRPC'])
  for (const e of edges) assert.equal(e.text, { http: 'HTTP', grpc: 'gRPC', tcp: 'TCP', mixed: 'HTTP+gRPC' }[e.p!])
  assert.deepEqual([...new Set(edges.map(e => e.lock))].sort(), ['false', 'true'])
  // the choice is kept across reloads
  await page.getByTestId('edge-label-mode').selectOption('p99')
  await page.reload()
  await page.getByTestId('topology').waitFor()
  assert.equal(await page.getByTestId('edge-label-mode').inputValue(), 'p99')
  await page.getByTestId('edge-label-mode').selectOption('rps')
  await context.close()
})

test('traffic dots: more on busier edges, none on idle ones, off with the toggle and by default under prefers-reduced-motion', async () => {
  const { page, context } = await open(SIZES[0], '?fixture=synthetic-120')
  await page.getByTestId('expand-all').click()
  const edges = await page.locator('[data-testid=topology] .edge').evaluateAll(els => els.map(e => ({ id: e.getAttribute('data-edge'), dots: e.querySelectorAll('circle.dot').length, label: e.querySelector('.edge-label')?.textContent ?? '' })))
  const rate = (l: string) => Number(l.replace(' rps', ''))
  const busy = edges.filter(e => rate(e.label) >= 30)
  const quiet = edges.filter(e => rate(e.label) > 0 && rate(e.label) < 4)
  assert.ok(busy.length > 0 && quiet.length > 0)
  for (const e of busy) assert.ok(e.dots >= 7, `${e.id}: ${e.dots}`)
  for (const e of quiet) assert.equal(e.dots, 1, e.id!)
  for (const e of edges.filter(x => rate(x.label) === 0)) assert.equal(e.dots, 0, e.id!)
  assert.ok(await page.locator('animateMotion').count() > 100)
  await page.getByTestId('dots-toggle').uncheck()
  assert.equal(await page.locator('circle.dot').count(), 0)
  await context.close()
  const reduced = await open(SIZES[0], '?fixture=synthetic-120', { reducedMotion: 'reduce' })
  assert.equal(await reduced.page.getByTestId('dots-toggle').isChecked(), false)
  assert.equal(await reduced.page.locator('circle.dot').count(), 0)
  await reduced.context.close()
})
