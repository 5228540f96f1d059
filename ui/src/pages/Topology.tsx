import { useState } from 'react'
import { fmt, pct, usePoll } from '../api.ts'
import { Sparkline } from '../components/Sparkline.tsx'
import { useConnection } from '../connection.tsx'

interface Node { id: string, kind: 'service' | 'gateway', versions: string[], instances: number, healthy: number, versionRps?: Record<string, number>, rps?: number, successRate?: number | null, p99Ms?: number | null }
interface Edge { source: string, destination: string, protocol?: 'http' | 'grpc' | 'mixed', rps: number, successRate: number | null, p99Ms: number | null }

/**
 * The tag under an edge that carries gRPC calls (their non-OK statuses count as failures), or both; plain HTTP,
 * the common case, has none.
 */
const PROTOCOL_TAG = { http: null, grpc: 'gRPC', mixed: 'HTTP + gRPC' } as const
interface Topology { nodes: Node[], edges: Edge[], updatedAt: number }

const W = 180
const H = 80

/** Layers from the gateways along the call edges (ingress → productpage → reviews → ratings). */
function layout (t: Topology): Map<string, { x: number, y: number }> {
  const layer = new Map<string, number>()
  const queue: string[] = []
  for (const n of t.nodes) if (n.id === 'ingress') { layer.set(n.id, 0); queue.push(n.id) }
  while (queue.length > 0) {
    const id = queue.shift()!
    for (const e of t.edges) {
      if (e.source === id && !layer.has(e.destination)) { layer.set(e.destination, layer.get(id)! + 1); queue.push(e.destination) }
    }
  }
  for (const n of t.nodes) if (!layer.has(n.id)) layer.set(n.id, n.id === 'egress' ? 4 : 1)
  const columns = new Map<number, string[]>()
  for (const n of t.nodes) {
    const l = layer.get(n.id)!
    columns.set(l, [...(columns.get(l) ?? []), n.id])
  }
  const pos = new Map<string, { x: number, y: number }>()
  const layers = [...columns.keys()].sort((a, b) => a - b)
  layers.forEach((l, ci) => {
    const ids = columns.get(l)!.sort()
    ids.forEach((id, ri) => pos.set(id, { x: 20 + ci * (W + 160), y: 30 + ri * (H + 70) }))
  })
  return pos
}

export function TopologyPage () {
  const { data, error, updatedAt } = usePoll<Topology>('/topology', 2000)
  const [selected, setSelected] = useState<string | null>(null)
  const conn = useConnection()
  if (data === null) return <div className='page'>{error !== null ? <p className='error'>{error}</p> : <p>Loading topology…</p>}</div>
  const pos = layout(data)
  const width = Math.max(600, ...[...pos.values()].map(p => p.x + W + 40))
  const height = Math.max(300, ...[...pos.values()].map(p => p.y + H + 40))
  // The last numbers stay on screen, greyed and labelled, when they can no longer be refreshed (issue 19).
  const stale = error !== null || conn.server !== 'live' ? `the management server is unreachable; the graph shows data from ${new Date(updatedAt ?? 0).toLocaleTimeString()}` : conn.metricsStale ? 'the proxies\' metrics have not been scraped for a while; the numbers are old' : null
  return (
    <div className='page topology'>
      <div className={`graph-wrap${stale !== null ? ' stale' : ''}`} data-testid='graph-wrap' data-stale={stale !== null}>
        {stale !== null && <p className='stale-banner' data-testid='stale-banner'>Stale: {stale}.</p>}
        <svg className='graph' width={width} height={height} data-testid='topology'>
          <defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='6' markerHeight='6' orient='auto-start-reverse'><path d='M 0 0 L 10 5 L 0 10 z' fill='#64748b' /></marker></defs>
          {data.edges.map(e => {
            const a = pos.get(e.source)
            const b = pos.get(e.destination)
            if (a === undefined || b === undefined) return null
            const x1 = a.x + W
            const y1 = a.y + H / 2
            const x2 = b.x
            const y2 = b.y + H / 2
            const bad = e.successRate !== null && e.successRate < 0.99
            return (
              <g key={`${e.source}->${e.destination}`} className={`edge ${e.protocol ?? 'http'}`} data-edge={`${e.source}->${e.destination}`} data-protocol={e.protocol ?? 'http'}>
                <line x1={x1} y1={y1} x2={x2} y2={y2} stroke={bad ? '#dc2626' : '#64748b'} strokeWidth={1 + Math.min(4, Math.log10(1 + e.rps))} strokeDasharray={e.protocol === 'grpc' ? '6 3' : undefined} markerEnd='url(#arrow)' />
                <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 6} textAnchor='middle' className='edge-label'>{fmt(e.rps, 1)} rps · {pct(e.successRate)} · p99 {fmt(e.p99Ms, 1, 'ms')}</text>
                {PROTOCOL_TAG[e.protocol ?? 'http'] !== null && <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 + 14} textAnchor='middle' className='edge-label edge-protocol'>{PROTOCOL_TAG[e.protocol ?? 'http']}</text>}
              </g>
            )
          })}
          {data.nodes.map(n => {
            const p = pos.get(n.id)!
            const bad = n.successRate != null && n.successRate < 0.99
            return (
              <g key={n.id} className={`node ${n.kind}${selected === n.id ? ' selected' : ''}`} data-node={n.id} transform={`translate(${p.x},${p.y})`} onClick={() => setSelected(n.id)} style={{ cursor: 'pointer' }}>
                <rect width={W} height={H} rx='8' className={bad ? 'bad' : ''} />
                <text x='10' y='20' className='node-name'>{n.id}</text>
                <text x='10' y='38' className='node-sub'>{n.kind === 'gateway' ? 'gateway' : n.versions.join(' · ') || '—'} {n.instances > 0 ? `(${n.healthy}/${n.instances} up)` : ''}</text>
                <text x='10' y='55' className='node-sub'>{n.rps !== undefined ? `${fmt(n.rps, 1)} rps in · ${pct(n.successRate)} · p99 ${fmt(n.p99Ms, 1, 'ms')}` : ''}</text>
                {n.versionRps !== undefined && Object.keys(n.versionRps).length > 1 && (
                  <text x='10' y='71' className='node-sub' data-testid={`versions-${n.id}`}>{Object.entries(n.versionRps).map(([v, r]) => `${v} ${fmt(r, 1)}`).join(' · ')} rps</text>
                )}
              </g>
            )
          })}
        </svg>
      </div>
      {selected !== null && <ServicePanel name={selected} onClose={() => setSelected(null)} />}
    </div>
  )
}

