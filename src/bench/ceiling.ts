import { startTrivialServer } from './app/trivial-server.ts'
import type { LatencySummary } from './loadgen/histogram.ts'
import { type LoadProgress, runLoad } from './loadgen/run.ts'

export interface Ceiling {
  /** Requests per second the generator reached against a target that does no work. */
  rps: number
  latency: LatencySummary
  connections: number
  threads: number
  durationMs: number
}

/**
 * The load generator's own ceiling: closed loop against a raw in-process target that answers every
 * request head with fixed bytes (no HTTP parsing). Scenario figures near this value say more about
 * the generator than about the proxy. On a small machine the target shares the cores.
 * @example const c = await measureCeiling({ durationMs: 3000 })
 */
export async function measureCeiling (o: { connections?: number, threads?: number, durationMs?: number, warmupMs?: number, signal?: AbortSignal, onProgress?: (p: LoadProgress) => void } = {}): Promise<Ceiling> {
  const server = await startTrivialServer({ kind: 'raw' })
  try {
    const r = await runLoad({ url: `http://127.0.0.1:${server.port}/`, connections: o.connections ?? 32, threads: o.threads, durationMs: o.durationMs ?? 3000, warmupMs: o.warmupMs ?? 500, rate: 0 }, { signal: o.signal, onProgress: o.onProgress })
    return { rps: Math.round(r.actualQps), latency: r.latency, connections: r.options.connections, threads: r.threads, durationMs: r.durationMs }
  } finally {
    await server.close()
  }
}
