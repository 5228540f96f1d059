import { useEffect, useMemo, useState } from 'react'
import { parseResources } from '../../../src/config/load.ts'
import { ConfigInvalidError, type ConfigProblem } from '../../../src/errors.ts'
import { api, type ApiError } from '../api.ts'
import { docsOf, mtlsOf, servicesOf, setFault, setMtls, setTimeoutRetries, setTrafficSplit, textOf } from '../intents.ts'

/** Same schemas as the CLI, in the browser: problems with line, path and reason while typing. */
function validateLocally (text: string): ConfigProblem[] {
  try {
    parseResources(text, '<editor>')
    return []
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.problems
    return [{ file: '<editor>', path: '', reason: (err as Error).message }]
  }
}

interface Change { key: string, change: string, diff: Array<{ op: string, line: string }> }

export function ConfigPage () {
  const [text, setText] = useState<string>('')
  const [loaded, setLoaded] = useState(false)
  const [changes, setChanges] = useState<Change[] | null>(null)
  const [result, setResult] = useState<{ ok: boolean, message: string, problems?: ConfigProblem[] } | null>(null)
  const [busy, setBusy] = useState(false)

  const reload = (): void => {
    api<{ yaml: string }>('/config').then(c => { setText(c.yaml); setLoaded(true) }, (e: Error) => setResult({ ok: false, message: `Cannot load the running config: ${e.message}` }))
  }
  useEffect(reload, [])

  const problems = useMemo(() => validateLocally(text), [text])
  const badLines = new Set(problems.map(p => p.line).filter((l): l is number => l !== undefined))
  const docs = useMemo(() => { try { return problems.length === 0 ? docsOf(text) : null } catch { return null } }, [text, problems])
  const lineCount = text.split('\n').length

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
      setChanges(null)
    } catch (e) {
      const err = e as ApiError
      setResult({ ok: false, message: `Rejected — ${err.code}: ${err.message}. The running config is unchanged.`, problems: err.body?.problems })
      setChanges(null)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className='page config'>
      <section className='editor-col'>
        <div className='toolbar'>
          <button type='button' onClick={reload}>Reload running config</button>
          <button type='button' className='primary' disabled={!loaded || problems.length > 0 || busy} onClick={() => { void review() }} data-testid='review'>Review &amp; apply…</button>
          <span className={problems.length === 0 ? 'ok' : 'error'} data-testid='validity'>{problems.length === 0 ? 'valid' : `${problems.length} problem(s)`}</span>
        </div>
        <div className='editor'>
          <pre className='gutter' aria-hidden='true'>{Array.from({ length: lineCount }, (_, i) => <span key={i} className={badLines.has(i + 1) ? 'bad-line' : ''}>{i + 1}{'\n'}</span>)}</pre>
          <textarea spellCheck={false} value={text} onChange={e => setText(e.target.value)} data-testid='yaml-editor' aria-label='mesh config YAML' />
        </div>
        {problems.length > 0 && (
          <ul className='problems' data-testid='problems'>
            {problems.map((p, i) => <li key={i}>line {p.line ?? '?'}{p.resource ? ` (${p.resource})` : ''}: <code>{p.path || '<document>'}</code> — {p.reason}</li>)}
          </ul>
        )}
        {result !== null && (
          <div className={result.ok ? 'banner ok' : 'banner error'} data-testid='apply-result'>
            {result.message}
            {result.problems && <ul>{result.problems.map((p, i) => <li key={i}>{p.file}:{p.line ?? '?'} <code>{p.path}</code> — {p.reason}</li>)}</ul>}
          </div>
        )}
        {changes !== null && (
          <div className='modal' role='dialog' data-testid='diff'>
            <h3>{changes.length === 0 ? 'No changes' : `${changes.length} resource(s) change`}</h3>
            {changes.map(c => (
              <div key={c.key} className='diff'>
                <div className='diff-head'>{c.change}: {c.key}</div>
                <pre>{c.diff.map((l, i) => <div key={i} className={l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>{l.op} {l.line}</div>)}</pre>
              </div>
            ))}
            <div className='toolbar'>
              <button type='button' onClick={() => setChanges(null)}>Cancel</button>
              <button type='button' className='primary' disabled={busy || changes.length === 0} onClick={() => { void apply() }} data-testid='confirm-apply'>Apply</button>
            </div>
          </div>
        )}
      </section>
      <section className='forms-col'>
        {docs === null ? <p className='muted'>Fix the YAML to use the forms.</p> : <Forms docs={docs} onChange={d => setText(textOf(d))} />}
      </section>
    </div>
  )
}

