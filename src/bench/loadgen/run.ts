import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { BenchAbortedError, BenchError, BenchTargetErrorsError, BenchTargetUnreachableError, BenchTimeoutError } from '../../errors.ts'
import type { EngineJob, EngineProgress, EngineReport } from './engine.ts'
import { encodeHistogram, type LatencySummary, mergeHistograms, summarize } from './histogram.ts'
import { type LoadOptions, type LoadOptionsInput, parseLoadOptions, threadCount } from './options.ts'
import { split } from './schedule.ts'
import { correctHistogramLikeWrk } from './wrk-latency.ts'

/** One load run's outcome: the figures, the full histogram, and how it ended. */
export interface LoadResult {
  /** Options as run (TLS key material left out). */
  options: Omit<LoadOptions, 'tls'> & { tls: { insecure: boolean } }
  mode: 'open-loop' | 'closed-loop'
  threads: number
  startedAt: string
  endedAt: string
  /** Length of the measured phase actually run, ms. */
  durationMs: number
  /** Measured requests that got a response. */
  requests: number
  /** Requests sent in all phases (warm-up included). */
  sent: number
  actualQps: number
  latency: LatencySummary
  /**
   * Closed loop only: the same latencies with the coordinated-omission correction wrk ≥ 4 applies to
   * its closed-loop figures (expected interval = a connection's mean request cycle; see wrk-latency.ts).
   * Compare wrk's printed percentiles with these, and `latency` with what wrk measured.
   */
  latencyWrkCorrected?: LatencySummary
  /** Latencies in µs, HdrHistogram compressed base64. */
  histogram: string
  /** Responses by HTTP status; in gRPC mode by grpc-status (`"0"` = OK, `"14"` = UNAVAILABLE…). */
  retCodes: Record<string, number>
  /** Failed measured requests by cause (ECONNRESET, ETIMEOUT, EPARSE…). */
  errors: Record<string, number>
  /** Failed connection attempts by cause. */
  connectErrors: Record<string, number>
  /** (failed + non-2xx/3xx) / all measured. */
  errorRatio: number
  /** Set when the run stopped before its end. */
  stopped?: 'aborted' | 'unreachable' | 'timeout'
}

export interface LoadProgress {
  phase: 'starting' | 'warmup' | 'measure' | 'drain'
  elapsedMs: number
  totalMs: number
  sent: number
  measured: number
  errors: number
  /** Responses per second over the last progress interval. */
  rps: number
}

export interface RunControl {
  onProgress?: (p: LoadProgress) => void
  /** Called on the main thread when the measured phase starts and when it ends (e.g. to sample proxy CPU). */
  onPhase?: (phase: 'measure' | 'drain') => void
  signal?: AbortSignal
}

const FROM_SOURCE = import.meta.url.endsWith('.ts')
/** Perf: a larger young generation means fewer scavenges on the per-request path. */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 64 }
const WORKER_URL = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url)

/**
 * Node 20 does not apply `--import tsx` to worker threads, so when running from the .ts sources the
 * worker registers tsx itself before importing the entry. Built (dist) code loads worker.js directly.
 */
function startWorker (job: EngineJob): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData: job, resourceLimits: WORKER_LIMITS })
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then(m => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(boot, { eval: true, workerData: job, resourceLimits: WORKER_LIMITS })
}
const STARTUP_BOUND_MS = 20_000

/**
 * Run load against one URL with worker threads and return percentiles plus the full histogram.
 * Throws a `BenchError` (with `.partial` = the LoadResult so far) when the target is unreachable,
 * too many requests fail, the run is aborted, or a phase overruns its bound.
 * @example const r = await runLoad({ url: 'http://127.0.0.1:8080/', rate: 500, durationMs: 2000, connections: 8 })
 */
