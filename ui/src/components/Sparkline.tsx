export function Sparkline ({ values, width = 220, height = 40, color = '#2563eb', label }: { values: Array<number | null>, width?: number, height?: number, color?: string, label: string }) {
  const pts = values.map((v, i) => [i, v] as const).filter((p): p is readonly [number, number] => p[1] !== null)
  const max = Math.max(1e-9, ...pts.map(p => p[1]))
  const n = Math.max(1, values.length - 1)
  const d = pts.map(([i, v], k) => `${k === 0 ? 'M' : 'L'}${((i / n) * width).toFixed(1)},${(height - (v / max) * (height - 4) - 2).toFixed(1)}`).join(' ')
  const last = pts.length > 0 ? pts[pts.length - 1][1] : null
  return (
    <div className='spark'>
      <div className='spark-label'>{label} <b>{last === null ? '–' : last.toFixed(last < 10 ? 2 : 0)}</b></div>
      <svg width={width} height={height} role='img' aria-label={label}>
        <path d={d} fill='none' stroke={color} strokeWidth='1.5' />
      </svg>
    </div>
  )
}
