import { EDGE_LABEL_MODES, type EdgeLabelMode, HEALTH_THRESHOLDS } from './model.ts'

export interface ToolbarProps {
  labelMode: EdgeLabelMode
  onLabelMode: (m: EdgeLabelMode) => void
  dots: boolean
  onDots: (on: boolean) => void
  names: string[]
  find: string
  onFind: (s: string) => void
  onFindSubmit: () => void
  findError: string | null
  focus: string | null
  canFocus: boolean
  onFocus: () => void
  onClearFocus: () => void
  namespaces: string[]
  collapsed: ReadonlySet<string>
  onToggleNamespace: (ns: string) => void
  onExpandAll: () => void
  onCollapseAll: () => void
}

const pct = (v: number): string => `${(v * 100).toFixed(1).replace(/\.0$/, '')}%`

export function Toolbar (p: ToolbarProps) {
  return (
    <div className='topo-toolbar' role='toolbar' aria-label='Graph options'>
      <label>Edge labels{' '}
        <select data-testid='edge-label-mode' value={p.labelMode} onChange={e => p.onLabelMode(e.target.value as EdgeLabelMode)}>
          {EDGE_LABEL_MODES.map(m => <option key={m.id} value={m.id}>{m.title}</option>)}
        </select>
      </label>
      <label><input type='checkbox' data-testid='dots-toggle' checked={p.dots} onChange={e => p.onDots(e.target.checked)} /> Traffic animation</label>
      <form className='find' onSubmit={e => { e.preventDefault(); p.onFindSubmit() }} role='search'>
        <input data-testid='find' type='search' placeholder='Find a service…' aria-label='Find a service' list='topology-names' value={p.find} onChange={e => p.onFind(e.target.value)} />
        <datalist id='topology-names'>{p.names.map(n => <option key={n} value={n} />)}</datalist>
        <button type='submit' data-testid='find-go'>Find</button>
        {p.focus === null
          ? <button type='button' data-testid='focus' disabled={!p.canFocus} onClick={p.onFocus} title='Show only this service and its direct callers and callees'>Focus</button>
          : <button type='button' data-testid='clear-focus' onClick={p.onClearFocus}>Show all (focus: {p.focus})</button>}
        {p.findError !== null && <span className='error' data-testid='find-error'>{p.findError}</span>}
      </form>
      {p.namespaces.length > 1 && (
        <div className='ns-toggles' data-testid='namespace-toggles'>
          <span className='muted'>Namespaces</span>
          <button type='button' className='chip' data-testid='expand-all' onClick={p.onExpandAll}>expand all</button>
          <button type='button' className='chip' data-testid='collapse-all' onClick={p.onCollapseAll}>collapse all</button>
          {p.namespaces.map(ns => (
            <button key={ns} type='button' className='chip' aria-pressed={!p.collapsed.has(ns)} data-ns-toggle={ns} onClick={() => p.onToggleNamespace(ns)} title={p.collapsed.has(ns) ? 'expand' : 'collapse'}>
              {p.collapsed.has(ns) ? '▸' : '▾'} {ns}
            </button>
          ))}
        </div>
      )}
      <div className='legend' data-testid='legend'>
        <span><i className='sw healthy' /> ≥ {pct(HEALTH_THRESHOLDS.healthy)}</span>
        <span><i className='sw degraded' /> ≥ {pct(HEALTH_THRESHOLDS.degraded)}</span>
        <span><i className='sw failing' /> &lt; {pct(HEALTH_THRESHOLDS.degraded)}</span>
        <span><i className='sw idle' /> no traffic</span>
        <span className='muted'>success rate · dashed gRPC · dotted TCP · lock mTLS</span>
      </div>
    </div>
  )
}
