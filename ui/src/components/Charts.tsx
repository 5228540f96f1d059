const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777']

export interface Series { name: string, points: Array<{ percentile: number, ms: number }> }

/**
 * Latency by percentile (the "percentile spectrum" of HdrHistogram / wrk2), x on a log scale of
 * 1/(1-p) so the tail is readable; several runs overlay for comparison.
 */
export function PercentilePlot ({ series, width = 640, height = 280 }: { series: Series[], width?: number, height?: number }) {
  const pad = { l: 50, r: 10, t: 10, b: 30 }
  const x = (p: number): number => {
    const v = Math.log10(1 / Math.max(1e-6, 1 - Math.min(p, 99.9999) / 100))
    return pad.l + (v / 4) * (width - pad.l - pad.r)
  }
  const maxMs = Math.max(0.001, ...series.flatMap(s => s.points.map(p => p.ms)))
  const y = (ms: number): number => height - pad.b - (ms / maxMs) * (height - pad.t - pad.b)
  const ticks = [0, 50, 90, 99, 99.9, 99.99]
  return (
    <svg className='chart' width={width} height={height} data-testid='percentile-plot'>
      <line x1={pad.l} y1={height - pad.b} x2={width - pad.r} y2={height - pad.b} stroke='#94a3b8' />
      <line x1={pad.l} y1={pad.t} x2={pad.l} y2={height - pad.b} stroke='#94a3b8' />
      {ticks.map(t => <text key={t} x={x(t)} y={height - 12} textAnchor='middle'>p{t}</text>)}
      {[0, 0.5, 1].map(f => <text key={f} x={pad.l - 4} y={y(maxMs * f) + 3} textAnchor='end'>{(maxMs * f).toFixed(maxMs < 10 ? 2 : 0)}ms</text>)}
      {series.map((s, i) => (
        <path key={s.name} d={s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p.percentile).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ')} fill='none' stroke={COLORS[i % COLORS.length]} strokeWidth='1.8' />
      ))}
      {series.map((s, i) => <text key={s.name} x={pad.l + 8} y={pad.t + 12 + i * 13} fill={COLORS[i % COLORS.length]} style={{ fill: COLORS[i % COLORS.length] }}>{s.name}</text>)}
    </svg>
  )
}

export function Histogram ({ bins, width = 640, height = 160 }: { bins: Array<{ fromMs: number, toMs: number, count: number }>, width?: number, height?: number }) {
  const max = Math.max(1, ...bins.map(b => b.count))
  const bw = (width - 50) / Math.max(1, bins.length)
  return (
    <svg className='chart' width={width} height={height} data-testid='histogram'>
      {bins.map((b, i) => {
        const h = (b.count / max) * (height - 30)
        return <rect key={i} x={40 + i * bw} y={height - 20 - h} width={Math.max(1, bw - 1)} height={h} fill='#60a5fa'><title>{b.fromMs.toFixed(2)}–{b.toMs.toFixed(2)} ms: {b.count}</title></rect>
      })}
      {bins.length > 0 && <text x={40} y={height - 6}>{bins[0].fromMs.toFixed(2)}ms</text>}
      {bins.length > 0 && <text x={width - 10} y={height - 6} textAnchor='end'>{bins[bins.length - 1].toMs.toFixed(2)}ms</text>}
    </svg>
  )
}
