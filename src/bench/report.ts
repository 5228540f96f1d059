import type { Ceiling } from './ceiling.ts'
import type { LoadProgress } from './loadgen/run.ts'
import type { SearchResult } from './search.ts'
import type { PerformanceTestResult } from './smp.ts'
import type { ResultRow } from './store.ts'
import type { ScenarioSummary } from './suite.ts'
import type { SweepCell } from './sweep.ts'

/** Plain-text tables for the CLI (the UI renders the same data itself). */

export function table (head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join('  ').trimEnd()
  return [line(head), line(w.map(n => '-'.repeat(n))), ...rows.map(line)].join('\n')
}

const f = (x: number, d = 2): string => Number.isFinite(x) ? x.toFixed(d) : '-'
const fx = (x: number): string => Number.isFinite(x) ? `${x.toFixed(2)}x` : '-'
const mb = (b: number): string => Number.isFinite(b) ? `${(b / 1048576).toFixed(1)}` : '-'
/** Latency added over no-mesh, ms, signed (`+0.214`). */
const added = (x: number): string => Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : '-'
const int = (x: number): string => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-'

/** One progress line: `[#####.....]  45%  measure  12,345 req  9,876 rps  0 err`. */
export function progressLine (p: LoadProgress, label = '', width = 30): string {
  const frac = p.totalMs > 0 ? Math.min(1, p.elapsedMs / p.totalMs) : 0
  const n = Math.round(frac * width)
  return `${label ? label + ' ' : ''}[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${p.phase.padEnd(7)} ${int(p.measured)} req  ${int(p.rps)} rps  ${int(p.errors)} err`
}

