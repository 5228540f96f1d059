/**
 * Heap trim: keeps a proxy's memory flat under a steady load.
 *
 * A proxy's live heap is small (≈ 8 MB), and V8 lets a small old generation grow by a fixed step of at least
 * 8 MB between two full collections, whatever the live size. Under a steady load, the garbage that a request
 * leaves in the old generation (objects that outlive two scavenges: pooled-connection state, timers, spans
 * waiting for export) therefore makes the heap, and with it the RSS, climb by 7–8 MB for minutes before V8
 * collects it. On a 60 MB process that is a 12 % sawtooth (test/reliability/README.md: the 30 min soak). The
 * trim collects the old generation as soon as it has grown by `growthBytes` over the smallest size seen since
 * the last collection, and at most once per `minIntervalMs`, so the sawtooth is `growthBytes` high. The cost is
 * one full (non-incremental) collection of a small heap, a few ms, at most once per `minIntervalMs`; under a
 * heavy load V8's own collections come first and the trim rarely fires (bench/README.md, "Memory").
 * The same role as Envoy's shrink-heap overload action, for V8 instead of tcmalloc.
 *
 * Needs a `gc` function: the proxy runs with `--expose-gc` (src/runtime/proxy-node-flags.ts). Without it,
 * `startHeapTrim` returns null and the proxy runs as V8 decides.
 *
 * @example
 * const trim = startHeapTrim({ registry: proxy.metrics }) // null without --expose-gc
 * trim?.stop()
 */
import { getHeapSpaceStatistics } from 'node:v8'
import type { Registry } from './telemetry/metrics.ts'

export interface HeapTrimOptions {
  /** Collect once the old generation has grown by this much over its smallest size since the last collection. */
  growthBytes?: number
  /** How often the old generation's size is read. */
  checkIntervalMs?: number
  /** Never collect more often than this. */
  minIntervalMs?: number
  /** Full collection; default: the `gc` global of `--expose-gc`. */
  collect?: () => void
  /** Bytes in use in the old generation; default: every V8 space except the young generation's. */
  oldGenerationBytes?: () => number
  /** `nodejs_heap_trims_total` and `nodejs_heap_trim_seconds_total` are registered here. */
  registry?: Registry
  now?: () => number
}

export interface HeapTrim {
  /** Collections made by the trim so far. */
  readonly collections: number
  /** Reads the old generation once and collects if it is due (the timer calls this). */
  check: () => void
  stop: () => void
}

export const HEAP_TRIM_DEFAULTS = Object.freeze({ growthBytes: 2 * 1024 * 1024, checkIntervalMs: 1000, minIntervalMs: 10_000 })

/** Old-generation bytes in use: every heap space except new_space and new_large_object_space. */
export function oldGenerationUsedBytes (): number {
  let used = 0
  for (const s of getHeapSpaceStatistics()) {
    if (!s.space_name.startsWith('new_')) used += s.space_used_size
  }
  return used
}

/** Starts the trim; null when no `gc` function is available (node started without `--expose-gc`). */
export function startHeapTrim (options: HeapTrimOptions = {}): HeapTrim | null {
  const collect = options.collect ?? (globalThis as { gc?: () => void }).gc
  if (typeof collect !== 'function') return null
  const growth = options.growthBytes ?? HEAP_TRIM_DEFAULTS.growthBytes
  const minInterval = options.minIntervalMs ?? HEAP_TRIM_DEFAULTS.minIntervalMs
  const readOld = options.oldGenerationBytes ?? oldGenerationUsedBytes
  const now = options.now ?? (() => performance.now())
  const trims = options.registry?.counter('nodejs_heap_trims_total', 'Full collections made by the proxy\'s heap trim (src/dataplane/heap-trim.ts).')
  const trimSeconds = options.registry?.counter('nodejs_heap_trim_seconds_total', 'Time spent in the heap trim\'s full collections, seconds.')

  let floor = readOld()
  let lastCollect = now()
  let collections = 0
  const check = (): void => {
    const used = readOld()
    // V8's own full collections lower the floor too: growth is counted from the smallest size seen.
    if (used < floor) floor = used
    const t = now()
    if (used - floor < growth || t - lastCollect < minInterval) return
    collect()
    const after = now()
    lastCollect = after
    floor = readOld()
    collections++
    trims?.inc()
    trimSeconds?.inc((after - t) / 1000)
  }
  const timer = setInterval(check, options.checkIntervalMs ?? HEAP_TRIM_DEFAULTS.checkIntervalMs)
  timer.unref()
  return {
    get collections () { return collections },
    check,
    stop: () => clearInterval(timer)
  }
}
