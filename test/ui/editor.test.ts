// Issue 19: the YAML editor on the real Bookinfo config (≈ 400 lines). Real wheel events, key presses and
// typing in Chromium; the assertions are geometry (bounding boxes, scrollTop), screenshots are kept in
// test-artifacts/ui/ for a human to look at.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { screenshot, startPlayground } from './browser.ts'
import { editorText, setEditorText, waitForEditorText } from './yaml-editor.ts'

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
  await waitForEditorText(page, 'kind: Workload')
}

interface Geometry {
  lines: number
  scrollTop: number
  editorScrollTop: number
  scrollerTop: number
  scrollerBottom: number
  editorTop: number
  editorBottom: number
  /** Largest distance between a visible line number and its text line, px. */
  misalignment: number
  /** Visible numbers whose text line is not the document's line of that number. */
  wrongText: number
  visibleNumbers: number
  lastNumber: number
  current: number | null
  caretLine: number
}

/**
 * Where CodeMirror's line numbers are against the text lines: each rendered number n must sit at the
 * height of the rendered text line that holds the document's line n.
 */
function geometry (): Promise<Geometry> {
  return page.evaluate(() => {
    const content = document.querySelector('[data-testid=yaml-editor]') as HTMLElement & { value: string, selectionStart: number }
    const scroller = document.querySelector('.editor .cm-scroller') as HTMLElement
    const editor = document.querySelector('[data-testid=editor]') as HTMLElement
    const doc = content.value.split('\n')
    const s = scroller.getBoundingClientRect()
    const e = editor.getBoundingClientRect()
    const numbers = ([...document.querySelectorAll('.editor .cm-lineNumbers .cm-gutterElement')] as HTMLElement[]).filter(el => el.style.visibility !== 'hidden' && /^\d+$/.test(el.textContent?.trim() ?? ''))
    const lines = [...content.querySelectorAll(':scope > .cm-line')] as HTMLElement[]
    let misalignment = 0
    let wrongText = 0
    let visibleNumbers = 0
    const tops = lines.map(l => l.getBoundingClientRect().top)
    numbers.forEach(el => {
      const r = el.getBoundingClientRect()
      // the text line drawn at this number's height
      let best = -1
      for (let j = 0; j < tops.length; j++) if (best === -1 || Math.abs(tops[j] - r.top) < Math.abs(tops[best] - r.top)) best = j
      const line = lines[best]
      if (line === undefined) return
      const n = Number(el.textContent)
      if ((line.textContent ?? '') !== doc[n - 1]) wrongText++
      if (r.bottom <= s.top || r.top >= s.bottom) return
      visibleNumbers++
      misalignment = Math.max(misalignment, Math.abs(r.top - tops[best]))
    })
    const current = document.querySelector<HTMLElement>('.editor .cm-lineNumbers .cm-activeLineGutter')
    return {
      lines: doc.length,
      scrollTop: scroller.scrollTop,
      editorScrollTop: editor.scrollTop,
      scrollerTop: s.top,
      scrollerBottom: s.bottom,
      editorTop: e.top,
      editorBottom: e.bottom,
      misalignment,
      wrongText,
      visibleNumbers,
      lastNumber: Number(numbers.at(-1)?.textContent ?? 0),
      current: current === null ? null : Number(current.textContent?.trim()),
      caretLine: content.value.slice(0, content.selectionStart).split('\n').length
    }
  })
}

/** Scrolling is asynchronous: wait until the scroller's scrollTop stops changing. */
async function settled (): Promise<Geometry> {
  let last = -1
  for (let i = 0; i < 50; i++) {
    const g = await geometry()
    if (g.scrollTop === last) return g
    last = g.scrollTop
    await page.waitForTimeout(50)
  }
  return await geometry()
}

function assertAligned (g: Geometry, what: string): void {
  assert.ok(g.misalignment < 1, `${what}: numbers off their lines by ${g.misalignment}px`)
  assert.equal(g.wrongText, 0, `${what}: numbers next to another line's text`)
  assert.ok(g.visibleNumbers > 20, `${what}: ${g.visibleNumbers} numbers visible`)
  // the text fills the editor: it did not move away and leave a blank area
  assert.equal(g.editorScrollTop, 0, `${what}: the editor box itself does not scroll`)
  assert.ok(Math.abs(g.scrollerTop - g.editorTop) <= 1 && Math.abs(g.scrollerBottom - g.editorBottom) <= 1, `${what}: text box ${g.scrollerTop}-${g.scrollerBottom} vs editor ${g.editorTop}-${g.editorBottom}`)
}

test('the mouse wheel over the text scrolls text and line numbers together', async () => {
  await openEditor()
  const before = await geometry()
  assert.ok(before.lines > 300, `the whole Bookinfo config is in the editor (${before.lines} lines)`)
  const box = (await page.getByTestId('yaml-editor').boundingBox())!
  await page.mouse.move(box.x + box.width / 2, Math.min(box.y + 300, 700))
  await page.mouse.wheel(0, 800)
  const g = await settled()
  assert.ok(g.scrollTop >= 700, `text scrolled ${g.scrollTop}px`)
  assertAligned(g, 'after the wheel')
  await screenshot(page, 'editor-wheel')
  // all the way down: the last line's number is next to the last line
  await page.mouse.wheel(0, 20_000)
  const end = await settled()
  assertAligned(end, 'at the bottom')
  assert.equal(end.lastNumber, end.lines)
})