export async function runLoad (input: LoadOptionsInput | LoadOptions, control: RunControl = {}): Promise<LoadResult> {
  const o = parseLoadOptions(input)
  const threads = threadCount(o)
  if (control.signal?.aborted) throw new BenchAbortedError('aborted before start')
  const conns = split(o.connections, threads)
  const quotas = o.requests === undefined ? null : split(o.requests, threads)
  const workers: Worker[] = []
  const progress: EngineProgress[] = []
  const reports: Array<EngineReport | null> = []
  let first = 0
  for (let i = 0; i < threads; i++) {
    const job: EngineJob = { options: o, connections: conns[i], firstIndex: first, totalConnections: o.connections, requests: quotas === null ? undefined : quotas[i] }
    first += conns[i]
    workers.push(startWorker(job))
    progress.push({ sent: 0, completed: 0, measured: 0, errors: 0 })
    reports.push(null)
  }
  const startedWall = Date.now()
  let stopped: LoadResult['stopped']
  let unreachableCode: string | undefined
  let failure: BenchError | null = null
  let startAt = 0
  let progressTimer: NodeJS.Timeout | null = null
  let hardTimer: NodeJS.Timeout | null = null
  const phaseTimers: NodeJS.Timeout[] = []

  const stopAll = (): void => { for (const w of workers) w.postMessage({ type: 'stop' }) }
  const onAbort = (): void => { stopped ??= 'aborted'; stopAll() }
  control.signal?.addEventListener('abort', onAbort, { once: true })

  try {
    // 1. Workers load (bounded).
    await new Promise<void>((resolve, reject) => {
      let ready = 0
      // The abort listener is removed once settled: a long-lived signal (a suite's) sees one run after another.
      const onStartAbort = (): void => settle(new BenchAbortedError('aborted while starting'))
      const settle = (err: Error | null): void => {
        clearTimeout(t)
        control.signal?.removeEventListener('abort', onStartAbort)
        if (err === null) resolve(); else reject(err)
      }
      const t = setTimeout(() => settle(new BenchTimeoutError(`load generator threads did not start within ${STARTUP_BOUND_MS} ms`)), STARTUP_BOUND_MS)
      for (const w of workers) {
        w.once('error', err => settle(new BenchError(`load generator thread failed: ${err.message}`, { cause: err })))
        w.once('message', (m: { type: string }) => { if (m.type === 'ready' && ++ready === workers.length) settle(null) })
      }
      control.signal?.addEventListener('abort', onStartAbort, { once: true })
    })
    // 2. Run: all threads start on the same wall-clock instant.
    startAt = performance.timeOrigin + performance.now() + 20
    const totalMs = o.warmupMs + o.durationMs
    await new Promise<void>((resolve) => {
      let done = 0
      for (let i = 0; i < workers.length; i++) {
        const w = workers[i]
        w.on('message', (m: { type: string, code?: string, report?: EngineReport, message?: string } & EngineProgress) => {
          if (m.type === 'progress') progress[i] = m
          else if (m.type === 'unreachable') { unreachableCode ??= m.code; if (stopped === undefined) { stopped = 'unreachable'; stopAll() } }
          else if (m.type === 'failed') failure ??= new BenchError(`load generator thread failed: ${m.message}`)
          else if (m.type === 'done') { reports[i] = m.report!; if (++done === workers.length) resolve() }
        })
        w.on('error', err => { failure ??= new BenchError(`load generator thread failed: ${err.message}`, { cause: err }); if (++done === workers.length) resolve() })
        w.postMessage({ type: 'start', at: startAt })
      }
      if (control.onPhase !== undefined) {
        const onPhase = control.onPhase
        const until = (t: number): number => Math.max(0, t - (performance.timeOrigin + performance.now()))
        phaseTimers.push(setTimeout(() => onPhase('measure'), until(startAt + o.warmupMs)))
        phaseTimers.push(setTimeout(() => onPhase('drain'), until(startAt + totalMs)))
      }
      // Hard bound: warm-up + measured phase + drain (one request timeout) + slack.
      hardTimer = setTimeout(() => { stopped ??= 'timeout'; resolve() }, totalMs + o.timeoutMs + 10_000)
      let lastMeasured = 0
      let lastTime = performance.timeOrigin + performance.now()
      progressTimer = setInterval(() => {
        const t = performance.timeOrigin + performance.now()
        const sum = sumProgress(progress)
        const elapsed = t - startAt
        const count = sum.completed
        const rps = (count - lastMeasured) / ((t - lastTime) / 1000)
        lastMeasured = count
        lastTime = t
        control.onProgress?.({
          phase: elapsed < 0 ? 'starting' : elapsed < o.warmupMs ? 'warmup' : elapsed < totalMs ? 'measure' : 'drain',
          elapsedMs: Math.max(0, Math.min(elapsed, totalMs)),
          totalMs,
          sent: sum.sent,
          measured: sum.measured,
          errors: sum.errors,
          rps: Number.isFinite(rps) ? rps : 0
        })
      }, 250)
    })
  } catch (err) {
    failure = err instanceof BenchError ? err : new BenchError(String(err), { cause: err })
  } finally {
    if (progressTimer !== null) clearInterval(progressTimer)
    if (hardTimer !== null) clearTimeout(hardTimer)
    for (const t of phaseTimers) clearTimeout(t)
    control.signal?.removeEventListener('abort', onAbort)
    await Promise.all(workers.map(w => w.terminate()))
  }

  const result = assemble(o, threads, startedWall, startAt, reports, stopped)
  if (failure !== null) { (failure as BenchError).partial = result; throw failure }
  if (stopped === 'aborted') throw new BenchAbortedError('benchmark aborted', { partial: result })
  if (stopped === 'timeout') throw new BenchTimeoutError('the load run overran its time bound and was stopped', { partial: result })
  if (stopped === 'unreachable' || (result.requests === 0 && Object.keys(result.connectErrors).length > 0)) {
    const codes = [...new Set([...Object.keys(result.connectErrors), ...(unreachableCode ? [unreachableCode] : [])])].join(', ') || 'no connection'
    throw new BenchTargetUnreachableError(`no response from ${o.url}: every connection failed or was closed before answering (${codes})`, { partial: result })
  }
  if (result.requests === 0 && Object.keys(result.errors).length > 0) {
    throw new BenchTargetErrorsError(`every request to ${o.url} failed (${Object.keys(result.errors).join(', ')})`, { partial: result })
  }
  if (result.errorRatio > o.maxErrorRatio) {
    throw new BenchTargetErrorsError(`${(result.errorRatio * 100).toFixed(1)}% of requests to ${o.url} failed or ${o.protocol === 'grpc' ? 'ended with a grpc-status other than 0' : 'were not 2xx/3xx'} (limit ${(o.maxErrorRatio * 100).toFixed(1)}%): codes ${JSON.stringify(result.retCodes)}, errors ${JSON.stringify(result.errors)}`, { partial: result })
  }
  return result
}

