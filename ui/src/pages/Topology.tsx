import { useEffect, useMemo, useRef, useState } from 'react'
import { usePoll } from '../api.ts'
import { useConnection } from '../connection.tsx'
import { syntheticService, syntheticTopology } from '../topology/fixture.ts'
import { Graph } from '../topology/Graph.tsx'
import { layoutGraph } from '../topology/layout.ts'
import { buildGraph, type EdgeLabelMode, EDGE_LABEL_MODES, namespaceOf, type Topology } from '../topology/model.ts'
import { ServicePanel } from '../topology/ServicePanel.tsx'
import { Toolbar } from '../topology/Toolbar.tsx'

/** `?fixture=synthetic-120` draws a generated 120-service mesh instead of the API's (the UI's scale tests). */
function fixtureName (): string | null {
  return new URLSearchParams(location.search).get('fixture')
}

function storedMode (): EdgeLabelMode {
  const m = localStorage.getItem('meshwork.topology.labels')
  return EDGE_LABEL_MODES.some(x => x.id === m) ? m as EdgeLabelMode : 'rps'
}

/** Above this many services the graph starts with every namespace collapsed. */
const AUTO_COLLAPSE_OVER = 60

const reducedMotion = (): boolean => typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches

export function TopologyPage () {
  const fixture = fixtureName()
  const fixed = useMemo(() => {
    const m = fixture === null ? null : /^synthetic-(\d+)$/.exec(fixture)
    return m === null ? null : syntheticTopology(Number(m[1]))
  }, [fixture])
  const polled = usePoll<Topology>(fixed === null ? '/topology' : null, 2000)
  const data = fixed ?? polled.data
  const error = fixed === null ? polled.error : null
  const updatedAt = fixed === null ? polled.updatedAt : fixed.updatedAt
  const conn = useConnection()
  const [selected, setSelected] = useState<string | null>(null)
  const [labelMode, setLabelMode] = useState<EdgeLabelMode>(storedMode)
  const [dots, setDots] = useState(() => !reducedMotion())
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set())
  const [focus, setFocus] = useState<string | null>(null)
  const [find, setFind] = useState('')
  const [found, setFound] = useState<{ id: string, seq: number } | null>(null)
  const [findError, setFindError] = useState<string | null>(null)

  // A big mesh opens as its namespaces (each one node); the user expands the ones to look into.
  const first = useRef(true)
  useEffect(() => {
    if (data === null || !first.current) return
    first.current = false
    const counts = new Map<string, number>()
    for (const n of data.nodes) counts.set(namespaceOf(n), (counts.get(namespaceOf(n)) ?? 0) + 1)
    if (data.nodes.length > AUTO_COLLAPSE_OVER && counts.size > 1) setCollapsed(new Set([...counts].filter(([, c]) => c > 1).map(([ns]) => ns)))
  }, [data])

  const model = useMemo(() => data === null ? null : buildGraph(data, { collapsed, focus }), [data, collapsed, focus])
  // The layout depends on the graph's shape only: live numbers never move a node.
  const shape = model === null ? '' : `${model.nodes.map(n => `${n.id}:${n.versions.map(v => v.name).join(',')}`).join('|')}#${model.edges.map(e => e.id).join('|')}`
  const layout = useMemo(() => model === null ? null : layoutGraph(model), [shape])

  if (data === null || model === null || layout === null) return <div className='page'>{error !== null ? <p className='error'>{error}</p> : <p>Loading topology…</p>}</div>

  const toggleNamespace = (ns: string): void => setCollapsed(c => {
    const next = new Set(c)
    if (next.has(ns)) next.delete(ns)
    else next.add(ns)
    return next
  })
  const submitFind = (): void => {
    const q = find.trim().toLowerCase()
    if (q === '') return
    const hit = data.nodes.find(n => n.id.toLowerCase() === q) ?? data.nodes.find(n => n.id.toLowerCase().includes(q))
    if (hit === undefined) { setFindError(`no service matches “${find.trim()}”`); return }
    setFindError(null)
    const ns = namespaceOf(hit)
    if (collapsed.has(ns)) toggleNamespace(ns)
    if (focus !== null && focus !== hit.id) setFocus(null)
    setSelected(hit.id)
    setFound(f => ({ id: hit.id, seq: (f?.seq ?? 0) + 1 }))
  }
  // The last numbers stay on screen, greyed and labelled, when they can no longer be refreshed (issue 19).
  const stale = fixed !== null
    ? null
    : error !== null || conn.server !== 'live' ? `the management server is unreachable; the graph shows data from ${new Date(updatedAt ?? 0).toLocaleTimeString()}` : conn.metricsStale ? 'the proxies\' metrics have not been scraped for a while; the numbers are old' : null
  return (
    <div className='page topology'>
      <Toolbar
        labelMode={labelMode}
        onLabelMode={m => { setLabelMode(m); localStorage.setItem('meshwork.topology.labels', m) }}
        dots={dots}
        onDots={setDots}
        names={data.nodes.map(n => n.id)}
        find={find}
        onFind={s => { setFind(s); setFindError(null) }}
        onFindSubmit={submitFind}
        findError={findError}
        focus={focus}
        canFocus={selected !== null}
        onFocus={() => { if (selected !== null) { setFocus(selected); setFound(f => ({ id: selected, seq: (f?.seq ?? 0) + 1 })) } }}
        onClearFocus={() => setFocus(null)}
        namespaces={model.namespaces}
        collapsed={collapsed}
        onToggleNamespace={toggleNamespace}
        onExpandAll={() => setCollapsed(new Set())}
        onCollapseAll={() => setCollapsed(new Set(model.namespaces))}
      />
      <div className='topology-body'>
        <div className={`graph-wrap${stale !== null ? ' stale' : ''}`} data-testid='graph-wrap' data-stale={stale !== null}>
          {stale !== null && <p className='stale-banner' data-testid='stale-banner'>Stale: {stale}.</p>}
          <Graph model={model} layout={layout} labelMode={labelMode} dots={dots} selected={selected} found={found} onSelect={setSelected} onToggleNamespace={toggleNamespace} />
        </div>
        {selected !== null && <ServicePanel key={selected} name={selected} onClose={() => setSelected(null)} fixture={fixed === null ? undefined : syntheticService(fixed, selected)} />}
      </div>
    </div>
  )
}