test('the mouse wheel over the gutter scrolls the text, not the page', async () => {
  await openEditor()
  const box = (await page.locator('.editor .cm-gutters').boundingBox())!
  const scrollY = await page.evaluate(() => window.scrollY)
  await page.mouse.move(box.x + box.width / 2, box.y + 200)
  await page.mouse.wheel(0, 480)
  const g = await settled()
  assert.ok(g.scrollTop >= 400, `text scrolled ${g.scrollTop}px`)
  assertAligned(g, 'wheel over the gutter')
  assert.equal(await page.evaluate(() => window.scrollY), scrollY)
})

test('after caret moves the numbers still match the lines, and the caret line is marked', async () => {
  await openEditor()
  const editor = page.getByTestId('yaml-editor')
  await editor.click({ position: { x: 60, y: 8 } })
  await page.keyboard.press('Control+End')
  let g = await settled()
  const last = g.lines
  assert.equal(g.caretLine, last)
  assert.ok(g.scrollTop > 4000, 'the text followed the caret to the end')
  assertAligned(g, 'Control+End')
  assert.equal(g.current, last)
  for (let i = 0; i < 3; i++) await page.keyboard.press('PageUp')
  g = await settled()
  assertAligned(g, 'PageUp')
  assert.equal(g.current, g.caretLine)
  await page.keyboard.press('Control+Home')
  g = await settled()
  assert.ok(g.scrollTop < 16, `back at the top (${g.scrollTop})`)
  assertAligned(g, 'Control+Home')
  assert.equal(g.current, 1)
  for (let i = 0; i < 60; i++) await page.keyboard.press('ArrowDown')
  g = await settled()
  assert.equal(g.caretLine, 61)
  assert.equal(g.current, 61)
  assertAligned(g, 'ArrowDown × 60')
  await screenshot(page, 'editor-caret')
})

test('after edits the numbers run to the new last line, still next to their lines', async () => {
  await openEditor()
  const editor = page.getByTestId('yaml-editor')
  await editor.click({ position: { x: 60, y: 8 } })
  const start = (await geometry()).lines
  await page.keyboard.press('Control+Home')
  await page.keyboard.type('# added by the test\n# and another line\n')
  let g = await settled()
  assert.equal(g.lines, start + 2)
  assert.equal(g.current, 3)
  assertAligned(g, 'two lines typed at the top')
  await page.keyboard.press('Control+End')
  await page.keyboard.press('Enter')
  await page.keyboard.type('# at the end')
  g = await settled()
  assert.equal(g.lastNumber, g.lines)
  assert.equal(g.current, g.lines)
  assertAligned(g, 'a line typed at the end')
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  g = await settled()
  assert.equal(g.lastNumber, 1)
  assert.equal(g.current, 1)
})

test('completion offers the schema keys of the mapping at the caret, and hover shows their docs', async () => {
  await openEditor()
  const text = await editorText(page)
  // a new rule key under the reviews route (block style, as the running config is written)
  const at = text.indexOf('backendRequest:', text.indexOf('kind: HTTPRoute\nmetadata:\n  name: reviews'))
  assert.ok(at > 0)
  const lineEnd = text.indexOf('\n', at)
  const indent = at - (text.lastIndexOf('\n', at) + 1)
  // a half-typed key at the rule's level, under the rule's timeouts
  await setEditorText(page, `${text.slice(0, lineEnd)}\n${' '.repeat(indent - 2)}retr${text.slice(lineEnd)}`)
  await gotoLineEnd(text.slice(0, at).split('\n').length + 1)
  await page.keyboard.press('Control+Space')
  await page.locator('.cm-tooltip-autocomplete').waitFor()
  const labels = await page.locator('.cm-tooltip-autocomplete li .cm-completionLabel').allTextContents()
  assert.ok(labels.includes('retry'), `completion: ${labels.join(', ')}`)
  await screenshot(page, 'editor-completion')
  await page.keyboard.press('Escape')
  // hover over a key: its path, type and whether it is required, from the zod schema
  await page.keyboard.press('Control+Home')
  const kind = page.locator('.cm-line').first()
  const kb = (await kind.boundingBox())!
  await page.mouse.move(kb.x + 12, kb.y + kb.height / 2)
  const hover = page.getByTestId('schema-hover')
  await hover.waitFor()
  assert.match(await hover.textContent() ?? '', /^\w+: apiVersion\n.* — required/)
  await screenshot(page, 'editor-hover')
})

async function gotoLineEnd (line: number): Promise<void> {
  await page.getByTestId('yaml-editor').click({ position: { x: 60, y: 8 } })
  await page.keyboard.press('Control+Home')
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown')
  await page.keyboard.press('End')
}

for (const viewport of [{ width: 1440, height: 900 }, { width: 1280, height: 720 }]) {
  test(`Apply is visible and clickable in a long diff at ${viewport.width}×${viewport.height}`, async () => {
    await page.setViewportSize(viewport)
    await openEditor()
    const text = await editorText(page)
    await setEditorText(page, text.replace(/replicas: 1/g, 'replicas: 2').replace(/weight: 1$/gm, 'weight: 3').replace(/ttl: 10s/g, 'ttl: 20s'))
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
