// Issue 19: on the real Bookinfo config the forms start from the running values and change only the
// field the user touched: a request-timeout edit leaves the reviews route's per-try timeout at 2s, and
// the diff shows that one line and nothing else.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { screenshot, startPlayground } from './browser.ts'

let playground: Awaited<ReturnType<typeof startPlayground>>
let page: Page

before(async () => {
  playground = await startPlayground({ width: 1440, height: 900 })
  page = playground.page
})
after(async () => { await playground?.close() })

async function openConfig (): Promise<void> {
  await page.goto('about:blank')
  await page.goto(`${playground.url}/#/config`)
  await page.waitForFunction(() => (document.querySelector('[data-testid=yaml-editor]') as HTMLTextAreaElement)?.value.includes('kind: Workload'))
}

/** The diff dialog's changed lines per resource, as `-line` / `+line` (trimmed). */
async function reviewDiff (): Promise<Record<string, string[]>> {
  await page.getByTestId('review').click()
  await page.getByTestId('diff').waitFor()
  return await page.evaluate(() => {
    const out: Record<string, string[]> = {}
    for (const d of document.querySelectorAll('[data-testid=diff] .diff')) {
      const key = (d.querySelector('.diff-head')?.textContent ?? '').trim()
      out[key] = [...d.querySelectorAll('pre div.add, pre div.del')].map(l => (l.textContent ?? '').replace(/^([+-]) +/, '$1'))
    }
    return out
  })
}

async function resource (kind: string, name: string): Promise<any> {
  const all = await fetch(`${playground.cpUrl}/v1/resources`).then(r => r.json()) as any[]
  return all.find(r => r.kind === kind && r.metadata.name === name)
}

test('the timeout form shows the running values; a timeout edit changes that one line, per-try 2s survives', async () => {
  await openConfig()
  await page.getByTestId('form-service').selectOption('reviews')
  assert.equal(await page.getByTestId('timeout-request').inputValue(), '5s')
  assert.equal(await page.getByTestId('timeout-per-try').inputValue(), '2s')
  assert.equal(await page.getByTestId('retry-attempts').inputValue(), '2')
  await page.getByTestId('timeout-request').fill('7s')
  await page.getByTestId('apply-timeouts').click()
  assert.deepEqual(await reviewDiff(), { 'changed: HTTPRoute/default/reviews': ['-request: 5s', '+request: 7s'] })
  await screenshot(page, 'forms-timeout-diff')
  await page.getByTestId('confirm-apply').click()
  await page.waitForFunction(() => /Applied: version/.test(document.querySelector('[data-testid=apply-result]')?.textContent ?? ''))
  const route = await resource('HTTPRoute', 'reviews')
  assert.deepEqual(route.spec.rules[0].timeouts, { request: '7s', backendRequest: '2s' })
  assert.deepEqual(route.spec.rules[0].retry, { attempts: 2, backoff: '25ms', codes: [502, 503, 504], onConnectFailure: true })
})

test('the fault form writes only the fault: added, its status changed, removed at 0%', async () => {
  await openConfig()
  await page.getByTestId('form-service').selectOption('ratings')
  assert.equal(await page.getByTestId('fault-abort').inputValue(), '0')
  await page.getByTestId('fault-abort').fill('50')
  await page.getByTestId('apply-fault').click()
  const added = await reviewDiff()
  assert.deepEqual(Object.keys(added), ['added: FaultInjection/default/ratings-fault'])
  await page.getByTestId('confirm-apply').click()
  await page.waitForFunction(() => /Applied: version/.test(document.querySelector('[data-testid=apply-result]')?.textContent ?? ''))
  assert.deepEqual((await resource('FaultInjection', 'ratings-fault')).spec.abort, { httpStatus: 503, percentage: 50 })

  // the form now reads the running fault
  await openConfig()
  await page.getByTestId('form-service').selectOption('ratings')
  assert.equal(await page.getByTestId('fault-abort').inputValue(), '50')
  await page.getByTestId('fault-status').fill('500')
  await page.getByTestId('apply-fault').click()
  assert.deepEqual(await reviewDiff(), { 'changed: FaultInjection/default/ratings-fault': ['-httpStatus: 503', '+httpStatus: 500'] })
  await page.getByTestId('diff').getByRole('button', { name: 'Cancel' }).click()
  await page.getByTestId('fault-abort').fill('0')
  await page.getByTestId('apply-fault').click()
  const removed = await reviewDiff()
  assert.deepEqual(Object.keys(removed), ['removed: FaultInjection/default/ratings-fault'])
  await screenshot(page, 'forms-fault-removed')
})

test('the traffic split starts from the route and keeps its port; mTLS changes one value', async () => {
  await openConfig()
  await page.getByTestId('form-service').selectOption('reviews')
  assert.match(await page.getByTestId('split-now').textContent() ?? '', /every version of reviews/)
  await page.getByTestId('weight-v1').fill('0')
  await page.getByTestId('weight-v2').fill('20')
  await page.getByTestId('weight-v3').fill('80')
  await page.getByTestId('apply-split').click()
  await page.getByTestId('mtls-PERMISSIVE').check()
  const diff = await reviewDiff()
  assert.deepEqual(Object.keys(diff).sort(), ['changed: HTTPRoute/default/reviews', 'changed: MeshConfig/default/mesh'])
  assert.deepEqual(diff['changed: MeshConfig/default/mesh'], ['-mode: STRICT', '+mode: PERMISSIVE'])
  assert.ok(diff['changed: HTTPRoute/default/reviews'].every(l => /name: reviews|weight: \d+|port: 9080|kind: Service/.test(l)), diff['changed: HTTPRoute/default/reviews'].join('\n'))
  await page.getByTestId('confirm-apply').click()
  await page.waitForFunction(() => /Applied: version/.test(document.querySelector('[data-testid=apply-result]')?.textContent ?? ''))
  const route = await resource('HTTPRoute', 'reviews')
  assert.deepEqual(route.spec.rules[0].backendRefs, [{ kind: 'Service', name: 'reviews-v2', port: 9080, weight: 20 }, { kind: 'Service', name: 'reviews-v3', port: 9080, weight: 80 }])
  assert.deepEqual(route.spec.rules[0].timeouts, { request: '7s', backendRequest: '2s' })
})