function sumProgress (ps: EngineProgress[]): EngineProgress {
  const s = { sent: 0, completed: 0, measured: 0, errors: 0 }
  for (const p of ps) { s.sent += p.sent; s.completed += p.completed; s.measured += p.measured; s.errors += p.errors }
  return s
}

function addInto (into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
}

function assemble (o: LoadOptions, threads: number, startedWall: number, startAt: number, reports: Array<EngineReport | null>, stopped: LoadResult['stopped']): LoadResult {
  const got = reports.filter((r): r is EngineReport => r !== null)
  const h = mergeHistograms(got.map(r => r.histogram))
  const retCodes: Record<string, number> = {}
  const errors: Record<string, number> = {}
  const connectErrors: Record<string, number> = {}
  let measured = 0
  let failed = 0
  let sent = 0
  for (const r of got) {
    sent += r.sent
    addInto(retCodes, r.retCodes)
    addInto(errors, r.errors)
    addInto(connectErrors, r.connectErrors)
    measured += r.measured
  }
  for (const v of Object.values(errors)) failed += v
  let bad = failed
  // gRPC: codes are grpc-status values, everything but 0 (OK) failed; HTTP: 4xx and 5xx failed
  for (const [code, n] of Object.entries(retCodes)) if (o.protocol === 'grpc' ? code !== '0' : Number(code) >= 400) bad += n
  const measureStart = startAt + o.warmupMs
  let durationMs = o.durationMs
  if (got.length > 0) {
    const end = o.requests !== undefined
      ? Math.max(...got.map(r => r.lastCompletion))
      : Math.max(...got.map(r => r.stoppedAt))
    durationMs = Math.max(1, Math.min(o.durationMs, end - measureStart))
  }
  if (stopped !== undefined || got.length === 0) durationMs = got.length === 0 ? 0 : durationMs
  const { tls, ...rest } = o
  const cycles = Math.floor(measured / o.connections)
  const corrected = o.rate === 0 && cycles > 0 ? summarize(correctHistogramLikeWrk(h, (durationMs * 1000) / cycles)) : undefined
  return {
    options: { ...rest, tls: { insecure: tls.insecure } },
    mode: o.rate > 0 ? 'open-loop' : 'closed-loop',
    threads,
    startedAt: new Date(startedWall).toISOString(),
    endedAt: new Date().toISOString(),
    durationMs: Math.round(durationMs),
    requests: measured,
    sent,
    actualQps: durationMs > 0 ? measured / (durationMs / 1000) : 0,
    latency: summarize(h),
    ...(corrected === undefined ? {} : { latencyWrkCorrected: corrected }),
    histogram: encodeHistogram(h),
    retCodes,
    errors,
    connectErrors,
    errorRatio: measured + failed === 0 ? (failed > 0 ? 1 : 0) : bad / (measured + failed),
    ...(stopped === undefined ? {} : { stopped })
  }
}
