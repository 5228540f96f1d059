import { useEffect, useState } from 'react'
import { api, type ApiError, fmt, useEvents, usePoll } from '../api.ts'
import { Histogram, PercentilePlot, type Series } from '../components/Charts.tsx'
import { useConnection } from '../connection.tsx'

interface RunSummary { id: string, name: string, createdAt: string, status: string, scenarios: string[], error?: string }
interface ScenarioResult {
  scenario: string
  rps: number
  p50Ms: number | null, p90Ms: number | null, p99Ms: number | null, p999Ms: number | null, maxMs: number | null
  ratioP50: number | null, ratioP99: number | null, ratioRps: number | null
  /** Latency added over no-mesh, ms (null without a no-mesh baseline in the run). */
  addedP50Ms?: number | null, addedP90Ms?: number | null, addedP99Ms?: number | null
  errors: number
  percentiles: Array<{ percentile: number, ms: number }>
  histogram: Array<{ fromMs: number, toMs: number, count: number }>
  proxies: Array<{ name: string, cpuUsPerRequest: number | null, rssMb: number | null }>
}
interface RunDetail extends RunSummary { config: Record<string, unknown>, results: ScenarioResult[], progress?: { percent: number, message: string } }

export function BenchmarksPage () {
  const runs = usePoll<{ runs: RunSummary[] }>('/benchmarks', 3000)
  const scenarios = usePoll<{ scenarios: Array<{ id: string, title: string }> }>('/benchmarks/scenarios', 60_000)
  const [selected, setSelected] = useState<string[]>([])
  const [progress, setProgress] = useState<Record<string, { percent: number, message: string }>>({})
  useEvents((type, data) => {
    if (type !== 'bench') return
    setProgress(p => ({ ...p, [data.id]: { percent: data.percent, message: data.message } }))
    if (data.status !== 'running') runs.reload()
  })
  const toggle = (id: string): void => setSelected(s => s.includes(id) ? s.filter(x => x !== id) : [...s, id])
  const running = (runs.data?.runs ?? []).some(r => r.status === 'running')
  return (
    <div className='page bench'>
      <section>
        <StartForm scenarios={scenarios.data?.scenarios ?? []} running={running} runsUpdatedAt={runs.updatedAt} onBusy={runs.reload} onStarted={id => { runs.reload(); setSelected([id]) }} />
        <h3>Runs</h3>
        <table data-testid='bench-runs'><thead><tr><th /><th>run</th><th>status</th></tr></thead>
          <tbody>{(runs.data?.runs ?? []).map(r => (
            <tr key={r.id} className={selected.includes(r.id) ? 'selected' : ''}>
              <td><input type='checkbox' checked={selected.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`select ${r.id}`} /></td>
              <td onClick={() => setSelected([r.id])} style={{ cursor: 'pointer' }}>{r.name}<br /><small className='muted'>{new Date(r.createdAt).toLocaleString()}</small></td>
              <td data-testid={`run-status-${r.id}`}>{r.status}{r.status === 'running' && progress[r.id] ? ` ${progress[r.id].percent.toFixed(0)}%` : ''}
                {r.status === 'running' && <button type='button' onClick={() => { void api(`/benchmarks/${r.id}/cancel`, { method: 'POST', body: {} }) }} data-testid='cancel'>Cancel</button>}
              </td>
            </tr>
          ))}</tbody>
        </table>
      </section>
      <section>
        {selected.length === 1 && <RunView id={selected[0]} live={progress[selected[0]]} />}
        {selected.length > 1 && <CompareView ids={selected} />}
        {selected.length === 0 && <p className='muted'>Start a run, or select runs to view and compare.</p>}
      </section>
    </div>
  )
}

/**
 * A "benchmark busy" error holds only while a run is running: it goes once a runs list fetched after
 * the error shows none (issue 19: it stayed on screen after the run had finished).
 */
function StartForm ({ scenarios, running, runsUpdatedAt, onBusy, onStarted }: { scenarios: Array<{ id: string, title: string }>, running: boolean, runsUpdatedAt: number | null, onBusy: () => void, onStarted: (id: string) => void }) {
  const [chosen, setChosen] = useState<string[]>(['no-mesh', 'meshwork-mtls'])
  const [rate, setRate] = useState(200)
  const [duration, setDuration] = useState(5)
  const [connections, setConnections] = useState(16)
  const [repeats, setRepeats] = useState(1)
  const [error, setError] = useState<{ code: string, text: string, at: number } | null>(null)
  useEffect(() => {
    if (error?.code === 'MESH_ERR_BENCH_BUSY' && !running && runsUpdatedAt !== null && runsUpdatedAt > error.at) setError(null)
  }, [error, running, runsUpdatedAt])
  const start = async (): Promise<void> => {
    setError(null)
    try {
      const r = await api<{ id: string }>('/benchmarks', { body: { scenarios: chosen, rate, durationMs: duration * 1000, connections, repeats } })
      onStarted(r.id)
    } catch (e) {
      const err = e as ApiError
      setError({ code: err.code, text: `${err.code}: ${err.message}`, at: Date.now() })
      if (err.code === 'MESH_ERR_BENCH_BUSY') onBusy()
    }
  }
  return (
    <form onSubmit={e => { e.preventDefault(); void start() }} data-testid='bench-form'>
      <h3>New benchmark</h3>
      {scenarios.map(s => (
        <label key={s.id}><span><input type='checkbox' checked={chosen.includes(s.id)} onChange={() => setChosen(c => c.includes(s.id) ? c.filter(x => x !== s.id) : [...c, s.id])} data-testid={`scenario-${s.id}`} /> {s.title}</span></label>
      ))}
      <label>rate (req/s, 0 = max) <input type='number' min={0} value={rate} onChange={e => setRate(Number(e.target.value))} data-testid='bench-rate' /></label>
      <label>duration (s) <input type='number' min={1} max={600} value={duration} onChange={e => setDuration(Number(e.target.value))} data-testid='bench-duration' /></label>
      <label>connections <input type='number' min={1} max={1000} value={connections} onChange={e => setConnections(Number(e.target.value))} /></label>
      <label>repeats <input type='number' min={1} max={10} value={repeats} onChange={e => setRepeats(Number(e.target.value))} /></label>
      <button type='submit' className='primary' disabled={chosen.length === 0} data-testid='bench-start'>Start</button>
      {error !== null && <p className='error' data-testid='bench-error'>{error.text}</p>}
    </form>
  )
}

