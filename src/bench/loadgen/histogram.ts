import * as hdr from 'hdr-histogram-js'

/** Latencies are recorded in microseconds, from 1 µs to 60 s, 3 significant digits. */
export const HIGHEST_TRACKABLE_US = 60_000_000

export type LatencyHistogram = hdr.Histogram

/** A fresh latency histogram (pure JS: no WebAssembly set-up per worker). */
export function createHistogram (): LatencyHistogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3, useWebAssembly: false, autoResize: false })
}

/** Record one latency in µs; values beyond the range are clamped so nothing is lost. */
export function recordUs (h: LatencyHistogram, us: number): void {
  h.recordValue(us < 1 ? 1 : us > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : Math.round(us))
}

/** Compressed base64 (the standard HdrHistogram encoding, readable by other HdrHistogram libraries). */
export function encodeHistogram (h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h)
}

export function decodeHistogram (b64: string): LatencyHistogram {
  const decoded = hdr.decodeFromCompressedBase64(b64, 32, false)
  // Copy into a histogram with our fixed range so `add` of histograms of any origin works.
  const h = createHistogram()
  h.add(decoded)
  return h
}

/** Sum of histograms (empty when none). */
export function mergeHistograms (encoded: string[]): LatencyHistogram {
  const h = createHistogram()
  for (const e of encoded) h.add(decodeHistogram(e))
  return h
}

/** Percentiles in milliseconds, the figures every report shows. */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  stdev: number
  p50: number
  p75: number
  p90: number
  p99: number
  p999: number
  max: number
}

export function summarize (h: LatencyHistogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p75: 0, p90: 0, p99: 0, p999: 0, max: 0 }
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p75: ms(h.getValueAtPercentile(75)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue)
  }
}

/** Non-empty buckets of equivalent values: `[fromUs, toUs, count]`, for fortio-style exports and plots. */
export function buckets (h: LatencyHistogram): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  const js = h as unknown as { recordedValuesIterator: { reset (): void, hasNext (): boolean, next (): { valueIteratedFrom: number, valueIteratedTo: number, countAddedInThisIterationStep: number } } }
  const it = js.recordedValuesIterator
  it.reset()
  while (it.hasNext()) {
    const v = it.next()
    out.push([v.valueIteratedFrom, v.valueIteratedTo, v.countAddedInThisIterationStep])
  }
  return out
}
