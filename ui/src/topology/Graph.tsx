import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { type Box, GATEWAY_W, HEADER_H, type Layout, NODE_W, NS_TITLE_H, VERSION_H } from './layout.ts'
import { dotsFor, type EdgeLabelMode, edgeMetric, fmtMs, fmtNum, fmtPct, type GraphEdge, type GraphModel, type GraphNode, PROTOCOL_NAME } from './model.ts'

export interface View { k: number, tx: number, ty: number }

export interface GraphProps {
  model: GraphModel
  layout: Layout
  labelMode: EdgeLabelMode
  dots: boolean
  selected: string | null
  /** The node that find picked: highlighted and centred (each new `seq` centres again). */
  found: { id: string, seq: number } | null
  onSelect: (id: string) => void
  onToggleNamespace: (ns: string) => void
}

const MIN_K = 0.02
const MAX_K = 3
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v))

/** A smooth path through dagre's route points (quadratic curves between midpoints). */
function routePath (points: Array<{ x: number, y: number }>): string {
  if (points.length === 0) return ''
  if (points.length < 3) return `M${points.map(p => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' L')}`
  let d = `M${points[0].x.toFixed(1)},${points[0].y.toFixed(1)}`
  for (let i = 1; i < points.length - 1; i++) {
    const mx = (points[i].x + points[i + 1].x) / 2
    const my = (points[i].y + points[i + 1].y) / 2
    d += ` Q${points[i].x.toFixed(1)},${points[i].y.toFixed(1)} ${i === points.length - 2 ? `${points[i + 1].x.toFixed(1)},${points[i + 1].y.toFixed(1)}` : `${mx.toFixed(1)},${my.toFixed(1)}`}`
  }
  return d
}

function pathLength (points: Array<{ x: number, y: number }>): number {
  let len = 0
  for (let i = 1; i < points.length; i++) len += Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y)
  return len
}

function Lock ({ on, x, y }: { on: boolean, x: number, y: number }) {
  // A padlock: closed (mTLS) or open (plain text).
  return (
    <g className={`lock ${on ? 'on' : 'off'}`} transform={`translate(${x},${y})`} data-mtls={on}>
      <title>{on ? 'mutual TLS' : 'plain text (no mTLS)'}</title>
      <path d={on ? 'M2.5 5 V3.2 a3 3 0 0 1 6 0 V5' : 'M2.5 5 V3.2 a3 3 0 0 1 6 0 V2'} fill='none' strokeWidth='1.4' />
      <rect x='1' y='5' width='9' height='7' rx='1.5' />
    </g>
  )
}

function NodeView ({ n, box, selected, found, onSelect, onToggleNamespace }: { n: GraphNode, box: Box, selected: boolean, found: boolean, onSelect: (id: string) => void, onToggleNamespace: (ns: string) => void }) {
  const act = (): void => { n.kind === 'namespace' ? onToggleNamespace(n.namespace) : onSelect(n.id) }
  const status = n.kind === 'namespace'
    ? `${n.members} ${n.members === 1 ? 'service' : 'services'} (collapsed)`
    : n.kind === 'gateway' ? `gateway${n.instances > 0 ? ` · ${n.healthy}/${n.instances} up` : ''}` : `${n.instances > 0 ? `${n.healthy}/${n.instances} up` : 'no proxies'}`
  const aria = `${n.kind === 'namespace' ? 'namespace' : n.kind} ${n.label}, ${n.health}, ${fmtNum(n.rps)} requests per second, success ${fmtPct(n.successRate)}`
  return (
    <g
      className={`node ${n.kind} health-${n.health}${selected ? ' selected' : ''}${found ? ' found' : ''}`}
      data-node={n.id}
      data-health={n.health}
      data-ns={n.namespace}
      transform={`translate(${box.x},${box.y})`}
      tabIndex={0}
      role='button'
      aria-label={aria}
      onClick={e => { e.stopPropagation(); act() }}
      onKeyDown={e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); act() } }}
    >
      <rect className='node-box' width={box.w} height={box.h} rx={n.kind === 'gateway' ? 18 : 8} />
      <circle className='health-dot' cx={14} cy={16} r={5}><title>{`health: ${n.health}`}</title></circle>
      <text x={26} y={20} className='node-name'>{n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label}<title>{n.id}</title></text>
      <text x={12} y={36} className='node-sub'>{status}</text>
      <text x={12} y={48} className='node-sub node-metrics'>{n.rps !== null ? `${fmtNum(n.rps)} rps · ${fmtPct(n.successRate)} · p99 ${fmtMs(n.p99Ms)}` : ''}</text>
      {n.versions.length > 0 && (
        <g data-testid={`versions-${n.id}`}>
          {n.versions.map((v, i) => (
            <g key={v.name} className='version' data-version={`${n.id}/${v.name}`} data-rps={v.rps ?? ''} transform={`translate(10,${HEADER_H + i * VERSION_H})`}>
              <rect width={(n.kind === 'gateway' ? GATEWAY_W : NODE_W) - 20} height={VERSION_H - 4} rx={9} />
              <circle cx={9} cy={(VERSION_H - 4) / 2} r={4} />
              <text x={18} y={13} className='version-name'>{v.name}</text>
              <text x={NODE_W - 28} y={13} textAnchor='end' className='version-rps'>{v.rps === null ? '' : `${fmtNum(v.rps)} rps`}</text>
            </g>
          ))}
        </g>
      )}
    </g>
  )
}

