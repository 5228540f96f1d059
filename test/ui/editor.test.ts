// Issue 19: the YAML editor on the real Bookinfo config (≈ 400 lines). Real wheel events, key presses and
// typing in Chromium; the assertions are geometry (bounding boxes, scrollTop), screenshots are kept in
// test-artifacts/ui/ for a human to look at.
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

async function openEditor (): Promise<void> {
  await page.goto('about:blank') // a fresh page: the same URL with a hash would not reload
  await page.goto(`${playground.url}/#/config`)
  await page.waitForFunction(() => (document.querySelector('[data-testid=yaml-editor]') as HTMLTextAreaElement)?.value.includes('kind: Workload'))
}

interface Geometry {
  lines: number
  gutterLines: number
  textScrollTop: number
  gutterScrollTop: number
  editorScrollTop: number
  textTop: number
  textBottom: number
  editorTop: number
  editorBottom: number
  /** Largest distance between a visible line number and the text line it stands for, px. */
  misalignment: number
  visibleNumbers: number
  current: number | null
  caretLine: number
}

/**
 * Where the gutter's numbers are against the text lines. A textarea lays out line n (no wrapping) at
 * its top + padding-top + (n - 1) × line-height − scrollTop; each visible number must sit there.
 */
function geometry (): Promise<Geometry> {
  return page.evaluate(() => {
    const ta = document.querySelector('[data-testid=yaml-editor]') as HTMLTextAreaElement
    // (class names as fallbacks, so the test also measures the editor this one replaced)
    const gutter = (document.querySelector('[data-testid=gutter]') ?? document.querySelector('.editor .gutter')) as HTMLElement
    const editor = (document.querySelector('[data-testid=editor]') ?? document.querySelector('.editor')) as HTMLElement
    const t = ta.getBoundingClientRect()
    const e = editor.getBoundingClientRect()
    const style = getComputedStyle(ta)
    const lineHeight = Number.parseFloat(style.lineHeight)
    const padTop = Number.parseFloat(style.paddingTop)
    let misalignment = 0
    let visibleNumbers = 0
    const numbers = [...gutter.children] as HTMLElement[]
    for (const el of numbers) {
      const r = el.getBoundingClientRect()
      if (r.bottom <= t.top || r.top >= t.top + ta.clientHeight) continue
      visibleNumbers++
      const n = Number(el.textContent?.trim())
      const textLineTop = t.top + ta.clientTop + padTop + (n - 1) * lineHeight - ta.scrollTop
      misalignment = Math.max(misalignment, Math.abs(r.top - textLineTop))
    }
    const current = gutter.querySelector<HTMLElement>('.current')
    return {
      lines: ta.value.split('\n').length,
      gutterLines: numbers.length,
      textScrollTop: ta.scrollTop,
      gutterScrollTop: gutter.scrollTop,
      editorScrollTop: editor.scrollTop,
      textTop: t.top,
      textBottom: t.bottom,
      editorTop: e.top,
      editorBottom: e.bottom,
      misalignment,
      visibleNumbers,
      current: current === null ? null : Number(current.textContent?.trim()),
      caretLine: ta.value.slice(0, ta.selectionStart).split('\n').length
    }
  })
}

/** Scrolling is asynchronous: wait until the text's scrollTop stops changing. */
async function settled (): Promise<Geometry> {
  let last = -1
  for (let i = 0; i < 50; i++) {
    const g = await geometry()
    if (g.textScrollTop === last) return g
    last = g.textScrollTop
    await page.waitForTimeout(50)
  }
  return await geometry()
}

function assertAligned (g: Geometry, what: string): void {
  assert.equal(g.gutterScrollTop, g.textScrollTop, `${what}: gutter and text scrollTop`)
  assert.ok(g.misalignment < 1, `${what}: numbers off their lines by ${g.misalignment}px`)
  assert.ok(g.visibleNumbers > 20, `${what}: ${g.visibleNumbers} numbers visible`)
  // the text fills the editor: it did not move away and leave a blank area
  assert.equal(g.editorScrollTop, 0, `${what}: the editor box itself does not scroll`)
  assert.ok(Math.abs(g.textTop - g.editorTop) <= 1 && Math.abs(g.textBottom - g.editorBottom) <= 1, `${what}: text box ${g.textTop}-${g.textBottom} vs editor ${g.editorTop}-${g.editorBottom}`)
}

test('the mouse wheel over the text scrolls text and line numbers together', async () => {
  await openEditor()
  const before = await geometry()
  assert.ok(before.lines > 300, `the whole Bookinfo config is in the editor (${before.lines} lines)`)
  assert.equal(before.gutterLines, before.lines)
  const box = (await page.getByTestId('yaml-editor').boundingBox())!
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await page.mouse.wheel(0, 800)
  const g = await settled()
  assert.ok(g.textScrollTop >= 700, `text scrolled ${g.textScrollTop}px`)
  assertAligned(g, 'after the wheel')
  await screenshot(page, 'editor-wheel')
  // all the way down: the last line's number is next to the last line
  await page.mouse.wheel(0, 20_000)
  const end = await settled()
  assertAligned(end, 'at the bottom')
})

