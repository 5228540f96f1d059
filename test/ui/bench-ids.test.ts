// Issue 19: a "benchmark busy" error leaves the screen when the run that caused it ends, and the run ids
// the UI shows work with `meshwork bench show` and `meshwork bench compare` (the real CLI, on the
// management server's data dir).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { cleanEnv, cli } from '../cli/cli.ts'
import { screenshot, startPlayground } from './browser.ts'

let playground: Awaited<ReturnType<typeof startPlayground>>
let page: Page
let cancelledId = ''

before(async () => {
  playground = await startPlayground({ width: 1440, height: 900 })
  page = playground.page
})
after(async () => { await playground?.close() })

async function openBenchmarks (): Promise<void> {
  await page.goto('about:blank')
  await page.goto(`${playground.url}/#/benchmarks`)
  await page.getByTestId('scenario-no-mesh').waitFor()
  for (const id of ['meshwork-plain', 'meshwork-mtls', 'meshwork-mtls-tracing', 'nginx-mtls', 'haproxy-mtls']) {
    const box = page.getByTestId(`scenario-${id}`)
    if (await box.count() > 0 && await box.isChecked()) await box.click()
  }
  if (!await page.getByTestId('scenario-no-mesh').isChecked()) await page.getByTestId('scenario-no-mesh').click()
  await page.getByTestId('bench-rate').fill('100')
  await page.getByTestId('bench-duration').fill('1')
}

const runIds = (): Promise<string[]> => page.evaluate(() => [...document.querySelectorAll('[data-testid^=run-status-]')].map(e => (e as HTMLElement).dataset.testid!.slice('run-status-'.length)))
const statusOf = (id: string): Promise<string> => page.getByTestId(`run-status-${id}`).textContent().then(t => t ?? '')

test('a "benchmark busy" error goes away once the run that caused it has ended', async () => {
  const res = await fetch(`${playground.url}/api/v1/benchmarks`, { method: 'POST', headers: { authorization: `Bearer ${playground.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ scenarios: ['no-mesh'], rate: 100, durationMs: 60_000, connections: 2, repeats: 1 }) })
  assert.equal(res.status, 202)
  cancelledId = (await res.json() as { id: string }).id
  await openBenchmarks()
  await page.getByTestId('bench-start').click()
  await page.getByTestId('bench-error').waitFor()
  assert.match(await page.getByTestId('bench-error').textContent() ?? '', /^MESH_ERR_BENCH_BUSY: /)
  await screenshot(page, 'bench-busy')
  assert.equal((await fetch(`${playground.url}/api/v1/benchmarks/${cancelledId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${playground.token}`, 'content-type': 'application/json' }, body: '{}' })).status, 200)
  await page.waitForFunction(id => document.querySelector(`[data-testid=run-status-${id}]`)?.textContent?.startsWith('cancelled'), cancelledId, { timeout: 60_000 })
  await page.getByTestId('bench-error').waitFor({ state: 'detached', timeout: 10_000 })
})

test('the run ids the UI shows work with meshwork bench show and compare', async () => {
  const before = new Set(await runIds())
  const ids: string[] = []
  for (let i = 0; i < 2; i++) {
    await openBenchmarks()
    await page.getByTestId('bench-start').click()
    await page.waitForFunction(n => document.querySelectorAll('[data-testid^=run-status-]').length > n, before.size + i, { timeout: 15_000 })
    const id = (await runIds()).find(x => !before.has(x) && !ids.includes(x))!
    ids.push(id)
    await page.waitForFunction(x => document.querySelector(`[data-testid=run-status-${x}]`)?.textContent?.startsWith('done'), id, { timeout: 90_000 })
  }
  const env = cleanEnv()
  const show = await cli(['bench', 'show', ids[0], '--data-dir', playground.dataDir], { env })
  assert.equal(show.code, 0, show.stderr)
  assert.match(show.stdout, new RegExp(`^suite ${ids[0]} `, 'm'))
  assert.match(show.stdout, /no-mesh/)
  // the command the run view prints, run as printed
  await page.locator(`[data-testid=bench-runs] tbody tr`, { has: page.getByTestId(`run-status-${ids[1]}`) }).locator('td').nth(1).click()
  const printed = await page.getByTestId('run-cli').textContent() ?? ''
  assert.equal(printed, `meshwork bench show ${ids[1].slice(0, 8)} --data-dir ${playground.dataDir}`)
  const again = await cli(printed.split(' ').slice(1), { env })
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stdout, new RegExp(`^suite ${ids[1]} `, 'm'))
  await screenshot(page, 'bench-run-cli')

  const compare = await cli(['bench', 'compare', ids[0].slice(0, 8), ids[1].slice(0, 8), '--data-dir', playground.dataDir], { env })
  assert.equal(compare.code, 0, compare.stderr)
  for (const id of ids) assert.match(compare.stdout, new RegExp(`^${id.slice(0, 8)}\\s+no-mesh\\s+1\\s`, 'm'))
  // a cancelled run is a group too
  assert.match(await statusOf(cancelledId), /^cancelled/)
  const cancelled = await cli(['bench', 'show', cancelledId, '--data-dir', playground.dataDir], { env })
  assert.equal(cancelled.code, 0, cancelled.stderr)
})