function ServicePanel ({ name, onClose }: { name: string, onClose: () => void }) {
  const { data, error } = usePoll<any>(`/services/${encodeURIComponent(name)}`, 2000, [name])
  return (
    <aside className='panel' data-testid='service-panel'>
      <header><h2>{name}</h2><button type='button' onClick={onClose}>×</button></header>
      {error !== null && <p className='error'>{error}</p>}
      {data !== null && (
        <>
          <h3>Metrics over time (inbound)</h3>
          <Sparkline label='requests/s' values={data.history.map((p: any) => p.rps)} />
          <Sparkline label='success %' color='#16a34a' values={data.history.map((p: any) => p.successRate === null ? null : p.successRate * 100)} />
          <Sparkline label='p99 ms' color='#d97706' values={data.history.map((p: any) => p.p99Ms)} />
          <h3>Routes ({data.routes.length})</h3>
          <ul>{data.routes.map((r: any) => <li key={`${r.kind}/${r.metadata.name}`}><code>{r.kind}/{r.metadata.name}</code> — {r.spec.rules.map((rule: any) => rule.backendRefs.map((b: any) => `${b.name}:${b.weight}`).join(', ')).join(' | ')}</li>)}</ul>
          <h3>Policies ({data.policies.length})</h3>
          <ul>{data.policies.map((p: any) => <li key={`${p.kind}/${p.metadata.name}`}><code>{p.kind}/{p.metadata.name}</code></li>)}</ul>
          <h3>Proxies ({data.proxies.length})</h3>
          <table><thead><tr><th>id</th><th>version</th><th>connected</th><th>config</th><th>healthy</th></tr></thead>
            <tbody>{data.proxies.map((p: any) => <tr key={p.id}><td>{p.id}</td><td>{p.version ?? ''}</td><td>{p.connected ? 'yes' : 'no'}</td><td>{p.ackedVersion ?? '–'}{p.lastNack ? ` (NACK: ${p.lastNack})` : ''}</td><td>{p.healthy === false ? 'no' : 'yes'}</td></tr>)}</tbody>
          </table>
          <h3>Callers</h3>
          <ul>{data.callers.map((e: any) => <li key={e.source}>{e.source}: {fmt(e.rps)} rps, {pct(e.successRate)}, p99 {fmt(e.p99Ms, 1, 'ms')}</li>)}</ul>
        </>
      )}
    </aside>
  )
}
