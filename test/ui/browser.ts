import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Where UI tests keep their screenshots (CI artifacts). */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'ui')

/**
 * Debian's Chromium driven by playwright-core. The flags keep it off the network: this machine has
 * none, and background services would otherwise retry connections at every start.
 */
export async function launchBrowser (): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true })
  return await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']
  })
}

/**
 * Opens the UI's launch URL (`…/?token=…`) in `page`: the server sets the session cookie and redirects
 * to the same URL without the token. Later `page.goto(url)` calls in that browser context are logged in.
 */
export async function login (page: Page, openUrl: string): Promise<void> {
  await page.goto(openUrl)
  if (page.url().includes('token=')) throw new Error(`the UI kept the token in its URL: ${page.url()}`)
}

export async function screenshot (page: Page, name: string): Promise<string> {
  const file = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}

/**
 * A control plane on the Bookinfo mesh file, the management server in front of it (no proxies to
 * scrape) and a Chromium page: what the UI tests that need no running mesh share. `close()` stops all.
 */
export async function startPlayground (viewport = { width: 1400, height: 900 }): Promise<{ cpUrl: string, url: string, openUrl: string, token: string, httpServer: import('node:http').Server, refusals: () => Record<string, number>, page: Page, dataDir: string, close (): Promise<void> }> {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { startControlPlane } = await import('../../src/controlplane/index.ts')
  const { ControlPlaneBackend } = await import('../../src/management/control-plane-backend.ts')
  const { startManagementServer } = await import('../../src/management/server.ts')
  const root = join(import.meta.dirname, '..', '..')
  const dir = mkdtempSync(join(tmpdir(), 'mw-ui-'))
  const cp = await startControlPlane({ files: [join(root, 'samples', 'bookinfo', 'mesh.yaml')], host: '127.0.0.1', port: 0, dataDir: join(dir, 'cp') })
  const server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url), scrapeTargets: () => [], scrapeIntervalMs: 60_000, uiDir: join(root, 'ui', 'dist') })
  const browser = await launchBrowser()
  const context = await browser.newContext({ viewport, acceptDownloads: true })
  const page = await context.newPage()
  // Log the browser context in as a user would: open the printed URL, whose token becomes a cookie.
  await login(page, server.openUrl)
  return {
    cpUrl: cp.url,
    /** The base URL: the page's context already has the session cookie. */
    url: server.url,
    openUrl: server.openUrl,
    /** The launch token, for `authorization: Bearer` from the test itself. */
    token: server.token,
    /** The management server's socket server (tests watch what it answered). */
    httpServer: server.app.server,
    refusals: () => server.refusals(),
    page,
    /** The management server's data dir (bench.db). */
    dataDir: join(dir, 'mgmt'),
    async close () {
      await browser.close()
      await server.close()
      await cp.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
