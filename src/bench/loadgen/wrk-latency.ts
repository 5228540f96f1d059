import { createHistogram, type LatencyHistogram } from './histogram.ts'

/**
 * wrk ≥ 4.0 (Debian's 4.1.0 included) does not print the latencies it measured. After the run it
 * "corrects" them for coordinated omission, closed loop or not (src/wrk.c `main`, src/stats.c
 * `stats_correct`):
 *
 *   interval = runtime_us / (complete / connections)      // a connection's mean request cycle, µs
 *   for every recorded latency n ≥ 2·interval:           // add one synthetic sample at each of
 *     n − interval, n − 2·interval, … while > interval     // n − k·interval that is still > interval
 *
 * and its mean, stdev and percentiles (`--latency`) are those of the corrected distribution. A stall of
 * the machine or of wrk itself (tens of ms on a loaded 2-core box) adds dozens of synthetic samples per
 * connection, all above `interval`; when the median is below `interval` (a saturated target in closed
 * loop: p50 < N/throughput) they push wrk's p50 up. The functions below read wrk's whole histogram
 * through a `done()` script and undo the correction exactly, so the measured latencies can be compared
 * like with like.
 */

/**
 * A wrk `done()` hook writing `duration_us requests` and then `latency_us count` for each non-empty
 * µs bucket (wrk 4: `#latency` is the number of non-empty buckets, `latency(i)` the i-th one's value
 * and count) to the file named by WRK_LATENCY_OUT. It defines neither `request` nor `response`, so wrk
 * keeps its static request and does not parse headers: the hot path is the same as without a script.
 */
export const WRK_DUMP_SCRIPT = `
done = function(summary, latency, requests)
  local f = assert(io.open(os.getenv("WRK_LATENCY_OUT"), "w"))
  f:write(summary.duration, " ", summary.requests, "\\n")
  for i = 1, #latency do
    local us, count = latency(i)
    f:write(us, " ", count, "\\n")
  end
  f:close()
end
`

/** wrk's latency histogram: exact µs buckets (`counts[us]`) and what the correction interval is computed from. */
export interface WrkLatencyDump {
  runtimeUs: number
  complete: number
  counts: Map<number, number>
}

/** Parse the file written by `WRK_DUMP_SCRIPT`. */
export function parseWrkDump (text: string): WrkLatencyDump {
  const lines = text.trim().split('\n')
  const [runtimeUs, complete] = lines[0].split(' ').map(Number)
  const counts = new Map<number, number>()
  for (let i = 1; i < lines.length; i++) {
    const [us, n] = lines[i].split(' ').map(Number)
    counts.set(us, n)
  }
  return { runtimeUs, complete, counts }
}

/** The interval wrk corrects with, as wrk computes it (integer arithmetic). 0 = no correction. */
export function wrkInterval (runtimeUs: number, complete: number, connections: number): number {
  const perConnection = Math.floor(complete / connections)
  return perConnection > 0 ? Math.floor(runtimeUs / perConnection) : 0
}

/**
 * wrk's `stats_correct` applied to exact µs counts (a new map). Buckets are visited in ascending order
 * and only add below themselves, so each measured sample adds its synthetic ones exactly once.
 */
export function correctLikeWrk (counts: Map<number, number>, interval: number): Map<number, number> {
  const out = new Map(counts)
  if (interval <= 0) return out
  const keys = [...counts.keys()].sort((a, b) => a - b)
  for (const n of keys) {
    if (n < 2 * interval) continue
    const c = counts.get(n)!
    for (let m = n - interval; m > interval; m -= interval) out.set(m, (out.get(m) ?? 0) + c)
  }
  return out
}

/**
 * Undo `correctLikeWrk`: corrected[m] = measured[m] + Σ_{k ≥ 1} measured[m + k·interval] for m > interval,
 * so walking down from the largest value, measured[m] = corrected[m] − (sum of the measured counts
 * already recovered at m + interval, m + 2·interval, …).
 */
export function uncorrectWrk (corrected: Map<number, number>, interval: number): Map<number, number> {
  if (interval <= 0) return new Map(corrected)
  const keys = [...corrected.keys()].sort((a, b) => b - a)
  const measured = new Map<number, number>()
  /** suffix[m] = Σ_{k ≥ 0} measured[m + k·interval], filled as the walk goes down. */
  const suffix = new Map<number, number>()
  const max = keys.length > 0 ? keys[0] : 0
  // Every value m > interval needs the suffix at m + interval, including values with no bucket of their own.
  for (let m = max; m >= 0; m--) {
    const above = suffix.get(m + interval) ?? 0
    const c = corrected.get(m) ?? 0
    const r = m > interval ? c - above : c
    if (r > 0) measured.set(m, r)
    if (r + above > 0) suffix.set(m, r + above)
  }
  return measured
}

/** Percentile of exact µs counts with wrk's rule (`stats_percentile`: the smallest value whose rank reaches p% of the count). */
export function percentileUs (counts: Map<number, number>, p: number): number {
  let total = 0
  for (const c of counts.values()) total += c
  const rank = Math.round((p / 100) * total + 0.5)
  const keys = [...counts.keys()].sort((a, b) => a - b)
  let seen = 0
  for (const k of keys) {
    seen += counts.get(k)!
    if (seen >= rank) return k
  }
  return keys.length > 0 ? keys[keys.length - 1] : 0
}

/**
 * Our histogram with the correction wrk applies (HdrHistogram's expected-interval correction, which is
 * wrk's `stats_correct` up to bucket resolution): what wrk would print for the same measured latencies.
 * `intervalUs` is a connection's mean request cycle: measured phase × connections / requests.
 */
export function correctHistogramLikeWrk (h: LatencyHistogram, intervalUs: number): LatencyHistogram {
  if (!(intervalUs >= 1)) return h
  const c = h.copyCorrectedForCoordinatedOmission(Math.round(intervalUs))
  const out = createHistogram()
  out.add(c)
  return out
}
