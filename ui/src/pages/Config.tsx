import { useEffect, useMemo, useState } from 'react'
import { parseResources } from '../../../src/config/load.ts'
import { ConfigInvalidError, type ConfigProblem } from '../../../src/errors.ts'
import { api, type ApiError } from '../api.ts'
import { type Change, DiffDialog } from '../config/DiffDialog.tsx'
import { Forms } from '../config/Forms.tsx'
import { type EditorTarget, YamlEditor } from '../config/YamlEditor.tsx'

type Validation = { state: 'valid', count: number } | { state: 'empty' } | { state: 'invalid', problems: ConfigProblem[] }

/** Same schemas as the CLI, in the browser: problems with line, column, path and reason while typing. */
function validateLocally (text: string): Validation {
  try {
    const n = parseResources(text, '<editor>').length
    // An empty editor applied with prune would delete every resource: never "valid" (issue 19).
    return n === 0 ? { state: 'empty' } : { state: 'valid', count: n }
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { state: 'invalid', problems: err.problems }
    return { state: 'invalid', problems: [{ file: '<editor>', path: '', reason: (err as Error).message }] }
  }
}

const NO_PROBLEMS: ConfigProblem[] = []
const at = (p: ConfigProblem): string => `${p.line ?? '?'}${p.column !== undefined ? `:${p.column}` : ''}`

export function ConfigPage () {
  const [text, setText] = useState<string>('')
  const [load, setLoad] = useState<'loading' | 'loaded' | 'failed'>('loading')
  const [changes, setChanges] = useState<Change[] | null>(null)
  const [result, setResult] = useState<{ ok: boolean, message: string, problems?: ConfigProblem[] } | null>(null)
  const [busy, setBusy] = useState(false)
  const [target, setTarget] = useState<EditorTarget | null>(null)

  const reload = (): void => {
    setLoad(l => (l === 'loaded' ? l : 'loading'))
    api<{ yaml: string }>('/config').then(c => { setText(c.yaml); setLoad('loaded'); setResult(null) }, (e: Error) => {
      setLoad(l => (l === 'loaded' ? l : 'failed'))
      setResult({ ok: false, message: `Cannot load the running config: ${e.message}` })
    })
  }
  useEffect(reload, [])

  const validation = useMemo(() => validateLocally(text), [text])
  const problems = validation.state === 'invalid' ? validation.problems : NO_PROBLEMS
  const canReview = load === 'loaded' && validation.state === 'valid' && !busy

  const review = async (): Promise<void> => {
    setResult(null)
    try {
      const d = await api<{ changes: Change[] }>('/config/diff', { body: { yaml: text, prune: true } })
      setChanges(d.changes)
    } catch (e) {
      const err = e as ApiError
      setResult({ ok: false, message: `${err.code}: ${err.message}`, problems: err.body?.problems })
    }
  }
  const apply = async (): Promise<void> => {
    setBusy(true)
    try {
      const r = await api<{ version: string }>('/config/apply', { body: { yaml: text, prune: true } })
      setResult({ ok: true, message: `Applied: version ${r.version}. The proxies have it; watch the topology.` })
    } catch (e) {
      const err = e as ApiError
      setResult({ ok: false, message: `Rejected — ${err.code}: ${err.message}. The running config is unchanged.`, problems: err.body?.problems })
    } finally {
      setChanges(null)
      setBusy(false)
    }
  }

  const validity = load === 'loading'
    ? { cls: 'muted', text: 'loading the running config…' }
    : load === 'failed'
      ? { cls: 'error', text: 'not loaded' }
      : validation.state === 'valid'
        ? { cls: 'ok', text: 'valid' }
        : validation.state === 'empty'
          ? { cls: 'error', text: 'empty: a mesh needs at least one resource' }
          : { cls: 'error', text: `${problems.length} problem(s)` }

  return (
    <div className='page config'>
      <section className='editor-col'>
        <div className='toolbar'>
          <button type='button' onClick={reload}>Reload running config</button>
          <button type='button' className='primary' disabled={!canReview} onClick={() => { void review() }} data-testid='review'>Review &amp; apply…</button>
          <span className={validity.cls} data-testid='validity' data-state={load === 'loaded' ? validation.state : load}>{validity.text}</span>
        </div>
        <YamlEditor value={text} onChange={setText} problems={problems} target={target} />
        {problems.length > 0 && (
          <ul className='problems' data-testid='problems'>
            {problems.map((p, i) => (
              <li key={i}>
                {p.line !== undefined ? <button type='button' className='link' onClick={() => setTarget({ line: p.line!, column: p.column })} title='show in the editor'>line {at(p)}</button> : `line ${at(p)}`}
                {p.resource ? ` (${p.resource})` : ''}: <code>{p.path || '<document>'}</code> — {p.reason}
              </li>
            ))}
          </ul>
        )}
        {result !== null && (
          <div className={result.ok ? 'banner ok' : 'banner error'} data-testid='apply-result'>
            {result.message}
            {result.problems && <ul>{result.problems.map((p, i) => <li key={i}>{p.file}:{at(p)} <code>{p.path}</code> — {p.reason}</li>)}</ul>}
          </div>
        )}
        {changes !== null && <DiffDialog changes={changes} busy={busy} onCancel={() => setChanges(null)} onApply={() => { void apply() }} />}
      </section>
      <section className='forms-col'>
        {validation.state === 'invalid' ? <p className='muted'>Fix the YAML to use the forms.</p> : <Forms text={text} onChange={setText} />}
      </section>
    </div>
  )
}