function Forms ({ docs, onChange }: { docs: any[], onChange: (docs: any[]) => void }) {
  const services = servicesOf(docs)
  const names = [...services.keys()]
  const [service, setService] = useState(names.includes('reviews') ? 'reviews' : names[0] ?? '')
  const versions = services.get(service) ?? []
  const [weights, setWeights] = useState<Record<string, number>>({})
  const [timeout, setTimeoutValue] = useState('2s')
  const [perTry, setPerTry] = useState('500ms')
  const [attempts, setAttempts] = useState(2)
  const [abort, setAbort] = useState(0)
  const [status, setStatus] = useState(503)
  const [delayPct, setDelayPct] = useState(0)
  const [delay, setDelay] = useState('1s')
  const w = (v: string): number => weights[v] ?? Math.round(100 / Math.max(1, versions.length))
  return (
    <div className='forms'>
      <label>Service <select value={service} onChange={e => { setService(e.target.value); setWeights({}) }} data-testid='form-service'>{names.map(n => <option key={n}>{n}</option>)}</select></label>
      <fieldset>
        <legend>Shift traffic between versions</legend>
        {versions.map(v => (
          <label key={v} className='slider'>{v}
            <input type='range' min={0} max={100} value={w(v)} onChange={e => setWeights({ ...Object.fromEntries(versions.map(x => [x, w(x)])), [v]: Number(e.target.value) })} data-testid={`weight-${v}`} />
            <output>{w(v)}</output>
          </label>
        ))}
        <button type='button' onClick={() => onChange(setTrafficSplit(docs, service, Object.fromEntries(versions.map(v => [v, w(v)]))))} data-testid='apply-split'>Write route</button>
      </fieldset>
      <fieldset>
        <legend>Timeout and retries</legend>
        <label>request timeout <input value={timeout} onChange={e => setTimeoutValue(e.target.value)} size={6} /></label>
        <label>per-try timeout <input value={perTry} onChange={e => setPerTry(e.target.value)} size={6} /></label>
        <label>retry attempts <input type='number' min={0} max={10} value={attempts} onChange={e => setAttempts(Number(e.target.value))} /></label>
        <button type='button' onClick={() => onChange(setTimeoutRetries(docs, service, { timeout, perTry, attempts }))}>Write route</button>
      </fieldset>
      <fieldset>
        <legend>Inject a fault</legend>
        <label>abort % <input type='number' min={0} max={100} value={abort} onChange={e => setAbort(Number(e.target.value))} data-testid='fault-abort' /></label>
        <label>status <input type='number' min={200} max={599} value={status} onChange={e => setStatus(Number(e.target.value))} /></label>
        <label>delay % <input type='number' min={0} max={100} value={delayPct} onChange={e => setDelayPct(Number(e.target.value))} /></label>
        <label>delay <input value={delay} onChange={e => setDelay(e.target.value)} size={6} /></label>
        <button type='button' onClick={() => onChange(setFault(docs, service, { abortPercent: abort, status, delayPercent: delayPct, delay }))} data-testid='apply-fault'>Write fault (0% removes it)</button>
      </fieldset>
      <fieldset>
        <legend>Mutual TLS</legend>
        {(['STRICT', 'PERMISSIVE', 'DISABLE'] as const).map(m => (
          <label key={m}><input type='radio' name='mtls' checked={mtlsOf(docs) === m} onChange={() => onChange(setMtls(docs, m))} /> {m}</label>
        ))}
      </fieldset>
    </div>
  )
}
