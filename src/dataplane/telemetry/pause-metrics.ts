/**
 * Pause metrics: where a proxy's tail latency comes from. A request that arrives while the event loop is
 * stopped (a GC pause, a long callback, a trim's full collection) waits for it, so these are the proxy-side
 * causes of a p99 that the request path itself does not explain (bench/tail-latency.ts prints them).
 *
 *   nodejs_gc_duration_seconds{kind}      histogram, one observation per V8 collection (PerformanceObserver 'gc'):
 *                                         kind = minor (scavenge) | major (mark-compact) | incremental (a marking
 *                                         step) | weakcb (weak callbacks); `forced="true"` for gc() calls (the heap trim)
 *   nodejs_eventloop_delay_seconds        histogram since start (monitorEventLoopDelay, sampled every
 *                                         `resolutionMs`): how late the loop ran a timer (the monitor's interval minus the resolution), i.e. the stalls a request
 *                                         arriving at a random time waits for; buckets read from the HDR histogram
 *                                         at scrape time (counts ≤ each bound, so the rate between two scrapes is
 *                                         the distribution of that window)
 *
 * Cost: the observer allocates one entry per collection (a few per second under load), the delay monitor is
 * one libuv timer; nothing runs per request.
 *
 * @example const stop = registerPauseMetrics(registry)
 */
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import type { HistogramChild, Registry } from './metrics.ts'

/** Buckets of the pause histograms, seconds: 50 µs … 100 ms (pauses of interest sit between 0.1 and 20 ms). */
export const PAUSE_BUCKETS: readonly number[] = Object.freeze([0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1])

export interface PauseMetricsOptions {
  /** Sampling interval of the event-loop delay monitor, ms (default 10). */
  resolutionMs?: number
}

/** GC kind label for a `gc` performance entry's `detail.kind`. */
export function gcKindName (kind: number): string {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MINOR: return 'minor'
    case constants.NODE_PERFORMANCE_GC_MAJOR: return 'major'
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL: return 'incremental'
    case constants.NODE_PERFORMANCE_GC_WEAKCB: return 'weakcb'
    default: return 'other'
  }
}

/** Registers the two families on `registry`; returns a stop function (observer disconnected, monitor disabled). */
export function registerPauseMetrics (registry: Registry, o: PauseMetricsOptions = {}): () => void {
  const gc = registry.histogram('nodejs_gc_duration_seconds', 'Garbage collection pauses by kind (minor = scavenge, major = mark-compact), seconds; forced = gc() calls (the heap trim).', ['kind', 'forced'], PAUSE_BUCKETS)
  const delay = registry.histogram('nodejs_eventloop_delay_seconds', 'Event-loop delay since start (monitorEventLoopDelay samples: how late a timer ran), seconds.', [], PAUSE_BUCKETS)
  const children = new Map<string, HistogramChild>()
  const childFor = (kind: number, forced: boolean): HistogramChild => {
    const key = `${kind}|${forced}`
    let c = children.get(key)
    if (c === undefined) { c = gc.labels(gcKindName(kind), String(forced)); children.set(key, c) }
    return c
  }
  const observer = new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const d = (e as PerformanceEntry & { detail?: { kind?: number, flags?: number } }).detail
      const forced = ((d?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0
      childFor(d?.kind ?? 0, forced).observe(e.duration / 1000)
    }
  })
  observer.observe({ entryTypes: ['gc'] })

  const resolutionMs = o.resolutionMs ?? 10
  const loop = monitorEventLoopDelay({ resolution: resolutionMs })
  loop.enable()
  // The monitor records the interval between two runs of its timer (resolution + lateness): the delay is
  // the value minus the resolution.
  const offsetNs = resolutionMs * 1e6
  const bounds = PAUSE_BUCKETS.map(b => b * 1e9 + offsetNs)
  const child = delay.labels()
  registry.onScrape(() => fillFromHdr(child, loop, bounds, offsetNs))

  return () => {
    observer.disconnect()
    loop.disable()
  }
}

/**
 * Sets a histogram child from an HDR histogram (values in ns, `offsetNs` subtracted from each): per bound, the samples ≤ bound are
 * count × the highest percentile whose value is ≤ bound, found by bisection on `percentile()` (the
 * histogram's own `percentiles` map steps by halves of the remaining distance: too coarse for a tail).
 */
export function fillFromHdr (child: HistogramChild, h: { count: number, mean: number, percentile: (p: number) => number }, boundsNs: readonly number[], offsetNs = 0): void {
  const n = h.count
  child.count = n
  child.sum = n > 0 && Number.isFinite(h.mean) ? (Math.max(0, h.mean - offsetNs) * n) / 1e9 : 0
  let prev = 0
  for (let i = 0; i < boundsNs.length; i++) {
    const le = n === 0 ? 0 : Math.min(n, Math.max(prev, Math.round(fractionAtOrBelow(h, boundsNs[i]) * n)))
    child.counts[i] = le - prev
    prev = le
  }
  child.counts[boundsNs.length] = n - prev
}

function fractionAtOrBelow (h: { percentile: (p: number) => number }, bound: number): number {
  if (h.percentile(100) <= bound) return 1
  if (h.percentile(0.000001) > bound) return 0
  let lo = 0.000001
  let hi = 100
  // 1/count resolution is enough: 30 halvings of 100 % reach 1e-7 %
  for (let k = 0; k < 30 && hi - lo > 1e-7; k++) {
    const mid = (lo + hi) / 2
    if (h.percentile(mid) <= bound) lo = mid
    else hi = mid
  }
  return lo / 100
}