test('the mouse wheel over the gutter scrolls the text, not the page', async () => {
  await openEditor()
  const box = (await page.locator('.editor .gutter').boundingBox())!
  const scrollY = await page.evaluate(() => window.scrollY)
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await page.mouse.wheel(0, 480)
  const g = await settled()
  assert.ok(g.textScrollTop >= 400, `text scrolled ${g.textScrollTop}px`)
  assertAligned(g, 'wheel over the gutter')
  assert.equal(await page.evaluate(() => window.scrollY), scrollY)
})

test('after caret moves the numbers still match the lines, and the caret line is marked', async () => {
  await openEditor()
  const editor = page.getByTestId('yaml-editor')
  await editor.click({ position: { x: 60, y: 20 } })
  await page.keyboard.press('Control+End')
  let g = await settled()
  const last = g.lines
  assert.equal(g.caretLine, last)
  assert.ok(g.textScrollTop > 4000, 'the text followed the caret to the end')
  assertAligned(g, 'Control+End')
  assert.equal(g.current, last)
  for (let i = 0; i < 3; i++) await page.keyboard.press('PageUp')
  g = await settled()
  assertAligned(g, 'PageUp')
  assert.equal(g.current, g.caretLine)
  await page.keyboard.press('Control+Home')
  g = await settled()
  assert.ok(g.textScrollTop < 16, `back at the top (${g.textScrollTop})`)
  assertAligned(g, 'Control+Home')
  assert.equal(g.current, 1)
  for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowDown')
  g = await settled()
  assert.equal(g.caretLine, 61)
  assert.equal(g.current, 61)
  assertAligned(g, 'ArrowDown × 60')
  await screenshot(page, 'editor-caret')
})

test('after edits the gutter has one number per line, still next to its line', async () => {
  await openEditor()
  const editor = page.getByTestId('yaml-editor')
  await editor.click({ position: { x: 60, y: 20 } })
  const start = (await geometry()).lines
  await page.keyboard.press('Control+Home')
  await page.keyboard.type('# added by the test\n# and another line\n')
  let g = await settled()
  assert.equal(g.lines, start + 2)
  assert.equal(g.gutterLines, start + 2)
  assert.equal(g.current, 3)
  assertAligned(g, 'two lines typed at the top')
  await page.keyboard.press('Control+End')
  await page.keyboard.press('Enter')
  await page.keyboard.type('# at the end')
  g = await settled()
  assert.equal(g.gutterLines, g.lines)
  assert.equal(g.current, g.lines)
  assertAligned(g, 'a line typed at the end')
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  g = await settled()
  assert.equal(g.gutterLines, 1)
  assert.equal(g.current, 1)
})

for (const viewport of [{ width: 1440, height: 900 }, { width: 1280, height: 720 }]) {
  test(`Apply is visible and clickable in a long diff at ${viewport.width}×${viewport.height}`, async () => {
    await page.setViewportSize(viewport)
    await openEditor()
    const editor = page.getByTestId('yaml-editor')
    const text = await editor.inputValue()
    await editor.fill(text.replace(/replicas: 1/g, 'replicas: 2').replace(/weight: 1$/gm, 'weight: 3').replace(/ttl: 10s/g, 'ttl: 20s'))
    await page.getByTestId('review').click()
    await page.getByTestId('diff').waitFor()
    const body = await page.evaluate(() => {
      const el = (document.querySelector('[data-testid=diff-body]') ?? document.querySelector('[data-testid=diff]')) as HTMLElement
      return { scroll: el.scrollHeight, client: el.clientHeight }
    })
    assert.ok(body.scroll > body.client * 1.5, `the diff is longer than the dialog (${body.scroll} > ${body.client})`)
    const apply = (await page.getByTestId('confirm-apply').boundingBox())!
    assert.ok(apply.y >= 0 && apply.y + apply.height <= viewport.height, `Apply at y ${apply.y}..${apply.y + apply.height} of ${viewport.height}`)
    assert.ok(apply.x >= 0 && apply.x + apply.width <= viewport.width)
    // nothing covers it: the element at its centre is the button itself
    const hit = await page.evaluate(({ x, y }) => (document.elementFromPoint(x, y) as HTMLElement | null)?.dataset.testid ?? null, { x: apply.x + apply.width / 2, y: apply.y + apply.height / 2 })
    assert.equal(hit, 'confirm-apply')
    await screenshot(page, `editor-diff-${viewport.width}x${viewport.height}`)
    await page.getByTestId('diff').getByRole('button', { name: 'Cancel' }).click()
    await page.getByTestId('diff').waitFor({ state: 'detached' })
  })
}