/** A single result (SMP) as a short report. */
export function formatResult (r: PerformanceTestResult): string {
  const m = r.meshwork
  const c = r.config.clients[0]
  const lines = [
    `id ${r.id}  ${r.config.name}  mesh ${r.mesh_config.type}${r.mesh_config.version ? ' ' + r.mesh_config.version : ''}  ${r.start_time}`,
    `target ${c?.endpoint_urls.join(', ') ?? ''}  ${m.mode}${c?.rps ? ` @ ${c.rps}/s` : ''}  ${c?.connections ?? '?'} connections  ${c?.protocol === 'grpc' ? `gRPC (${m.http_version}, ${m.grpc_message_bytes ?? 0}-byte messages)` : m.http_version}  ${m.duration_ms} ms measured`,
    `requests ${int(m.requests)}  throughput ${f(r.actual_qps, 1)}/s  errors ${(m.error_ratio * 100).toFixed(2)}%  codes ${JSON.stringify(m.ret_codes)}${Object.keys(m.errors).length ? `  failures ${JSON.stringify(m.errors)}` : ''}`,
    table(['latency ms', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'], [['', f(r.latencies.min, 3), f(r.latencies.p50, 3), f(r.latencies.p90, 3), f(r.latencies.p99, 3), f(m.p999, 3), f(r.latencies.max, 3), f(r.latencies.average, 3)]])
  ]
  if (m.proxies.length > 0) {
    lines.push(table(['proxy', 'cpu cores', 'cpu µs/req', 'rss MB', 'peak MB'], m.proxies.map(p => [p.name, f(p.cpuCores), f(p.cpuUsPerRequest, 1), mb(p.rssBytes), mb(p.peakRssBytes)])))
  }
  if (m.stopped) lines.push(`partial result: ${m.stopped}`)
  return lines.join('\n')
}

/** The suite table: medians and ratios to no-mesh, then proxy CPU and memory. */
export function formatSuite (s: ScenarioSummary[], repeat: number): string {
  const main = table(
    ['scenario', 'runs', 'rps', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'rps/base', 'p50/base', 'p99/base', '+p50 ms', '+p90 ms', '+p99 ms'],
    s.map(x => [x.scenario, `${x.runs}/${repeat}`, int(x.qps), f(x.p50, 3), f(x.p90, 3), f(x.p99, 3), f(x.p999, 3), fx(x.qpsRatio), fx(x.p50Ratio), fx(x.p99Ratio), added(x.p50AddedMs), added(x.p90AddedMs), added(x.p99AddedMs)])
  )
  const prow: string[][] = []
  for (const x of s) for (const p of x.proxies) prow.push([x.scenario, p.name, f(p.cpuCores), f(p.cpuUsPerRequest, 1), mb(p.rssBytes), mb(p.peakRssBytes)])
  const proxies = prow.length > 0 ? '\n\n' + table(['scenario', 'proxy', 'cpu cores', 'cpu µs/req', 'rss MB', 'peak rss MB'], prow) : ''
  return `medians of ${repeat} interleaved rounds; ratios to no-mesh; +p50/+p90/+p99: latency added over no-mesh (scenario median − no-mesh median)\n${main}${proxies}`
}

/** The talk's table: rows = scenario, columns = connections; p50, ratio to lowest concurrency, ratio to no mesh. */
export function formatSweep (cells: SweepCell[], levels: number[]): string {
  const scenarios = [...new Set(cells.map(c => c.scenario))]
  const get = (s: string, c: number): SweepCell | undefined => cells.find(x => x.scenario === s && x.connections === c)
  const head = ['scenario', ...levels.map(c => `c=${c}`)]
  const block = (title: string, pick: (c: SweepCell) => string): string =>
    `${title}\n${table(head, scenarios.map(s => [s, ...levels.map(c => { const x = get(s, c); return x ? pick(x) : '-' })]))}`
  return [
    block('p50 latency (ms)', c => f(c.p50, 3)),
    block(`latency ratio to c=${levels[0]} (same scenario)`, c => fx(c.latencyRatioToLowest)),
    block('overhead ratio to no-mesh (p50, same concurrency)', c => fx(c.overheadRatioToNoMesh)),
    block('throughput (rps)', c => int(c.qps)),
    block('p99 latency (ms)', c => f(c.p99, 3))
  ].join('\n\n')
}

export function formatSearch (r: SearchResult): string {
  return [
    `highest rate for ${r.scenario} with p99 ≤ ${r.sloP99Ms} ms: ${int(r.maxRate)}/s`,
    table(['probe', 'rate', 'actual rps', 'p99 ms', 'verdict'], r.probes.map((p, i) => [String(i + 1), int(p.rate), int(p.actualQps), f(p.p99, 3), p.pass ? 'pass' : `fail (${p.reason})`]))
  ].join('\n')
}

export function formatCeiling (c: Ceiling): string {
  return `load generator ceiling: ${int(c.rps)} rps closed loop, p50 ${f(c.latency.p50, 3)} ms (${c.connections} connections, ${c.threads} threads, raw in-process target)`
}

export function formatList (rows: ResultRow[]): string {
  return table(['id', 'created', 'scenario', 'mesh', 'rps', 'p50 ms', 'p99 ms', 'source', 'group'],
    rows.map(r => [r.id.slice(0, 8), r.createdAt.replace('T', ' ').slice(0, 19), r.scenario, r.mesh, int(r.actualQps), f(r.p50, 3), f(r.p99, 3), r.source, r.group?.slice(0, 8) ?? '']))
}

/** Side by side, ratios to the first result. */
export function formatCompare (rs: PerformanceTestResult[]): string {
  const base = rs[0]
  return table(['id', 'scenario', 'mesh', 'rps', 'p50 ms', 'p90 ms', 'p99 ms', 'rps/first', 'p50/first', 'p99/first'],
    rs.map(r => [r.id.slice(0, 8), r.meshwork.scenario, r.mesh_config.type, int(r.actual_qps), f(r.latencies.p50, 3), f(r.latencies.p90, 3), f(r.latencies.p99, 3),
      fx(r.actual_qps / base.actual_qps), fx(r.latencies.p50 / base.latencies.p50), fx(r.latencies.p99 / base.latencies.p99)]))
}

/** One group (suite run) for `bench compare <group> <group>…`: its id, name and per-scenario medians. */
export interface GroupSummary { id: string, name: string, summary: ScenarioSummary[] }

/**
 * Groups side by side: per scenario, the medians of each group and their ratio to the same scenario
 * in the first group (runs of the UI and of `bench suite` are groups).
 */
export function formatGroupCompare (groups: GroupSummary[]): string {
  const first = new Map(groups[0].summary.map(s => [s.scenario, s]))
  const rows: string[][] = []
  for (const g of groups) {
    for (const s of g.summary) {
      const b = first.get(s.scenario)
      rows.push([g.id.slice(0, 8), s.scenario, String(s.runs), int(s.qps), f(s.p50, 3), f(s.p90, 3), f(s.p99, 3),
        b ? fx(s.qps / b.qps) : '-', b ? fx(s.p50 / b.p50) : '-', b ? fx(s.p99 / b.p99) : '-'])
    }
  }
  const names = groups.map(g => `  ${g.id.slice(0, 8)}  ${g.name}`).join('\n')
  return `groups (ratios to the same scenario in the first group):\n${names}\n${table(['group', 'scenario', 'runs', 'rps', 'p50 ms', 'p90 ms', 'p99 ms', 'rps/first', 'p50/first', 'p99/first'], rows)}`
}
