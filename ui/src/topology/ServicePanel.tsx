import { useState } from 'react'
import { usePoll } from '../api.ts'
import { type GoldenRow, GoldenTable } from '../metrics/GoldenTable.tsx'
import { GoldenCharts, RangePicker, type RANGES } from '../metrics/MetricsPage.tsx'
import { fmtMs, fmtNum, fmtPct } from './model.ts'

interface Proxy { id: string, version?: string, connected: boolean, ackedVersion?: string, lastNack?: string, healthy?: boolean, identity?: string, attestation?: string, certNotAfter?: string }

/** When a certificate expires, relative to now ("in 3 h", "expired"). */
function expiry (iso: string): string {
  const ms = Date.parse(iso) - Date.now()
  if (Number.isNaN(ms)) return iso
  if (ms <= 0) return `${iso} (expired)`
  const h = ms / 3_600_000
  return `${iso} (in ${h < 48 ? `${h.toFixed(1)} h` : `${Math.round(h / 24)} d`})`
}

/** A workload's identity as the proxies API reports it; fields the API does not carry are not shown. */
function Identity ({ proxies }: { proxies: Proxy[] }) {
  const withId = proxies.filter(p => p.identity !== undefined || p.attestation !== undefined || p.certNotAfter !== undefined)
  if (withId.length === 0) return null
  return (
    <>
      <h3>Identity</h3>
      <dl className='identity' data-testid='identity'>
        {withId.map(p => (
          <div key={p.id} data-proxy={p.id}>
            <dt>{p.id}</dt>
            {p.identity !== undefined && <dd><span className='muted'>SPIFFE ID</span> <code data-field='identity'>{p.identity}</code></dd>}
            {p.attestation !== undefined && <dd><span className='muted'>attested by</span> <span data-field='attestation'>{p.attestation}</span></dd>}
            {p.certNotAfter !== undefined && <dd><span className='muted'>certificate expires</span> <span data-field='certNotAfter'>{expiry(p.certNotAfter)}</span></dd>}
          </div>
        ))}
      </dl>
    </>
  )
}

export function ServicePanel ({ name, onClose, fixture }: { name: string, onClose: () => void, fixture?: unknown }) {
  const polled = usePoll<any>(fixture === undefined ? `/services/${encodeURIComponent(name)}` : null, 2000, [name])
  const [range, setRange] = useState<typeof RANGES[number]>('5m')
  const callers = usePoll<{ rows: GoldenRow[] }>(`/metrics/golden?by=source&service=${encodeURIComponent(name)}`, 2000, [name])
  const data = fixture ?? polled.data
  const error = fixture === undefined ? polled.error : null
  return (
    <aside className='panel' data-testid='service-panel' aria-label={`service ${name}`}>
      <header><h2>{name}</h2><button type='button' onClick={onClose} aria-label='close panel'>×</button></header>
      {error !== null && <p className='error'>{error}</p>}
      {data !== null && data !== undefined && (
        <>
          <Identity proxies={data.proxies} />
          <div className='panel-charts-head'><h3>Metrics over time (inbound)</h3><RangePicker range={range} onRange={setRange} /></div>
          <GoldenCharts by='service' rowKey={name} range={range} />
          <h3>By source</h3>
          <GoldenTable by='source' rows={callers.data?.rows ?? []} selected={null} onSelect={() => {}} />
          <h3>Routes ({data.routes.length})</h3>
          <ul>{data.routes.map((r: any) => <li key={`${r.kind}/${r.metadata.name}`}><code>{r.kind}/{r.metadata.name}</code> — {r.spec.rules.map((rule: any) => rule.backendRefs.map((b: any) => `${b.name}:${b.weight}`).join(', ')).join(' | ')}</li>)}</ul>
          <h3>Policies ({data.policies.length})</h3>
          <ul>{data.policies.map((p: any) => <li key={`${p.kind}/${p.metadata.name}`}><code>{p.kind}/{p.metadata.name}</code></li>)}</ul>
          <h3>Proxies ({data.proxies.length})</h3>
          <table><thead><tr><th>id</th><th>version</th><th>connected</th><th>config</th><th>healthy</th></tr></thead>
            <tbody>{(data.proxies as Proxy[]).map(p => <tr key={p.id}><td>{p.id}</td><td>{p.version ?? ''}</td><td>{p.connected ? 'yes' : 'no'}</td><td>{p.ackedVersion ?? '–'}{p.lastNack ? ` (NACK: ${p.lastNack})` : ''}</td><td>{p.healthy === false ? 'no' : 'yes'}</td></tr>)}</tbody>
          </table>
          <h3>Callers</h3>
          <ul>{data.callers.map((e: any) => <li key={e.source}>{e.source}: {fmtNum(e.rps)} rps, {fmtPct(e.successRate)}, p99 {fmtMs(e.p99Ms)}</li>)}</ul>
        </>
      )}
    </aside>
  )
}
