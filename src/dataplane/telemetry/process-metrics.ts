import { readdirSync, readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Registry } from './metrics.ts'

/**
 * Standard process metrics, refreshed on each scrape: resident memory, CPU seconds, open fds (/proc/self/fd),
 * heap, start time, event-loop lag. Returns a stop function (disables the event-loop monitor).
 * @example const stop = registerProcessMetrics(registry)
 */
export function registerProcessMetrics (registry: Registry): () => void {
  const cpu = registry.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.')
  const cpuUser = registry.counter('process_cpu_user_seconds_total', 'User CPU time spent in seconds.')
  const cpuSystem = registry.counter('process_cpu_system_seconds_total', 'System CPU time spent in seconds.')
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.')
  const fds = registry.gauge('process_open_fds', 'Number of open file descriptors.')
  const maxFds = registry.gauge('process_max_fds', 'Maximum number of open file descriptors.')
  const start = registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.')
  const heap = registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use, bytes.')
  const heapTotal = registry.gauge('nodejs_heap_total_bytes', 'V8 heap committed (in use plus free space V8 keeps), bytes.')
  const external = registry.gauge('nodejs_external_memory_bytes', 'Memory outside the V8 heap that V8 is told about (buffers, native objects), bytes.')
  const lag = registry.gauge('nodejs_eventloop_lag_seconds', 'Mean event-loop delay since the previous scrape, seconds.')
  const lagMax = registry.gauge('nodejs_eventloop_lag_max_seconds', 'Maximum event-loop delay since the previous scrape, seconds.')
  const lagP99 = registry.gauge('nodejs_eventloop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape, seconds.')

  start.set(Math.round((performance.timeOrigin) / 1000))
  const limit = readMaxFds()
  if (limit !== undefined) maxFds.set(limit)
  const loop = monitorEventLoopDelay({ resolution: 20 })
  loop.enable()

  registry.onScrape(() => {
    const u = process.cpuUsage()
    cpuUser.labels().value = u.user / 1e6
    cpuSystem.labels().value = u.system / 1e6
    cpu.labels().value = (u.user + u.system) / 1e6
    const mem = process.memoryUsage()
    rss.set(mem.rss)
    heap.set(mem.heapUsed)
    heapTotal.set(mem.heapTotal)
    external.set(mem.external)
    const n = countOpenFds()
    if (n !== undefined) fds.set(n)
    // Histogram values are nanoseconds; NaN before the first sample.
    const mean = loop.mean
    lag.set(Number.isFinite(mean) ? mean / 1e9 : 0)
    lagMax.set(loop.count > 0 ? loop.max / 1e9 : 0)
    lagP99.set(loop.count > 0 ? loop.percentile(99) / 1e9 : 0)
    loop.reset()
  })
  return () => loop.disable()
}

function countOpenFds (): number | undefined {
  try {
    // The listing itself holds one fd open while it reads.
    return readdirSync('/proc/self/fd').length - 1
  } catch {
    return undefined
  }
}

function readMaxFds (): number | undefined {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}
