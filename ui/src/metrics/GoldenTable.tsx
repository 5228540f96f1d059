import { useState } from 'react'
import type { GoldenBy, GoldenRow } from '../../../src/management/golden-tables.ts'
import { fmtMs, fmtNum, fmtPct, health } from '../topology/model.ts'

// The API's row type is src/management/golden-tables.ts's: one definition for server and UI.
export type { GoldenBy, GoldenRow }

interface Column { id: string, title: string, numeric: boolean, get: (r: GoldenRow) => string | number | null, show: (r: GoldenRow) => string }

const NAME: Record<GoldenBy, Column[]> = {
  service: [{ id: 'service', title: 'Service', numeric: false, get: r => r.service, show: r => r.service }],
  workload: [
    { id: 'workload', title: 'Workload', numeric: false, get: r => r.workload ?? r.key, show: r => r.workload ?? r.key },
    { id: 'service', title: 'Service', numeric: false, get: r => r.service, show: r => r.service },
    { id: 'version', title: 'Version', numeric: false, get: r => r.version ?? '', show: r => r.version ?? '' }
  ],
  route: [
    { id: 'route', title: 'Route', numeric: false, get: r => r.route ?? '', show: r => r.route ?? '' },
    { id: 'service', title: 'Service', numeric: false, get: r => r.service, show: r => r.service }
  ],
  source: [
    { id: 'source', title: 'From', numeric: false, get: r => r.source ?? '', show: r => r.source ?? '' },
    { id: 'service', title: 'To', numeric: false, get: r => r.service, show: r => r.service }
  ]
}
const SIGNALS: Column[] = [
  { id: 'successRate', title: 'Success', numeric: true, get: r => r.successRate, show: r => fmtPct(r.successRate) },
  { id: 'rps', title: 'RPS', numeric: true, get: r => r.rps, show: r => fmtNum(r.rps, 2) },
  { id: 'p50Ms', title: 'P50', numeric: true, get: r => r.p50Ms, show: r => fmtMs(r.p50Ms) },
  { id: 'p95Ms', title: 'P95', numeric: true, get: r => r.p95Ms, show: r => fmtMs(r.p95Ms) },
  { id: 'p99Ms', title: 'P99', numeric: true, get: r => r.p99Ms, show: r => fmtMs(r.p99Ms) }
]

/** Compare for a sort: nulls (no traffic) always last, numbers numerically, names by locale. */
export function compareRows (a: string | number | null, b: string | number | null, dir: 1 | -1): number {
  if (a === null || a === '') return b === null || b === '' ? 0 : 1
  if (b === null || b === '') return -1
  return (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))) * dir
}

/**
 * A Linkerd-viz-style stat table: one row per service / workload / route / source, sortable by any column (the header
 * buttons, so Tab + Enter sorts too; `aria-sort` says the order). A row can be picked for its charts.
 */
export function GoldenTable ({ by, rows, selected, onSelect }: { by: GoldenBy, rows: GoldenRow[], selected: string | null, onSelect: (key: string) => void }) {
  const columns = [...NAME[by], ...SIGNALS]
  const [sort, setSort] = useState<{ id: string, dir: 1 | -1 }>({ id: columns[0].id, dir: 1 })
  const col = columns.find(c => c.id === sort.id) ?? columns[0]
  const sorted = [...rows].sort((a, b) => compareRows(col.get(a), col.get(b), sort.dir) || a.key.localeCompare(b.key))
  return (
    <table className='golden' data-testid='golden-table' data-by={by}>
      <thead>
        <tr>
          {columns.map(c => (
            <th key={c.id} aria-sort={sort.id === c.id ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'} className={c.numeric ? 'num' : ''}>
              <button type='button' className='sort' data-sort={c.id} onClick={() => setSort(s => ({ id: c.id, dir: s.id === c.id ? (s.dir === 1 ? -1 : 1) : (c.numeric ? -1 : 1) }))}>
                {c.title}<span aria-hidden='true' className='sort-mark'>{sort.id === c.id ? (sort.dir === 1 ? '▲' : '▼') : ''}</span>
              </button>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {sorted.length === 0 && <tr><td colSpan={columns.length} className='muted'>No traffic seen yet: the table fills as the proxies' metrics are scraped.</td></tr>}
        {sorted.map(r => (
          <tr key={r.key} data-key={r.key} className={`${selected === r.key ? 'selected' : ''} health-${health(r.successRate, r.rps)}`}>
            {columns.map((c, i) => (
              <td key={c.id} className={c.numeric ? 'num' : ''} data-col={c.id}>
                {i === 0
                  ? <button type='button' className='link' onClick={() => onSelect(r.key)} aria-pressed={selected === r.key}>{c.show(r)}</button>
                  : c.id === 'successRate' ? <span className='sr'><i className={`sw ${health(r.successRate, r.rps)}`} /> {c.show(r)}</span> : c.show(r)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}
