import { useEffect, useRef, useState } from 'react'
import type { ConfigProblem } from '../../../src/errors.ts'
import type { EditorHandle } from './cm/editor.ts'

/**
 * The YAML editor of the Config page: CodeMirror 6 (cm/editor.ts), loaded as a separate chunk on first
 * use so the other pages do not pay for it. The box keeps its size while the chunk loads (no layout
 * shift); the text is shown read-only until then.
 */
export interface EditorTarget { line: number, column?: number }

export function YamlEditor ({ value, onChange, problems, target }: { value: string, onChange: (text: string) => void, problems: readonly ConfigProblem[], target?: EditorTarget | null }) {
  const host = useRef<HTMLDivElement>(null)
  const editor = useRef<EditorHandle | null>(null)
  const change = useRef(onChange)
  change.current = onChange
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading')
  const latest = useRef({ value, problems })
  latest.current = { value, problems }

  useEffect(() => {
    let alive = true
    import('./cm/editor.ts').then(m => {
      if (!alive || host.current === null) return
      editor.current = m.createEditor(host.current, { doc: latest.current.value, onChange: t => change.current(t) })
      editor.current.setProblems(latest.current.problems)
      setState('ready')
    }, () => { if (alive) setState('failed') })
    return () => { alive = false; editor.current?.destroy(); editor.current = null }
  }, [])
  useEffect(() => { editor.current?.setDoc(value) }, [value, state])
  useEffect(() => { editor.current?.setProblems(problems) }, [problems, state])
  // a new target object (a click on a problem) moves the caret there
  useEffect(() => { if (target != null) editor.current?.goTo(target.line, target.column) }, [target, state])

  return (
    <div className='editor cm-host' data-testid='editor' data-state={state} ref={host}>
      {state !== 'ready' && <pre className='editor-fallback' aria-busy={state === 'loading'}>{state === 'failed' ? 'The editor failed to load: reload the page.' : value}</pre>}
    </div>
  )
}