function EdgeView ({ e, route, labelMode, dots, pathId }: { e: GraphEdge, route: { points: Array<{ x: number, y: number }>, label: Box }, labelMode: EdgeLabelMode, dots: boolean, pathId: string }) {
  const d = routePath(route.points)
  const width = 1.2 + Math.min(4, Math.log10(1 + e.rps) * 1.6)
  const l = route.label
  const metric = edgeMetric(e, labelMode)
  const motion = dots ? dotsFor(e, pathLength(route.points)) : { n: 0, dur: 0, red: 0 }
  return (
    <g className={`edge ${e.protocol} health-${e.health}`} data-edge={e.id} data-protocol={e.protocol} data-dots={motion.n}>
      <path id={pathId} className='edge-line' d={d} strokeWidth={width} strokeDasharray={e.protocol === 'grpc' ? '7 3' : e.protocol === 'tcp' ? '2 3' : undefined} markerEnd={`url(#arrow-${e.health})`} />
      {/* dots before the tag: the label stays readable over them */}
      {motion.n > 0 && Array.from({ length: motion.n }, (_, i) => (
        <circle key={i} r={3} className={`dot${i < motion.red ? ' red' : ''}`}>
          <animateMotion dur={`${motion.dur.toFixed(2)}s`} begin={`${(-(i * motion.dur) / motion.n).toFixed(2)}s`} repeatCount='indefinite'>
            <mpath href={`#${pathId}`} />
          </animateMotion>
        </circle>
      ))}
      <g className='edge-tag' transform={`translate(${l.x},${l.y})`}>
        <rect className='edge-tag-box' width={l.w} height={l.h} rx={5} />
        {e.mtls !== undefined && <Lock on={e.mtls} x={6} y={3} />}
        <text x={e.mtls !== undefined ? 21 : 8} y={13} className='edge-protocol'>{PROTOCOL_NAME[e.protocol]}</text>
        <text x={8} y={28} className='edge-label' data-mode={labelMode}>{metric}</text>
      </g>
    </g>
  )
}

