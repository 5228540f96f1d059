import { z } from 'zod'
import { BenchImportInvalidError } from '../errors.ts'
import { captureEnvironment, type Environment } from './environment.ts'
import { buckets, createHistogram, decodeHistogram, encodeHistogram, summarize } from './loadgen/histogram.ts'
import { type PerformanceTestResult, SMP_VERSION, type SmpMesh, smpEnvironment } from './smp.ts'
import { randomUUID } from 'node:crypto'

/**
 * fortio's JSON result (`fortio load -json`), the fields we read. Durations in the histogram are in
 * seconds; RequestedQPS is a string ("1000", "max") in fortio ≥ 1.x and a number in older files.
 */
const Bucket = z.object({ Start: z.number(), End: z.number(), Percent: z.number(), Count: z.number().int().min(0) }).loose()
const FortioResult = z.object({
  RunType: z.string().optional(),
  Labels: z.string().optional(),
  StartTime: z.string(),
  RequestedQPS: z.union([z.string(), z.number()]),
  RequestedDuration: z.string().optional(),
  ActualQPS: z.number(),
  /** Nanoseconds. */
  ActualDuration: z.number(),
  NumThreads: z.number().int().min(0),
  Version: z.string().optional(),
  DurationHistogram: z.object({
    Count: z.number().int().min(0),
    Min: z.number(),
    Max: z.number(),
    Sum: z.number().optional(),
    Avg: z.number(),
    StdDev: z.number().optional(),
    Data: z.array(Bucket).nullable().default([]),
    Percentiles: z.array(z.object({ Percentile: z.number(), Value: z.number() }).loose()).nullable().default([])
  }).loose(),
  RetCodes: z.record(z.string(), z.number()).nullable().default({}),
  URL: z.string().optional(),
  SocketCount: z.number().optional()
}).loose()
export type FortioResult = z.infer<typeof FortioResult>

export interface ImportOptions {
  /** Mesh the imported run was measured under (fortio does not say). */
  mesh?: SmpMesh
  scenario?: string
  source?: string
  /** Environment to attach; default: this machine's (fortio records none). */
  env?: Environment
}

/**
 * Convert a fortio JSON result to an SMP result. The latency histogram is rebuilt from fortio's
 * buckets (each bucket's count spread evenly over it), so percentiles fortio did not list can be read.
 * Throws MESH_ERR_BENCH_IMPORT_INVALID naming the missing or malformed field.
 * @example const smp = importFortio(JSON.parse(readFileSync('fortio.json', 'utf8')), { mesh: { type: 'istio', version: '1.20', config: {} } })
 */