function RunView ({ id, live }: { id: string, live?: { percent: number, message: string } }) {
  const { data, error } = usePoll<RunDetail>(`/benchmarks/${id}`, 2000, [id])
  const { dataDir } = useConnection()
  if (data === null) return error !== null ? <p className='error'>{error}</p> : <p>Loading…</p>
  return (
    <div data-testid='run-view'>
      <h2>{data.name} <small className='muted'>{data.status}</small> <a href={`/api/v1/benchmarks/${id}/export?format=smp`} download={`${id}.smp.json`} data-testid='smp-export'>SMP export</a></h2>
      <p className='muted'>run <code data-testid='run-id' title={id}>{id}</code> — in a terminal: <code data-testid='run-cli'>meshwork bench show {id.slice(0, 8)}{dataDir !== null ? ` --data-dir ${dataDir}` : ''}</code></p>
      {data.status === 'running' && <div><progress max={100} value={live?.percent ?? data.progress?.percent ?? 0} data-testid='bench-progress' /> {live?.message ?? data.progress?.message}</div>}
      {data.error && <p className='error'>{data.error}</p>}
      <OverheadTable results={data.results} />
      {data.results.length > 0 && <PercentilePlot series={data.results.map(r => ({ name: r.scenario, points: r.percentiles }))} />}
      {data.results.map(r => (
        <div key={r.scenario}>
          <h4>{r.scenario} — histogram</h4>
          <Histogram bins={r.histogram} />
        </div>
      ))}
    </div>
  )
}

/** Added latency in ms, signed: `+0.21`; `–` when unknown. */
function addedMs (ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : `${ms >= 0 ? '+' : ''}${ms.toFixed(2)}`
}

function OverheadTable ({ results }: { results: ScenarioResult[] }) {
  return (
    <table data-testid='overhead-table'>
      <thead><tr><th>scenario</th><th>req/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>p50 ×</th><th>p99 ×</th><th title='latency added over no-mesh, ms'>+p50</th><th>+p90</th><th>+p99</th><th>errors</th><th>proxy CPU µs/req</th><th>proxy RSS MB</th></tr></thead>
      <tbody>{results.map(r => (
        <tr key={r.scenario}>
          <td>{r.scenario}</td><td>{fmt(r.rps, 0)}</td><td>{fmt(r.p50Ms, 2)}</td><td>{fmt(r.p90Ms, 2)}</td><td>{fmt(r.p99Ms, 2)}</td><td>{fmt(r.p999Ms, 2)}</td><td>{fmt(r.maxMs, 2)}</td>
          <td>{fmt(r.ratioP50, 2, '×')}</td><td>{fmt(r.ratioP99, 2, '×')}</td>
          <td data-testid='added-p50'>{addedMs(r.addedP50Ms)}</td><td>{addedMs(r.addedP90Ms)}</td><td>{addedMs(r.addedP99Ms)}</td><td>{r.errors}</td>
          <td>{r.proxies.map(p => `${p.name}: ${fmt(p.cpuUsPerRequest, 1)}`).join(', ')}</td>
          <td>{r.proxies.map(p => `${p.name}: ${fmt(p.rssMb, 0)}`).join(', ')}</td>
        </tr>
      ))}</tbody>
    </table>
  )
}

function CompareView ({ ids }: { ids: string[] }) {
  const { data } = usePoll<{ runs: RunDetail[] }>(`/benchmarks/compare?ids=${ids.join(',')}`, 5000, [ids.join(',')])
  if (data === null) return <p>Loading…</p>
  const series: Series[] = data.runs.flatMap(run => run.results.map(r => ({ name: `${run.name}: ${r.scenario}`, points: r.percentiles })))
  return (
    <div data-testid='compare-view'>
      <h2>Compare {ids.length} runs</h2>
      <PercentilePlot series={series} />
      {data.runs.map(run => <div key={run.id}><h4>{run.name}</h4><OverheadTable results={run.results} /></div>)}
    </div>
  )
}
