import { useEffect, useLayoutEffect, useRef, useState } from 'react'

/** 1-based line of an offset in the text. */
export function lineAt (text: string, offset: number): number {
  let n = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++
  return n
}

function countLines (text: string): number {
  return lineAt(text, text.length)
}

/**
 * A line-numbered YAML textarea. The textarea is the only scroller: the gutter has no scrollbar and
 * takes the textarea's `scrollTop` after every scroll, edit and caret move, so the numbers always sit
 * next to their lines (issue 19: the gutter scrolled alone and left a blank area). Lines never wrap, so
 * one number is one text line. A wheel over the gutter scrolls the text.
 *
 * (The playground issue replaces this with CodeMirror 6.)
 */
export function YamlEditor ({ value, onChange, badLines }: { value: string, onChange: (text: string) => void, badLines: ReadonlySet<number> }) {
  const area = useRef<HTMLTextAreaElement>(null)
  const gutter = useRef<HTMLDivElement>(null)
  const [caretLine, setCaretLine] = useState(1)
  const lines = countLines(value)

  const follow = (): void => {
    const ta = area.current
    if (ta !== null && gutter.current !== null) gutter.current.scrollTop = ta.scrollTop
  }
  const trackCaret = (): void => {
    const ta = area.current
    if (ta !== null) setCaretLine(lineAt(ta.value, ta.selectionStart))
    follow()
  }
  // An edit or a reload can move the text (the browser scrolls to the caret): follow after each render.
  useLayoutEffect(follow)
  useEffect(() => {
    const g = gutter.current
    if (g === null) return
    // Not React's onWheel: that listener is passive, and the page behind would scroll too.
    const onWheel = (e: WheelEvent): void => {
      const ta = area.current
      if (ta === null) return
      e.preventDefault()
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? ta.clientHeight : 1
      ta.scrollTop += e.deltaY * unit
      ta.scrollLeft += e.deltaX * unit
    }
    g.addEventListener('wheel', onWheel, { passive: false })
    // Caret moves by keyboard or mouse (no React event covers all of them).
    document.addEventListener('selectionchange', trackCaret)
    return () => {
      g.removeEventListener('wheel', onWheel)
      document.removeEventListener('selectionchange', trackCaret)
    }
  }, [])

  return (
    <div className='editor' data-testid='editor'>
      <div className='gutter' ref={gutter} aria-hidden='true' data-testid='gutter'>
        {Array.from({ length: lines }, (_, i) => {
          const n = i + 1
          const cls = `${badLines.has(n) ? 'bad-line' : ''}${n === caretLine ? ' current' : ''}`.trim()
          return <div key={n} className={cls} data-line={n}>{n}</div>
        })}
      </div>
      <textarea
        ref={area}
        wrap='off'
        spellCheck={false}
        value={value}
        onChange={e => { onChange(e.target.value); trackCaret() }}
        onScroll={follow}
        onSelect={trackCaret}
        onKeyUp={trackCaret}
        onClick={trackCaret}
        data-testid='yaml-editor'
        aria-label='mesh config YAML'
      />
    </div>
  )
}
