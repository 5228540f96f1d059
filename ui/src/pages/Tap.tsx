import { useEffect, useState } from 'react'
import { fmt, usePoll } from '../api.ts'

interface TapEvent { proxy: string, [k: string]: unknown }

/** A live list of requests seen by the proxies of one service. */
export function TapPage () {
  const { data } = usePoll<{ nodes: Array<{ id: string }> }>('/topology', 10_000)
  const [service, setService] = useState('')
  const [events, setEvents] = useState<TapEvent[]>([])
  const [running, setRunning] = useState(false)
  useEffect(() => {
    if (!running) return
    const es = new EventSource(`/api/v1/tap?service=${encodeURIComponent(service)}`)
    es.addEventListener('tap', e => {
      try {
        const ev = JSON.parse((e as MessageEvent).data) as TapEvent
        setEvents(list => [ev, ...list].slice(0, 200))
      } catch { /* ignore */ }
    })
    return () => es.close()
  }, [running, service])
  return (
    <div className='page tap'>
      <div className='toolbar'>
        <label>Service <select value={service} onChange={e => setService(e.target.value)} data-testid='tap-service'>
          <option value=''>all</option>
          {(data?.nodes ?? []).map(n => <option key={n.id}>{n.id}</option>)}
        </select></label>
        <button type='button' className='primary' onClick={() => setRunning(r => !r)} data-testid='tap-toggle'>{running ? 'Stop' : 'Start'} tap</button>
        <button type='button' onClick={() => setEvents([])}>Clear</button>
      </div>
      <table data-testid='tap-list'><thead><tr><th>time</th><th>proxy</th><th>direction</th><th>method</th><th>authority</th><th>path</th><th>status</th><th>latency</th><th>source</th></tr></thead>
        <tbody>{events.map((e, i) => (
          <tr key={i} className={Number(e.status) >= 500 ? 'err' : ''}>
            <td>{new Date(Number(e.time ?? e.ts ?? Date.now())).toLocaleTimeString()}</td><td>{e.proxy}</td><td>{String(e.direction ?? '')}</td><td>{String(e.method ?? '')}</td><td>{String(e.authority ?? e.destination ?? '')}</td><td>{String(e.path ?? '')}</td><td>{String(e.status ?? '')}</td><td>{fmt(Number(e.durationMs ?? e.duration_ms ?? Number.NaN), 2, 'ms')}</td><td>{String(e.source ?? e.identity ?? '')}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  )
}
