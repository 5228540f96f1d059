import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import { useThemeVersion } from '../theme.tsx'

// Time-series charts with axes, units, a legend and a hover cursor: uPlot (canvas, ~45 KB) behind a React wrapper.

export interface ChartSeries { label: string, values: Array<number | null>, color: string }

export interface TimeChartProps {
  title: string
  /** Unit of the y axis, shown in its label and on every tick and legend value ("req/s", "%", "ms"). */
  unit: string
  /** Epoch milliseconds. */
  times: number[]
  series: ChartSeries[]
  height?: number
  /** Fixed y range (e.g. 0..100 for a percentage); default from the data, starting at 0. */
  yRange?: [number, number]
  testId?: string
}

const cssVar = (name: string, fallback: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback

/** The legend shows the hovered point, or the latest one when the cursor is elsewhere. */
function lastValue (values: ArrayLike<number | null | undefined> | undefined): number | null {
  if (values === undefined) return null
  for (let i = values.length - 1; i >= 0; i--) { const v = values[i]; if (v !== null && v !== undefined) return v }
  return null
}

function fmtValue (v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–'
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2
  return `${v.toFixed(digits)} ${unit}`
}

/**
 * A line chart of some series over time: time axis at the bottom, the unit on the y axis, legend with the hovered
 * (or last) values. Follows the width of its container and the page's theme.
 *
 * @example <TimeChart title='Request rate' unit='req/s' times={ts} series={[{ label: 'rps', values, color: '#2563eb' }]} />
 */
export function TimeChart ({ title, unit, times, series, height = 180, yRange, testId }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const theme = useThemeVersion()
  const shape = `${title}|${unit}|${series.map(s => `${s.label}:${s.color}`).join(',')}|${yRange?.join(',') ?? ''}|${theme}`
  const data: uPlot.AlignedData = [times.map(t => t / 1000), ...series.map(s => s.values)]

  useEffect(() => {
    const el = host.current
    if (el === null) return
    const axisColor = cssVar('--muted', '#64748b')
    const gridColor = cssVar('--line', '#e2e8f0')
    const axis = (extra: uPlot.Axis): uPlot.Axis => ({ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, ...extra })
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      title,
      scales: { x: { time: true }, y: yRange !== undefined ? { range: yRange } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      series: [
        { label: 'time', value: (_u, v) => v === null ? '–' : new Date(v * 1000).toLocaleTimeString() },
        ...series.map(s => ({ label: s.label, stroke: s.color, width: 1.6, spanGaps: false, points: { show: false }, value: (u: uPlot, v: number | null, sidx: number, idx: number | null) => fmtValue(idx === null ? lastValue(u.data[sidx]) : v, unit) }))
      ],
      axes: [
        axis({}),
        axis({ label: unit, size: 56, values: (_u, ticks) => ticks.map(v => `${Number(v.toPrecision(3))}`) })
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } }
    }
    const p = new uPlot(opts, data, el)
    plot.current = p
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height }))
    ro.observe(el)
    return () => { ro.disconnect(); p.destroy(); plot.current = null }
  }, [shape, height])

  useEffect(() => { plot.current?.setData(data) })

  return <div className='time-chart' ref={host} data-testid={testId} data-points={times.length} role='img' aria-label={`${title} (${unit}) over time, ${series.map(s => `${s.label} last ${fmtValue(s.values.at(-1), unit)}`).join(', ')}`} />
}
