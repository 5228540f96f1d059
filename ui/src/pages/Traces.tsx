import { useState } from 'react'
import { fmt, usePoll } from '../api.ts'

interface Summary { traceId: string, root: string, services: string[], startMs: number, durationMs: number, spans: number, error: boolean }
interface Span { spanId: string, parentSpanId: string | null, name: string, service: string, kind: number, startMs: number, endMs: number, attributes: Record<string, unknown> }

export function TracesPage () {
  const { data } = usePoll<{ traces: Summary[] }>('/traces?limit=50', 3000)
  const [selected, setSelected] = useState<string | null>(null)
  return (
    <div className='page traces'>
      <section className='list'>
        <h3>Recent traces</h3>
        {data === null || data.traces.length === 0 ? <p className='muted'>No traces yet: send traffic through the ingress.</p> : (
          <table data-testid='trace-list'><thead><tr><th>root</th><th>services</th><th>spans</th><th>duration</th></tr></thead>
            <tbody>{data.traces.map(t => (
              <tr key={t.traceId} className={`${selected === t.traceId ? 'selected' : ''} ${t.error ? 'err' : ''}`} onClick={() => setSelected(t.traceId)}>
                <td>{t.root}</td><td>{t.services.join(', ')}</td><td>{t.spans}</td><td>{fmt(t.durationMs, 1, 'ms')}</td>
              </tr>
            ))}</tbody>
          </table>
        )}
      </section>
      {selected !== null && <Waterfall traceId={selected} />}
    </div>
  )
}

function Waterfall ({ traceId }: { traceId: string }) {
  const { data } = usePoll<{ spans: Span[] }>(`/traces/${traceId}`, 5000, [traceId])
  if (data === null) return null
  const spans = order(data.spans)
  const start = Math.min(...spans.map(s => s.span.startMs))
  const end = Math.max(...spans.map(s => s.span.endMs))
  const total = Math.max(0.001, end - start)
  return (
    <section className='waterfall' data-testid='waterfall'>
      <h3>Trace {traceId.slice(0, 16)}… — {fmt(total, 2, 'ms')}</h3>
      {spans.map(({ span, depth }) => (
        <div key={span.spanId} className='wf-row'>
          <div className='wf-name' style={{ paddingLeft: depth * 14 }}>{span.service}: {span.name}</div>
          <div className='wf-track'>
            <div className={`wf-bar kind-${span.kind}`} style={{ left: `${((span.startMs - start) / total) * 100}%`, width: `${Math.max(0.5, ((span.endMs - span.startMs) / total) * 100)}%` }} title={JSON.stringify(span.attributes)} />
          </div>
          <div className='wf-dur'>{fmt(span.endMs - span.startMs, 2, 'ms')}</div>
        </div>
      ))}
    </section>
  )
}

function order (spans: Span[]): Array<{ span: Span, depth: number }> {
  const ids = new Set(spans.map(s => s.spanId))
  const children = new Map<string | null, Span[]>()
  for (const s of spans) {
    const parent = s.parentSpanId !== null && ids.has(s.parentSpanId) ? s.parentSpanId : null
    children.set(parent, [...(children.get(parent) ?? []), s])
  }
  const out: Array<{ span: Span, depth: number }> = []
  const walk = (parent: string | null, depth: number): void => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span: s, depth })
      walk(s.spanId, depth + 1)
    }
  }
  walk(null, 0)
  return out
}
