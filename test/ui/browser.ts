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

export async function screenshot (page: Page, name: string): Promise<string> {
  const file = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  return file
}
