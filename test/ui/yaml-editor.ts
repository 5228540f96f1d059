import type { Page } from 'playwright-core'

/**
 * The Config page's YAML editor (CodeMirror 6) seen from a test: its text through the editable element's
 * `value` hook (ui/src/config/cm/editor.ts), and typing a whole new text the way a user replaces it
 * (select all, then insert), so CodeMirror sees real input events.
 */
export async function editorText (page: Page): Promise<string> {
  return await page.evaluate(() => String((document.querySelector('[data-testid=yaml-editor]') as unknown as { value: string }).value))
}

export async function waitForEditorText (page: Page, includes: string): Promise<void> {
  await page.waitForFunction((s) => String((document.querySelector('[data-testid=yaml-editor]') as unknown as { value?: string } | null)?.value ?? '').includes(s), includes)
}

export async function setEditorText (page: Page, text: string): Promise<void> {
  const editor = page.getByTestId('yaml-editor')
  await editor.click()
  await page.keyboard.press('Control+A')
  if (text === '') await page.keyboard.press('Delete')
  else await page.keyboard.insertText(text)
  await page.waitForFunction((t) => (document.querySelector('[data-testid=yaml-editor]') as unknown as { value: string }).value === t, text)
}
