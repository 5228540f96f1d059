import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { screenshot, startPlayground } from './browser.ts'

let playground: Awaited<ReturnType<typeof startPlayground>>
let page: Page
const server = { get url (): string { return playground.url } }

before(async () => {
  playground = await startPlayground({ width: 1500, height: 1000 })
  page = playground.page
})
after(async () => { await playground?.close() })

async function startRun (scenarios: string[], seconds: number): Promise<void> {
  await page.goto(`${server.url}/#/benchmarks`)
  await page.getByTestId('bench-form').waitFor()
  await page.getByTestId('scenario-no-mesh').waitFor()
  for (const id of ['no-mesh', 'meshwork-plain', 'meshwork-mtls', 'meshwork-mtls-tracing', 'nginx-mtls', 'haproxy-mtls']) {
    const box = page.getByTestId(`scenario-${id}`)
    if (await box.isChecked() !== scenarios.includes(id)) await box.click()
  }
  await page.getByTestId('bench-rate').fill('150')
  await page.getByTestId('bench-duration').fill(String(seconds))
  const before = await page.locator('[data-testid^=run-status-]').count()
  await page.getByTestId('bench-start').click()
  // The run is listed before anyone waits for it to finish (the list refreshes on start).
  await page.waitForFunction(n => document.querySelectorAll('[data-testid^=run-status-]').length > n, before, { timeout: 15_000 })
}

async function waitDone (timeoutMs: number): Promise<void> {
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('[data-testid^=run-status-]')]
    return cells.length > 0 && !cells.some(c => c.textContent?.startsWith('running'))
  }, undefined, { timeout: timeoutMs })
}

test('start a run from the form, watch its progress, read the overhead table, plots and SMP export', async () => {
  await startRun(['no-mesh', 'nginx-mtls'], 2)
  await page.getByTestId('bench-progress').waitFor({ timeout: 30_000 })
  await screenshot(page, 'bench-progress')
  await waitDone(120_000)
  await page.getByTestId('overhead-table').waitFor()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=overhead-table] tbody tr').length === 2, undefined, { timeout: 10_000 })
  const table = await page.getByTestId('overhead-table').textContent() ?? ''
  assert.match(table, /no-mesh/)
  assert.match(table, /nginx-mtls/)
  // added latency over no-mesh per scenario (issue 18): the baseline adds nothing, nginx adds something
  assert.match(table, /\+p50.*\+p90.*\+p99/)
  const added = await page.getByTestId('added-p50').allTextContents()
  assert.equal(added[0], '+0.00')
  assert.match(added[1], /^[+-]\d+\.\d\d$/)
  assert.ok(await page.getByTestId('percentile-plot').count() >= 1)
  assert.ok(await page.getByTestId('histogram').count() >= 2)
  await screenshot(page, 'bench-result')
  const download = page.waitForEvent('download')
  await page.getByTestId('smp-export').click()
  const file = await (await download).path()
  const smp = JSON.parse(readFileSync(file, 'utf8')) as any[]
  assert.ok(smp.length >= 2)
  assert.ok(smp.every(r => typeof r.actual_qps === 'number' && r.latencies && r.mesh_config && r.env))
})

test('cancel a running benchmark, then compare two runs overlaid', async () => {
  await startRun(['no-mesh'], 30)
  await page.getByTestId('cancel').waitFor({ timeout: 30_000 })
  await page.getByTestId('cancel').click()
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid^=run-status-]')].some(c => c.textContent?.startsWith('cancelled')), undefined, { timeout: 60_000 })
  await waitDone(60_000)
  await startRun(['no-mesh'], 1)
  await waitDone(90_000)
  const rows = page.locator('[data-testid=bench-runs] tbody tr')
  const n = await rows.count()
  let checked = 0
  for (let i = 0; i < n && checked < 2; i++) {
    const text = await rows.nth(i).textContent() ?? ''
    if (!text.includes('done')) continue
    await rows.nth(i).locator('input[type=checkbox]').check()
    checked++
  }
  assert.equal(checked, 2)
  await page.getByTestId('compare-view').waitFor()
  await page.waitForFunction(() => (document.querySelectorAll('[data-testid=compare-view] [data-testid=percentile-plot] path').length >= 2), undefined, { timeout: 10_000 })
  await screenshot(page, 'bench-compare')
})
