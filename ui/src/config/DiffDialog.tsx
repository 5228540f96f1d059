import { useEffect } from 'react'

export interface Change { key: string, change: string, diff: Array<{ op: string, line: string }> }

const CONTEXT = 3

/** The lines to show of a resource's diff: the changes with 3 lines around them, the rest folded. */
export function visibleLines (diff: Change['diff']): Array<{ op: string, line: string } | { fold: number }> {
  const keep = diff.map(() => false)
  diff.forEach((l, i) => {
    if (l.op === ' ') return
    for (let j = Math.max(0, i - CONTEXT); j <= Math.min(diff.length - 1, i + CONTEXT); j++) keep[j] = true
  })
  const out: Array<{ op: string, line: string } | { fold: number }> = []
  for (let i = 0; i < diff.length;) {
    if (keep[i]) { out.push(diff[i++]); continue }
    let n = 0
    while (i < diff.length && !keep[i]) { n++; i++ }
    out.push({ fold: n })
  }
  return out
}

/**
 * "Review & apply": the per-resource diff against the running config, in a dialog whose header and
 * buttons stay on screen while its body scrolls (issue 19: Apply sat below the fold).
 */
export function DiffDialog ({ changes, busy, onCancel, onApply }: { changes: Change[], busy: boolean, onCancel: () => void, onApply: () => void }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => { if (e.key === 'Escape') onCancel() }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [onCancel])
  const lines = changes.reduce((n, c) => n + c.diff.filter(l => l.op !== ' ').length, 0)
  return (
    <div className='modal-backdrop'>
      <div className='modal' role='dialog' aria-modal='true' aria-labelledby='diff-title' data-testid='diff'>
        <header className='modal-head'>
          <h3 id='diff-title'>{changes.length === 0 ? 'No changes' : `${changes.length} resource(s) change, ${lines} line(s)`}</h3>
        </header>
        <div className='modal-body' data-testid='diff-body'>
          {changes.length === 0 && <p className='muted'>The editor matches the running config.</p>}
          {changes.map(c => (
            <div key={c.key} className='diff' data-testid={`diff-${c.key}`}>
              <div className='diff-head'>{c.change}: {c.key}</div>
              <pre>{visibleLines(c.diff).map((l, i) => 'fold' in l
                ? <div key={i} className='fold'>⋯ {l.fold} unchanged line(s)</div>
                : <div key={i} className={l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}>{l.op} {l.line}</div>)}
              </pre>
            </div>
          ))}
        </div>
        <footer className='toolbar modal-actions'>
          <button type='button' onClick={onCancel} data-testid='cancel-apply'>Cancel</button>
          <button type='button' className='primary' disabled={busy || changes.length === 0} onClick={onApply} data-testid='confirm-apply'>Apply</button>
        </footer>
      </div>
    </div>
  )
}
