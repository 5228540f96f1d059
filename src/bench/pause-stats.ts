/**
 * Pauses of a Meshwork proxy over a measured window, from two scrapes of its admin /metrics
 * (src/dataplane/telemetry/pause-metrics.ts, heap-trim.ts): GC pauses by kind, the heap trim's full
 * collections, and the event-loop delay distribution. bench/tail-latency.ts prints them per sidecar.
 *
 * @example
 * const before = parsePrometheus(await (await fetch(url)).text())
 * … run …
 * const p = pausesBetween(before, parsePrometheus(await (await fetch(url)).text()), seconds)
 */

/** `series{labels}` → value, as rendered (label order kept). */
export type MetricSamples = Map<string, number>

/** Parses the text exposition format into series → value (comments skipped). */
export function parsePrometheus (text: string): MetricSamples {
  const out: MetricSamples = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    if (i <= 0) continue
    const v = Number(line.slice(i + 1))
    if (Number.isFinite(v) || line.endsWith('+Inf') || line.endsWith('NaN')) out.set(line.slice(0, i), v)
  }
  return out
}

/** One GC kind over a window. */
export interface GcKindPauses {
  kind: string
  count: number
  totalMs: number
  meanMs: number
  /** Upper bound of the highest bucket that gained an observation (ms; Infinity above the last bound). */
  maxBucketMs: number
}

export interface ProxyPauses {
  /** GC pauses by kind (forced collections — the heap trim's — as `<kind>-forced`). */
  gc: GcKindPauses[]
  /** Share of the window spent in GC pauses. */
  gcShare: number
  heapTrims: number
  heapTrimMs: number
  /** Event-loop delay samples in the window and their distribution (bucket upper bounds, ms). */
  loopSamples: number
  loopP50Ms: number
  loopP99Ms: number
  loopMaxBucketMs: number
  /** Share of delay samples above 1 ms. */
  loopOver1msShare: number
}

const GC = 'nodejs_gc_duration_seconds'
const LOOP = 'nodejs_eventloop_delay_seconds'

interface Buckets { le: number[], counts: number[] }

/** Cumulative bucket counts of one histogram series (labels without `le`, as rendered), after − before. */
function bucketDelta (before: MetricSamples, after: MetricSamples, name: string, labels: string): Buckets {
  const prefix = `${name}_bucket{${labels === '' ? '' : labels + ','}le="`
  const le: number[] = []
  const counts: number[] = []
  for (const [k, v] of after) {
    if (!k.startsWith(prefix)) continue
    const bound = k.slice(prefix.length, -2)
    le.push(bound === '+Inf' ? Number.POSITIVE_INFINITY : Number(bound))
    counts.push(Math.max(0, v - (before.get(k) ?? 0)))
  }
  const order = le.map((_, i) => i).sort((a, b) => le[a] - le[b])
  return { le: order.map(i => le[i]), counts: order.map(i => counts[i]) }
}

/** Upper bound (ms) of the bucket holding quantile q of a cumulative bucket delta; NaN without samples. */
function quantileBound (b: Buckets, q: number): number {
  const n = b.counts.at(-1) ?? 0
  if (n <= 0) return Number.NaN
  for (let i = 0; i < b.le.length; i++) if (b.counts[i] >= q * n) return b.le[i] * 1000
  return Number.POSITIVE_INFINITY
}

/** Upper bound (ms) of the highest bucket that gained a sample. */
function maxBound (b: Buckets): number {
  const n = b.counts.at(-1) ?? 0
  if (n <= 0) return 0
  for (let i = 0; i < b.le.length; i++) if (b.counts[i] >= n) return b.le[i] * 1000
  return Number.POSITIVE_INFINITY
}

const delta = (before: MetricSamples, after: MetricSamples, k: string): number => Math.max(0, (after.get(k) ?? 0) - (before.get(k) ?? 0))

/** Pauses between two scrapes of one proxy, over a window of `seconds`. */
export function pausesBetween (before: MetricSamples, after: MetricSamples, seconds: number): ProxyPauses {
  const gc: GcKindPauses[] = []
  let gcSeconds = 0
  for (const k of after.keys()) {
    const m = /^nodejs_gc_duration_seconds_count\{(.*)\}$/.exec(k)
    if (m === null) continue
    const labels = m[1]
    const count = delta(before, after, k)
    if (count === 0) continue
    const sum = delta(before, after, `${GC}_sum{${labels}}`)
    gcSeconds += sum
    const kind = /kind="([^"]*)"/.exec(labels)?.[1] ?? '?'
    const forced = /forced="true"/.test(labels)
    gc.push({ kind: forced ? `${kind}-forced` : kind, count, totalMs: sum * 1000, meanMs: (sum * 1000) / count, maxBucketMs: maxBound(bucketDelta(before, after, GC, labels)) })
  }
  gc.sort((a, b) => b.totalMs - a.totalMs)
  const loop = bucketDelta(before, after, LOOP, '')
  const loopSamples = loop.counts.at(-1) ?? 0
  const i1 = loop.le.indexOf(0.001)
  return {
    gc,
    gcShare: seconds > 0 ? gcSeconds / seconds : Number.NaN,
    heapTrims: delta(before, after, 'nodejs_heap_trims_total'),
    heapTrimMs: delta(before, after, 'nodejs_heap_trim_seconds_total') * 1000,
    loopSamples,
    loopP50Ms: quantileBound(loop, 0.5),
    loopP99Ms: quantileBound(loop, 0.99),
    loopMaxBucketMs: maxBound(loop),
    loopOver1msShare: loopSamples > 0 && i1 >= 0 ? (loopSamples - loop.counts[i1]) / loopSamples : Number.NaN
  }
}

/** One line: `minor 41×0.32 ms (≤0.5) · major-forced 1×8.9 ms (≤10) · trim 1 (8.9 ms) · loop p99 ≤2 ms max ≤10 ms, >1 ms 0.4%`. */
export function formatPauses (p: ProxyPauses): string {
  const ms = (x: number): string => Number.isFinite(x) ? (x < 1 ? x.toFixed(2) : x.toFixed(1)) : '∞'
  const kinds = p.gc.map(g => `${g.kind} ${g.count}×${ms(g.meanMs)} ms (max ≤${ms(g.maxBucketMs)})`).join(' · ') || 'no GC'
  const loop = p.loopSamples > 0
    ? `loop delay p50 ≤${ms(p.loopP50Ms)} p99 ≤${ms(p.loopP99Ms)} max ≤${ms(p.loopMaxBucketMs)} ms, >1 ms ${(p.loopOver1msShare * 100).toFixed(1)}% of ${p.loopSamples}`
    : 'no loop samples'
  return `${kinds} · GC ${(p.gcShare * 100).toFixed(2)}% of time · trims ${p.heapTrims}${p.heapTrims > 0 ? ` (${ms(p.heapTrimMs)} ms)` : ''} · ${loop}`
}