/** The graph: SVG with pan (drag, arrow keys), zoom (wheel, +/−, 0 fits) and a fit-to-view when the shape changes. */
export function Graph ({ model, layout, labelMode, dots, selected, found, onSelect, onToggleNamespace }: GraphProps) {
  const wrap = useRef<HTMLDivElement>(null)
  const [size, setSize] = useState({ w: 800, h: 500 })
  const [view, setView] = useState<View>({ k: 1, tx: 0, ty: 0 })
  const moved = useRef(false)
  const drag = useRef<{ x: number, y: number, tx: number, ty: number } | null>(null)

  useLayoutEffect(() => {
    const el = wrap.current
    if (el === null) return
    const measure = (): void => setSize({ w: el.clientWidth, h: el.clientHeight })
    measure()
    const ro = new ResizeObserver(measure)
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  const fit = useCallback((): void => {
    const m = 12
    const k = clamp(Math.min((size.w - 2 * m) / layout.width, (size.h - 2 * m) / layout.height, 1), MIN_K, MAX_K)
    setView({ k, tx: (size.w - layout.width * k) / 2, ty: Math.max(m, (size.h - layout.height * k) / 2) })
  }, [size.w, size.h, layout.width, layout.height])

  // Fit when the graph's shape or the viewport changes, unless the user has panned or zoomed.
  useLayoutEffect(() => { if (!moved.current) fit() }, [fit])

  // Find centres its node, and keeps it centred while the graph re-lays out (its namespace expanding) or the canvas
  // resizes (the side panel opening), until the user pans or zooms.
  const anchor = useRef<string | null>(null)
  useEffect(() => { if (found !== null) { anchor.current = found.id; moved.current = true } }, [found?.id, found?.seq])
  useLayoutEffect(() => {
    const id = anchor.current
    const b = id === null ? undefined : layout.nodes.get(id)
    if (b === undefined) return
    setView(v => {
      const k = Math.max(v.k, 0.9)
      return { k, tx: size.w / 2 - (b.x + b.w / 2) * k, ty: size.h / 2 - (b.y + b.h / 2) * k }
    })
  }, [found?.id, found?.seq, layout, size.w, size.h])

  const zoomAt = (factor: number, cx: number, cy: number): void => {
    moved.current = true
    anchor.current = null
    setView(v => {
      const k = clamp(v.k * factor, MIN_K, MAX_K)
      const f = k / v.k
      return { k, tx: cx - (cx - v.tx) * f, ty: cy - (cy - v.ty) * f }
    })
  }

  useEffect(() => {
    const el = wrap.current
    if (el === null) return
    // A non-passive wheel listener: zooming must not also scroll the page.
    const onWheel = (ev: WheelEvent): void => {
      ev.preventDefault()
      const r = el.getBoundingClientRect()
      zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top)
    }
    el.addEventListener('wheel', onWheel, { passive: false })
    return () => el.removeEventListener('wheel', onWheel)
  }, [])

  const onKeyDown = (ev: React.KeyboardEvent): void => {
    const step = 60
    const pan = (dx: number, dy: number): void => { moved.current = true; anchor.current = null; setView(v => ({ ...v, tx: v.tx + dx, ty: v.ty + dy })) }
    if (ev.key === '+' || ev.key === '=') zoomAt(1.2, size.w / 2, size.h / 2)
    else if (ev.key === '-' || ev.key === '_') zoomAt(1 / 1.2, size.w / 2, size.h / 2)
    else if (ev.key === '0') { moved.current = false; anchor.current = null; fit() }
    else if (ev.key === 'ArrowLeft') pan(step, 0)
    else if (ev.key === 'ArrowRight') pan(-step, 0)
    else if (ev.key === 'ArrowUp') pan(0, step)
    else if (ev.key === 'ArrowDown') pan(0, -step)
    else return
    ev.preventDefault()
  }

  const byId = new Map(model.nodes.map(n => [n.id, n]))
  const nsTitles = layout.namespaces
  return (
    <div
      className='graph-canvas'
      ref={wrap}
      data-testid='graph-canvas'
      // biome-ignore lint/a11y/noNoninteractiveTabindex: the canvas takes arrow keys and + / − to pan and zoom
      tabIndex={0}
      role='application' aria-label='Service graph: drag or arrow keys to pan, wheel or + and − to zoom, 0 to fit' onKeyDown={onKeyDown}>
      <svg
        className='graph'
        width={size.w}
        height={size.h}
        data-testid='topology'
        data-zoom={view.k.toFixed(3)}
        onPointerDown={ev => {
          if ((ev.target as Element).closest('.node, .ns-title') !== null) return
          drag.current = { x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty }
          ;(ev.currentTarget as Element).setPointerCapture(ev.pointerId)
        }}
        onPointerMove={ev => {
          const s = drag.current
          if (s === null) return
          moved.current = true
          anchor.current = null
          setView(v => ({ ...v, tx: s.tx + ev.clientX - s.x, ty: s.ty + ev.clientY - s.y }))
        }}
        onPointerUp={() => { drag.current = null }}
      >
        <defs>
          {(['healthy', 'degraded', 'failing', 'idle'] as const).map(h => (
            <marker key={h} id={`arrow-${h}`} className={`arrow health-${h}`} viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' markerHeight='7' markerUnits='userSpaceOnUse' orient='auto-start-reverse'>
              <path d='M 0 0 L 10 5 L 0 10 z' />
            </marker>
          ))}
        </defs>
        <g className='viewport' transform={`translate(${view.tx.toFixed(1)},${view.ty.toFixed(1)}) scale(${view.k.toFixed(4)})`}>
          {nsTitles.map(ns => (
            <g key={ns.name} className='ns-group' data-namespace={ns.name}>
              <rect x={ns.x} y={ns.y} width={ns.w} height={ns.h} rx={10} className='ns-box' />
              <g
                className='ns-title'
                transform={`translate(${ns.x + 8},${ns.y + 4})`}
                tabIndex={0}
                role='button'
                aria-label={`namespace ${ns.name}: collapse`}
                onClick={() => onToggleNamespace(ns.name)}
                onKeyDown={e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onToggleNamespace(ns.name) } }}
              >
                <rect width={Math.min(ns.w - 16, 14 + ns.name.length * 7.4 + 22)} height={NS_TITLE_H - 6} rx={4} className='ns-title-box' />
                <text x={6} y={13} className='ns-name'>▾ {ns.name}</text>
              </g>
            </g>
          ))}
          {model.edges.map((e, i) => {
            const r = layout.edges.get(e.id)
            return r === undefined ? null : <EdgeView key={e.id} e={e} route={r} labelMode={labelMode} dots={dots} pathId={`edge-path-${i}`} />
          })}
          {model.nodes.map(n => {
            const b = layout.nodes.get(n.id)
            return b === undefined ? null : <NodeView key={n.id} n={byId.get(n.id)!} box={b} selected={selected === n.id} found={found?.id === n.id} onSelect={onSelect} onToggleNamespace={onToggleNamespace} />
          })}
        </g>
      </svg>
      <div className='zoom-buttons'>
        <button type='button' aria-label='zoom in' data-testid='zoom-in' onClick={() => zoomAt(1.25, size.w / 2, size.h / 2)}>+</button>
        <button type='button' aria-label='zoom out' data-testid='zoom-out' onClick={() => zoomAt(0.8, size.w / 2, size.h / 2)}>−</button>
        <button type='button' aria-label='fit to view' data-testid='zoom-fit' onClick={() => { moved.current = false; anchor.current = null; fit() }}>⤢</button>
      </div>
    </div>
  )
}
