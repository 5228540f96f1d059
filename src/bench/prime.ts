import { BenchAbortedError, BenchError } from '../errors.ts'
import { runLoad } from './loadgen/run.ts'
import { type ScenarioLoad, scenarioLoadOptions } from './measure.ts'
import type { RunningScenario } from './scenarios/topology.ts'

/**
 * Unrecorded load per proxied scenario before the first measured run (ms). Freshly started proxies run
 * their request path unoptimized for the first seconds (V8 tiers it up on background threads, which a
 * loaded 2-core machine starves) and grow their heaps: measured on meshwork-plain/mtls, the first 1 s
 * runs gave 900–4,800 rps with 100–330 ms stalls, steady only from the 3rd second. The 1 s per-run
 * warm-up hid that from no later run but the first, and with `--repeat 2` the median of two is their
 * mean: a suite reported meshwork-plain (measured first) slower than meshwork-mtls for this reason alone.
 */
export const DEFAULT_PRIME_MS = 3000

export interface PrimeOptions {
  /** Load per proxied scenario; 0 turns priming off. Default {@link DEFAULT_PRIME_MS}. */
  primeMs?: number
  signal?: AbortSignal
  onLog?: (message: string) => void
}

/**
 * Drive every scenario that has proxies with closed-loop load (the suite's connections and threads) for
 * `primeMs`, nothing recorded. A failing prime is logged, not thrown (the measured runs report failures);
 * an abort is thrown as MESH_ERR_BENCH_ABORTED.
 * @example await primeScenarios(topo.scenarios, { connections: 16 }, { primeMs: 3000 })
 */
export async function primeScenarios (scenarios: readonly RunningScenario[], load: ScenarioLoad, o: PrimeOptions = {}): Promise<string[]> {
  const primeMs = o.primeMs ?? DEFAULT_PRIME_MS
  const primed: string[] = []
  if (primeMs <= 0) return primed
  const log = o.onLog ?? (() => {})
  for (const s of scenarios) {
    if (s.proxies.length === 0) continue
    if (o.signal?.aborted) throw new BenchAbortedError('aborted while priming')
    const { requests: _requests, rate: _rate, ...rest } = load
    const opts = scenarioLoadOptions(s, { ...rest, rate: 0, durationMs: primeMs, warmupMs: 0, maxErrorRatio: 1 })
    try {
      const r = await runLoad(opts, { signal: o.signal })
      log(`${s.name}: primed ${primeMs} ms (${Math.round(r.actualQps)} rps, p99 ${r.latency.p99.toFixed(3)} ms, not recorded)`)
      primed.push(s.name)
    } catch (err) {
      if (err instanceof BenchAbortedError) throw err
      if (!(err instanceof BenchError)) throw err
      log(`${s.name}: priming failed (${err.code}): ${err.message}`)
    }
  }
  return primed
}