export function importFortio (json: unknown, opts: ImportOptions = {}): PerformanceTestResult {
  const p = FortioResult.safeParse(json)
  if (!p.success) {
    throw new BenchImportInvalidError('not a fortio JSON result: ' + p.error.issues.slice(0, 4).map(i => `${i.path.join('.') || '<document>'}: ${i.message}`).join('; '))
  }
  const f = p.data
  const dh = f.DurationHistogram
  const h = createHistogram()
  // Spread each bucket's count evenly over the bucket (fortio interpolates linearly inside a bucket).
  for (const b of dh.Data ?? []) {
    if (b.Count <= 0) continue
    const steps = Math.min(b.Count, 32)
    const base = Math.floor(b.Count / steps)
    for (let i = 0; i < steps; i++) {
      const v = b.Start + (b.End - b.Start) * (i + 0.5) / steps
      h.recordValueWithCount(Math.max(1, Math.round(v * 1e6)), base + (i < b.Count - base * steps ? 1 : 0))
    }
  }
  const fromBuckets = summarize(h)
  const pct = (q: number, fallback: number): number => {
    const hit = (dh.Percentiles ?? []).find(x => Math.abs(x.Percentile - q) < 1e-9)
    return hit !== undefined ? round3(hit.Value * 1000) : fallback
  }
  const rate = parseRequestedQps(f.RequestedQPS)
  const durationMs = f.ActualDuration / 1e6
  const start = new Date(f.StartTime)
  if (Number.isNaN(start.getTime())) throw new BenchImportInvalidError(`StartTime: not a date: "${f.StartTime}"`)
  const retCodes: Record<string, number> = { ...(f.RetCodes ?? {}) }
  let bad = 0
  let total = 0
  for (const [code, n] of Object.entries(retCodes)) { total += n; if (Number(code) >= 400 || Number(code) <= 0) bad += n }
  const id = randomUUID()
  const env = opts.env ?? captureEnvironment()
  return {
    smp_version: SMP_VERSION,
    id,
    test_id: id,
    config: {
      smp_version: SMP_VERSION,
      id: randomUUID(),
      name: f.Labels || opts.scenario || 'fortio import',
      labels: f.Labels ? { fortio_labels: f.Labels } : {},
      clients: [{
        internal: false,
        load_generator: 'fortio',
        protocol: 'http',
        connections: f.SocketCount ?? f.NumThreads,
        rps: rate,
        headers: {},
        cookies: {},
        body: '',
        content_type: '',
        endpoint_urls: f.URL ? [f.URL] : []
      }],
      duration: f.RequestedDuration ?? `${Math.round(durationMs)}ms`
    },
    start_time: start.toISOString(),
    end_time: new Date(start.getTime() + durationMs).toISOString(),
    latencies: {
      min: round3(dh.Min * 1000),
      average: round3(dh.Avg * 1000),
      p50: pct(50, fromBuckets.p50),
      p90: pct(90, fromBuckets.p90),
      p99: pct(99, fromBuckets.p99),
      max: round3(dh.Max * 1000)
    },
    actual_qps: Math.round(f.ActualQPS * 100) / 100,
    details_uri: '',
    mesh_config: opts.mesh ?? { type: 'unknown', version: '', config: {} },
    env: smpEnvironment(env),
    meshwork: {
      scenario: opts.scenario ?? 'import',
      mode: rate > 0 ? 'open-loop' : 'closed-loop',
      http_version: 'http1',
      requests: dh.Count,
      duration_ms: Math.round(durationMs),
      p75: pct(75, fromBuckets.p75),
      p999: pct(99.9, fromBuckets.p999),
      stdev: round3((dh.StdDev ?? 0) * 1000),
      histogram: encodeHistogram(h),
      ret_codes: retCodes,
      errors: {},
      connect_errors: {},
      error_ratio: total > 0 ? bad / total : 0,
      proxies: [],
      source: opts.source ?? 'fortio'
    }
  }
}

/** "1000" → 1000, 1000 → 1000, "max" / "-1" / "0" → 0 (max throughput). */
export function parseRequestedQps (v: string | number): number {
  const n = typeof v === 'number' ? v : v.trim().toLowerCase() === 'max' ? 0 : Number(v)
  if (!Number.isFinite(n)) throw new BenchImportInvalidError(`RequestedQPS: not a number or "max": "${String(v)}"`)
  return Math.max(n, 0)
}

/** An SMP result as fortio-like JSON (durations in seconds), for tools that read fortio output. */
export function exportFortio (r: PerformanceTestResult): Record<string, unknown> {
  const h = decodeHistogram(r.meshwork.histogram)
  const total = h.totalCount
  let cumulative = 0
  const data = buckets(h).map(([from, to, count]) => {
    cumulative += count
    return { Start: from / 1e6, End: to / 1e6, Percent: total > 0 ? Math.round(cumulative / total * 1e6) / 1e4 : 0, Count: count }
  })
  const s = summarize(h)
  const client = r.config.clients[0]
  return {
    RunType: 'HTTP',
    Labels: r.config.name,
    StartTime: r.start_time,
    RequestedQPS: client?.rps ? String(client.rps) : 'max',
    RequestedDuration: r.config.duration,
    ActualQPS: r.actual_qps,
    ActualDuration: Math.round(r.meshwork.duration_ms * 1e6),
    NumThreads: client?.connections ?? 0,
    Version: `meshwork ${SMP_VERSION}`,
    DurationHistogram: {
      Count: total,
      Min: r.latencies.min / 1000,
      Max: r.latencies.max / 1000,
      Sum: (s.mean * total) / 1000,
      Avg: r.latencies.average / 1000,
      StdDev: r.meshwork.stdev / 1000,
      Data: data,
      Percentiles: [
        { Percentile: 50, Value: r.latencies.p50 / 1000 },
        { Percentile: 75, Value: r.meshwork.p75 / 1000 },
        { Percentile: 90, Value: r.latencies.p90 / 1000 },
        { Percentile: 99, Value: r.latencies.p99 / 1000 },
        { Percentile: 99.9, Value: r.meshwork.p999 / 1000 }
      ]
    },
    RetCodes: r.meshwork.ret_codes,
    URL: client?.endpoint_urls[0] ?? '',
    SocketCount: client?.connections ?? 0
  }
}

function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}
