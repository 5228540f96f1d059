import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { screenshot, startPlayground } from './browser.ts'
import { editorText, setEditorText, waitForEditorText } from './yaml-editor.ts'

let playground: Awaited<ReturnType<typeof startPlayground>>
let page: Page
const server = { get url (): string { return playground.url } }
const cp = { get url (): string { return playground.cpUrl } }

before(async () => {
  playground = await startPlayground()
  page = playground.page
})
after(async () => { await playground?.close() })

test('the editor validates inline with the CLI schema and names the line', async () => {
  await page.goto(`${server.url}/#/config`)
  const editor = page.getByTestId('yaml-editor')
  await editor.waitFor()
  await waitForEditorText(page, 'kind: Workload')
  assert.equal(await page.getByTestId('validity').textContent(), 'valid')
  const text = await editorText(page)
  await setEditorText(page, text.replace(/replicas: 1/, 'replicas: -1'))
  await page.getByTestId('problems').waitFor()
  const problems = await page.getByTestId('problems').textContent()
  assert.match(problems ?? '', /spec\.replicas/)
  assert.match(problems ?? '', /line \d+/)
  await screenshot(page, 'config-invalid-inline')
  assert.equal(await page.getByTestId('review').isDisabled(), true)
  await setEditorText(page, text)
})

test('the traffic-shift form writes a route, the diff shows it, and Apply pushes it', async () => {
  await page.goto(`${server.url}/#/config`)
  await waitForEditorText(page, 'kind: Workload')
  await page.getByTestId('form-service').selectOption('reviews')
  await page.getByTestId('weight-v1').fill('0')
  await page.getByTestId('weight-v2').fill('0')
  await page.getByTestId('weight-v3').fill('100')
  await page.getByTestId('apply-split').click()
  assert.match(await editorText(page), /name: reviews-v3\s+port: 9080\s+weight: 100/)
  await page.getByTestId('review').click()
  await page.getByTestId('diff').waitFor()
  assert.match(await page.getByTestId('diff').textContent() ?? '', /HTTPRoute\/default\/reviews/)
  await screenshot(page, 'config-diff')
  await page.getByTestId('confirm-apply').click()
  await page.getByTestId('apply-result').waitFor()
  assert.match(await page.getByTestId('apply-result').textContent() ?? '', /Applied: version/)
  const resources = await fetch(`${cp.url}/v1/resources`).then(r => r.json()) as any[]
  const route = resources.find(r => r.kind === 'HTTPRoute' && r.metadata.name === 'reviews')
  assert.deepEqual(route.spec.rules.at(-1).backendRefs.map((b: any) => [b.name, b.weight]), [['reviews-v3', 100]])
  await screenshot(page, 'config-applied')
})

test('a config the control plane rejects shows the reason and the running config stays', async () => {
  await page.goto(`${server.url}/#/config`)
  await waitForEditorText(page, 'kind: Workload')
  const before = await fetch(`${cp.url}/v1/resources`).then(r => r.text())
  const text = await editorText(page)
  await setEditorText(page, `${text}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: to-nowhere }\nspec:\n  parentRefs: [{ kind: Service, name: ratings }]\n  rules:\n    - backendRefs: [{ name: nowhere-v1 }]\n`)
  await page.getByTestId('review').click()
  await page.getByTestId('confirm-apply').click()
  await page.getByTestId('apply-result').waitFor()
  const msg = await page.getByTestId('apply-result').textContent() ?? ''
  assert.match(msg, /Rejected — MESH_ERR_CONFIG_/)
  assert.match(msg, /running config is unchanged/)
  await screenshot(page, 'config-rejected')
  assert.equal(await fetch(`${cp.url}/v1/resources`).then(r => r.text()), before)
})
