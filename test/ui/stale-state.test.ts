// Issue 19: the UI does not claim what it cannot know. An empty editor is not "valid"; a YAML syntax
// error is shown at its own line and column; when the management server is gone the header says so
// within seconds (and no longer says "control plane connected") and the graph is marked stale.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { type ControlPlane, startControlPlane } from '../../src/controlplane/index.ts'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { type ManagementServer, startManagementServer } from '../../src/management/server.ts'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { cleanEnv } from '../cli/cli.ts'
import { launchBrowser, login, screenshot } from './browser.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'mw-ui-stale-'))
let cp: ControlPlane
let server: ManagementServer | null = null
let browser: Browser
let page: Page

before(async () => {
  cp = await startControlPlane({ files: [join(ROOT, 'samples', 'bookinfo', 'mesh.yaml')], host: '127.0.0.1', port: 0, dataDir: join(dir, 'cp') })
  server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url, { timeoutMs: 500 }), scrapeTargets: () => [], scrapeIntervalMs: 60_000, uiDir: join(ROOT, 'ui', 'dist') })
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  await login(page, server.openUrl)
})
after(async () => {
  await browser?.close()
  await server?.close()
  await cp?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function openConfig (): Promise<void> {
  await page.goto('about:blank')
  await page.goto(`${server!.url}/#/config`)
  await page.waitForFunction(() => (document.querySelector('[data-testid=yaml-editor]') as HTMLTextAreaElement)?.value.includes('kind: Workload'))
}

test('an empty editor is not valid and cannot be reviewed (it would delete every resource)', async () => {
  await openConfig()
  assert.equal(await page.getByTestId('validity').textContent(), 'valid')
  await page.getByTestId('yaml-editor').fill('')
  await page.waitForFunction(() => document.querySelector('[data-testid=validity]')?.textContent !== 'valid')
  assert.match(await page.getByTestId('validity').textContent() ?? '', /empty/)
  assert.equal(await page.getByTestId('review').isDisabled(), true)
  await page.getByTestId('yaml-editor').fill('# only a comment\n---\n')
  assert.match(await page.getByTestId('validity').textContent() ?? '', /empty/)
  assert.equal(await page.getByTestId('review').isDisabled(), true)
  await screenshot(page, 'stale-empty-editor')
})

test('a YAML syntax error is shown at its own line and column, and that line is marked in the gutter', async () => {
  await openConfig()
  const editor = page.getByTestId('yaml-editor')
  const text = await editor.inputValue()
  const lines = text.split('\n')
  // a flow map opened well inside the config and never closed: reported where it was opened
  const at = lines.lastIndexOf('  name: reviews-v3')
  assert.ok(at > 100, `a line deep in the config (${at + 1})`)
  lines[at] = '  name: { reviews-v3'
  await editor.fill(lines.join('\n'))
  await page.getByTestId('problems').waitFor()
  const problems = await page.getByTestId('problems').textContent() ?? ''
  const m = /line (\d+):(\d+): <document> — YAML syntax/.exec(problems)
  assert.ok(m !== null, problems)
  const line = Number(m[1])
  assert.deepEqual([line, Number(m[2])], [at + 1, 9], `reported at ${line}:${m[2]}, the { is at ${at + 1}:9`)
  const marked = await page.evaluate(() => [...document.querySelectorAll('.editor .gutter .bad-line')].map(e => Number(e.textContent?.trim())))
  assert.deepEqual(marked, [line])
  await screenshot(page, 'stale-yaml-syntax-line')
})

test('with the management server gone, the header says disconnected within seconds and the graph is stale', async t => {
  await page.goto('about:blank')
  await page.goto(`${server!.url}/#/topology`)
  await page.getByTestId('topology').waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid=cp-state]')?.getAttribute('data-state') === 'connected')
  assert.equal(await page.locator('[data-stale=true]').count(), 0)

  await server!.close()
  server = null
  const gone = Date.now()
  // it no longer claims the control plane is connected, and says why
  await page.waitForFunction(() => document.querySelector('[data-testid=cp-state]')?.getAttribute('data-state') !== 'connected', undefined, { timeout: 6000 })
  await page.waitForFunction(() => document.querySelector('[data-testid=server-state]')?.getAttribute('data-state') === 'disconnected', undefined, { timeout: 6000 })
  const seconds = (Date.now() - gone) / 1000
  assert.ok(seconds < 6, `said disconnected after ${seconds} s`)
  t.diagnostic(`the header said disconnected ${seconds.toFixed(2)} s after the server closed`)
  const header = await page.getByTestId('connection').textContent() ?? ''
  assert.match(header, /management server disconnected/)
  assert.doesNotMatch(header, /control plane connected/)
  assert.notEqual(await page.getByTestId('cp-state').getAttribute('data-state'), 'connected')
  await page.waitForFunction(() => document.querySelector('[data-testid=graph-wrap]')?.getAttribute('data-stale') === 'true', undefined, { timeout: 6000 })
  assert.match(await page.getByTestId('stale-banner').textContent() ?? '', /Stale: the management server is unreachable; the graph shows data from/)
  // the last numbers are still there, marked, not removed
  assert.ok(await page.locator('[data-node=reviews]').count() === 1)
  await screenshot(page, 'stale-server-gone')
})

test('a management server that hangs (SIGSTOP) is reported disconnected too, and live again when it resumes', async t => {
  const { command, args } = meshworkCommand(['server', '--port', '0', '--control-plane', cp.url, '--data-dir', join(dir, 'hung')])
  const child = spawn(command, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', c => { out += c })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`meshwork server did not start: ${out}`)), 60_000)
    child.stdout!.on('data', () => {
      const m = /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(m[1]) }
    })
  })
  await page.goto('about:blank')
  await page.goto(`${url}#/topology`)
  await page.waitForFunction(() => document.querySelector('[data-testid=server-state]')?.getAttribute('data-state') === 'live', undefined, { timeout: 15_000 })
  child.kill('SIGSTOP')
  const stopped = Date.now()
  await page.waitForFunction(() => document.querySelector('[data-testid=server-state]')?.getAttribute('data-state') === 'disconnected', undefined, { timeout: 8000 })
  const seconds = (Date.now() - stopped) / 1000
  t.diagnostic(`a hung server was reported disconnected after ${seconds.toFixed(2)} s`)
  assert.notEqual(await page.getByTestId('cp-state').getAttribute('data-state'), 'connected')
  await page.waitForFunction(() => document.querySelector('[data-testid=graph-wrap]')?.getAttribute('data-stale') === 'true', undefined, { timeout: 8000 })
  child.kill('SIGCONT')
  await page.waitForFunction(() => document.querySelector('[data-testid=server-state]')?.getAttribute('data-state') === 'live', undefined, { timeout: 15_000 })
  await page.waitForFunction(() => document.querySelector('[data-testid=graph-wrap]')?.getAttribute('data-stale') === 'false', undefined, { timeout: 8000 })
  child.kill('SIGTERM')
  await new Promise(resolve => child.once('exit', resolve))
})
