/**
 * A bounded closed-loop (or paced) load loop for the reliability scenarios: `concurrency` keep-alive
 * clients send requests until `durationMs` passes or `maxRequests` were sent, whichever comes first.
 * Every response is checked (`check`): a non-2xx status, a network error, a timeout or a failed check is
 * a failure, kept by reason. Latency is measured per request (closed loop: from send to last body byte;
 * paced: from the scheduled send time, so a stall is not hidden).
 *
 * @example
 * const r = await runLoad({ name: 'hot-reload', port, host: 'echo', durationMs: 20_000, concurrency: 8 })
 * console.log(summaryLine(r)) // [reliability] hot-reload: requests=… failures=0 error=0.000% p99=… duration=…
 */
import { Client } from 'undici'

export interface LoadReply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

export interface LoadOptions {
  name: string
  port: number
  /** Host header (chooses the service on an outbound listener). */
  host: string
  path?: string
  durationMs: number
  /** Hard bound on requests sent (default: 20 000 per second of duration, at least 10 000). */
  maxRequests?: number
  concurrency: number
  /** Requests per second over all clients (paced); absent = closed loop, as fast as answers come. */
  rate?: number
  /** Per-request bound: headers and body must arrive within it (default 15 s). */
  timeoutMs?: number
  /** Returns a failure reason, or null when the reply is right. Default: status 2xx. */
  check?: (r: LoadReply) => string | null
  /** Called with every good reply (e.g. to count versions seen). */
  onReply?: (r: LoadReply) => void
  /** Stops the loop early (checked before each request). */
  signal?: AbortSignal
}

export interface LoadResult {
  name: string
  requests: number
  failures: number
  /** Failure reasons → count (status + x-meshwork-error, error code, or the check's reason). */
  reasons: Record<string, number>
  /**
   * First failures with the time they happened (ms from start), to correlate with injected faults, and the
   * start of the body of a failed reply (a proxy's error body says which upstream and why, e.g. a connect
   * timeout or an expired certificate).
   */
  firstFailures: { atMs: number, reason: string, detail?: string }[]
  p50Ms: number
  p99Ms: number
  maxMs: number
  durationMs: number
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function defaultCheck (r: LoadReply): string | null {
  if (r.status >= 200 && r.status < 300) return null
  return `${r.status} ${String(r.headers['x-meshwork-error'] ?? '')}`.trim()
}

export async function runLoad (o: LoadOptions): Promise<LoadResult> {
  const maxRequests = o.maxRequests ?? Math.max(10_000, Math.ceil(o.durationMs / 1000 * 20_000))
  const timeoutMs = o.timeoutMs ?? 15_000
  const check = o.check ?? defaultCheck
  const latencies: number[] = []
  const reasons: Record<string, number> = {}
  const firstFailures: LoadResult['firstFailures'] = []
  let failures = 0
  let next = 0
  const start = performance.now()
  const end = start + o.durationMs
  const fail = (reason: string, reply?: LoadReply): void => {
    failures++
    reasons[reason] = (reasons[reason] ?? 0) + 1
    if (firstFailures.length < 20) {
      const f: LoadResult['firstFailures'][number] = { atMs: Math.round(performance.now() - start), reason }
      if (reply !== undefined && reply.body !== '') f.detail = reply.body.slice(0, 200)
      firstFailures.push(f)
    }
  }
  const worker = async (): Promise<void> => {
    const client = new Client(`http://127.0.0.1:${o.port}`, { keepAliveTimeout: 30_000, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    try {
      while (o.signal?.aborted !== true) {
        const i = next++
        if (i >= maxRequests) break
        let t0 = performance.now()
        if (o.rate !== undefined) {
          const at = start + (i * 1000) / o.rate
          if (at >= end) break
          if (at > t0) await sleep(at - t0)
          // Late (a stall): count from the scheduled time, so the stall is not hidden. Early (timers fire on the
          // loop's millisecond clock, up to ~1 ms before `at`): count from the actual send, never a negative latency.
          t0 = Math.min(at, performance.now())
        } else if (t0 >= end) break
        let reply: LoadReply | null = null
        try {
          const res = await client.request({ method: 'GET', path: o.path ?? `/load/${i}`, headers: { host: o.host } })
          reply = { status: res.statusCode, headers: res.headers, body: await res.body.text() }
        } catch (err) {
          fail(`client ${(err as { code?: string }).code ?? (err as Error).message}`)
        }
        latencies.push(performance.now() - t0)
        if (reply === null) continue
        try {
          const bad = check(reply)
          if (bad !== null) fail(bad, reply)
          else o.onReply?.(reply)
        } catch (err) {
          fail(`unexpected reply (${(err as Error).message.slice(0, 80)})`)
        }
      }
    } finally {
      await client.close().catch(() => {})
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  const durationMs = performance.now() - start
  latencies.sort((a, b) => a - b)
  const q = (p: number): number => latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  return { name: o.name, requests: latencies.length, failures, reasons, firstFailures, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: latencies.at(-1) ?? 0, durationMs }
}

/** Share of failed requests, in percent. */
export function errorPercent (r: LoadResult): number {
  return r.requests === 0 ? 0 : (100 * r.failures) / r.requests
}

/** The one-line figure of a scenario, printed at the end of each test and bench run. */
export function summaryLine (r: LoadResult, extra = ''): string {
  return `[reliability] ${r.name}: requests=${r.requests} failures=${r.failures} error=${errorPercent(r).toFixed(3)}% ` +
    `p50=${r.p50Ms.toFixed(1)}ms p99=${r.p99Ms.toFixed(1)}ms max=${r.maxMs.toFixed(0)}ms duration=${(r.durationMs / 1000).toFixed(1)}s` +
    (r.failures > 0 ? ` reasons=${JSON.stringify(r.reasons)}` : '') + (extra !== '' ? ` ${extra}` : '')
}

/** Seconds a scenario runs: `RELIABILITY_SECONDS` when set, else the caller's default. */
export function scenarioSeconds (fallback: number): number {
  const v = Number(process.env.RELIABILITY_SECONDS)
  return Number.isFinite(v) && v > 0 ? v : fallback
}

/** One GET through a proxy listener with the given Host header (fetch cannot set Host). */
export async function getVia (port: number, host: string, path: string): Promise<LoadReply> {
  const client = new Client(`http://127.0.0.1:${port}`, { headersTimeout: 15_000, bodyTimeout: 15_000 })
  try {
    const res = await client.request({ method: 'GET', path, headers: { host } })
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() }
  } finally {
    await client.close().catch(() => {})
  }
}
