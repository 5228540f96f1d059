import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { startManagementServer } from '../../src/management/server.ts'
import { launchBrowser, screenshot } from './browser.ts'
import { editorText, waitForEditorText } from './yaml-editor.ts'

const ROOT = join(import.meta.dirname, '..', '..')

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

test('the UI keeps working while the control plane restarts and shows the connection state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-ui-conn-'))
  const port = await freePort()
  const files = [join(ROOT, 'samples', 'bookinfo', 'mesh.yaml')]
  let cp = await startControlPlane({ files, host: '127.0.0.1', port, dataDir: join(dir, 'cp') })
  const server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url, { timeoutMs: 500 }), scrapeTargets: () => [], scrapeIntervalMs: 60_000, uiDir: join(ROOT, 'ui', 'dist') })
  const browser = await launchBrowser()
  t.after(async () => {
    await browser.close()
    await server.close()
    await cp.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const page = await browser.newPage({ viewport: { width: 1300, height: 700 } })
  await page.goto(`${server.openUrl}#/config`)
  const state = page.getByTestId('cp-state')
  await page.waitForFunction(() => document.querySelector('[data-testid=cp-state]')?.getAttribute('data-state') === 'connected', undefined, { timeout: 15_000 })

  // the Config page loads its editor on demand: wait until it shows the running config before the control plane goes
  await waitForEditorText(page, 'kind: Workload')
  await cp.close()
  await page.waitForFunction(() => document.querySelector('[data-testid=cp-state]')?.getAttribute('data-state') === 'disconnected', undefined, { timeout: 15_000 })
  assert.match(await page.getByTestId('connection').textContent() ?? '', /unreachable/)
  await screenshot(page, 'control-plane-down')
  // The UI still answers: the editor still has the last config, other pages still render.
  assert.match(await editorText(page), /kind: Workload/)

  cp = await startControlPlane({ files, host: '127.0.0.1', port, dataDir: join(dir, 'cp') })
  await page.waitForFunction(() => document.querySelector('[data-testid=cp-state]')?.getAttribute('data-state') === 'connected', undefined, { timeout: 15_000 })
  assert.equal(await state.getAttribute('data-state'), 'connected')
  await screenshot(page, 'control-plane-back')
})
