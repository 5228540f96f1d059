import { useState } from 'react'
import { usePoll } from '../api.ts'
import { type GoldenBy, type GoldenRow, GoldenTable } from './GoldenTable.tsx'
import { TimeChart } from './TimeChart.tsx'

interface GoldenReply { by: GoldenBy, rows: GoldenRow[], updatedAt: number, source: string, prometheus: string | null }
interface SeriesReply { source: 'prometheus' | 'proxies', step: number | null, warning?: string, points: Array<{ t: number, rps: number, successRate: number | null, p50Ms: number | null, p95Ms: number | null, p99Ms: number | null }> }

const TABS: Array<{ id: GoldenBy, title: string }> = [
  { id: 'service', title: 'Services' },
  { id: 'workload', title: 'Workloads' },
  { id: 'route', title: 'Routes' },
  { id: 'source', title: 'By source' }
]
export const RANGES = ['5m', '15m', '1h', '6h'] as const
type Range = typeof RANGES[number]

/** Request rate, success and latency percentiles of one row over the chosen time range. */
export function GoldenCharts ({ by, rowKey, range }: { by: GoldenBy, rowKey: string, range: Range }) {
  const { data, error } = usePoll<SeriesReply>(`/metrics/series?by=${by}&key=${encodeURIComponent(rowKey)}&range=${range}`, range === '5m' ? 2000 : 10_000, [by, rowKey, range])
  if (data === null) return <p className='muted'>{error ?? 'Loading…'}</p>
  const t = data.points.map(p => p.t)
  return (
    <div className='charts' data-testid='golden-charts' data-source={data.source}>
      <p className='muted chart-source' data-testid='chart-source'>
        {data.source === 'prometheus' ? `From Prometheus (PromQL, ${data.step} s step).` : 'From the management server\'s scrapes of the proxies (since it started).'}
        {data.warning !== undefined && <span className='error'> {data.warning}</span>}
      </p>
      <TimeChart testId='chart-rps' title='Request rate' unit='req/s' times={t} series={[{ label: 'requests', values: data.points.map(p => p.rps), color: '#2563eb' }]} />
      <TimeChart testId='chart-success' title='Success rate' unit='%' times={t} yRange={[0, 100]} series={[{ label: 'success', values: data.points.map(p => p.successRate === null ? null : p.successRate * 100), color: '#16a34a' }]} />
      <TimeChart testId='chart-latency' title='Latency' unit='ms' times={t} series={[
        { label: 'p50', values: data.points.map(p => p.p50Ms), color: '#0891b2' },
        { label: 'p95', values: data.points.map(p => p.p95Ms), color: '#d97706' },
        { label: 'p99', values: data.points.map(p => p.p99Ms), color: '#dc2626' }
      ]} />
    </div>
  )
}

export function RangePicker ({ range, onRange }: { range: Range, onRange: (r: Range) => void }) {
  return (
    <div className='range-picker' role='radiogroup' aria-label='Time range' data-testid='range-picker'>
      {RANGES.map(r => <button key={r} type='button' role='radio' aria-checked={r === range} className={r === range ? 'chip on' : 'chip'} data-range={r} onClick={() => onRange(r)}>{r}</button>)}
    </div>
  )
}

/** Golden metrics like `linkerd viz stat`: live tables per service, workload, route and source, and charts of a row. */
export function MetricsPage () {
  const [by, setBy] = useState<GoldenBy>('service')
  const [selected, setSelected] = useState<string | null>(null)
  const [range, setRange] = useState<Range>('5m')
  const { data, error, updatedAt } = usePoll<GoldenReply>(`/metrics/golden?by=${by}`, 2000, [by])
  return (
    <div className='page metrics'>
      <div className='metrics-head'>
        <div role='tablist' aria-label='Table' className='tabs'>
          {TABS.map(tab => (
            <button key={tab.id} type='button' role='tab' aria-selected={tab.id === by} className={tab.id === by ? 'tab on' : 'tab'} data-tab={tab.id} onClick={() => { setBy(tab.id); setSelected(null) }}>{tab.title}</button>
          ))}
        </div>
        <span className='muted' data-testid='golden-updated'>{updatedAt === null ? '' : `live · updated ${new Date(data?.updatedAt || updatedAt).toLocaleTimeString()}`}{data?.prometheus ? ` · charts from Prometheus ${data.prometheus}` : ''}</span>
        {error !== null && <span className='error'>{error}</span>}
      </div>
      <div className='metrics-body'>
        <div className='metrics-table'>
          {data !== null && <GoldenTable by={by} rows={data.rows} selected={selected} onSelect={setSelected} />}
        </div>
        {selected !== null && (
          <section className='metrics-charts' aria-label={`charts of ${selected}`}>
            <header><h2>{selected}</h2><RangePicker range={range} onRange={setRange} /></header>
            <GoldenCharts by={by} rowKey={selected} range={range} />
          </section>
        )}
      </div>
    </div>
  )
}
