/**
 * Soak: a steady request rate through an mTLS sidecar pair for a long time, sampling the RSS and the open
 * file descriptors of every proxy process, to show that neither grows.
 *
 *   load (paced) ─▶ client sidecar (outbound) ══mTLS══▶ echo sidecar (inbound) ─▶ echo app
 *                   └────────── /proc/<pid>/status VmRSS, /proc/<pid>/fd every SOAK_SAMPLE_SECONDS ──────────┘
 *
 * The mesh is run by the real runtime (startLocalMesh: every proxy a `meshwork proxy` process) with a
 * certificate TTL of SOAK_CERT_TTL, so identities rotate many times during the run.
 * Asserts, after the warm-up: RSS of every proxy flat within SOAK_RSS_TOLERANCE (max − min over min), no
 * FD growth (last sample ≤ first sample after warm-up + SOAK_FD_SLACK), and zero failed requests.
 *
 * Run:  node --import tsx bench/soak.ts                 (30 min, the full soak)
 *       SOAK_MINUTES=5 node --import tsx bench/soak.ts  (short variant)
 * Env:  SOAK_MINUTES (30), SOAK_RATE (requests/s, 200), SOAK_CONCURRENCY (16), SOAK_SAMPLE_SECONDS (10),
 *       SOAK_WARMUP_MINUTES (a fifth of the run, between 2 and 5; start-up caches are released in the first ~2 min), SOAK_RSS_TOLERANCE (0.10), SOAK_FD_SLACK (2),
 *       SOAK_CERT_TTL (MeshConfig duration, 2m), SOAK_JSON (write the series to this file), SOAK_RUNNER (tsx: run the
 *       proxies from the sources; default: the CLI compiled by bench/compile-cli.ts, as shipped).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { sumMetric } from '../test/e2e/http-client.ts'
import { errorPercent, runLoad, summaryLine } from '../test/reliability/load.ts'
import { echoWorkload, startReliabilityMesh } from '../test/reliability/mesh.ts'
import { compileCli } from './compile-cli.ts'

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30)
const RATE = Number(process.env.SOAK_RATE ?? 200)
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16)
const SAMPLE_S = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10)
const WARMUP_MIN = Number(process.env.SOAK_WARMUP_MINUTES ?? Math.min(5, Math.max(2, MINUTES / 5)))
const RSS_TOLERANCE = Number(process.env.SOAK_RSS_TOLERANCE ?? 0.10)
const FD_SLACK = Number(process.env.SOAK_FD_SLACK ?? 2)
const CERT_TTL = process.env.SOAK_CERT_TTL ?? '2m'

interface Sample { t: number, rssKb: number, anonKb: number, fileKb: number, brkKb: number, fds: number, heapMb: number, heapTotalMb: number, externalMb: number }

type ProcSample = Pick<Sample, 'rssKb' | 'anonKb' | 'fileKb' | 'brkKb' | 'fds'>

/**
 * RSS (kB) of a live process, split into anonymous and file-backed pages, the resident part of the brk heap
 * (glibc malloc's main arena: OpenSSL and other native allocations; V8's heap pages are separate mmaps), and its
 * open descriptors, from /proc.
 */
function procSample (pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string): number => { const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status); return m !== null ? Number(m[1]) : Number.NaN }
  const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8')
  const heapAt = smaps.indexOf('[heap]\n')
  const brk = heapAt < 0 ? null : /^Rss:\s+(\d+) kB$/m.exec(smaps.slice(heapAt))
  return { rssKb: kb('VmRSS'), anonKb: kb('RssAnon'), fileKb: kb('RssFile'), brkKb: brk !== null ? Number(brk[1]) : Number.NaN, fds: readdirSync(`/proc/${pid}/fd`).length }
}

/** Least-squares slope of (seconds, value) points, per minute. */
function slopePerMinute (points: [number, number][]): number {
  if (points.length < 2) return 0
  const n = points.length
  const mx = points.reduce((a, p) => a + p[0], 0) / n
  const my = points.reduce((a, p) => a + p[1], 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2 }
  return den === 0 ? 0 : (num / den) * 60
}

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT }, certificates: { ttl: ${CERT_TTL} } }
---
${echoWorkload('echo-v1', 'echo', 'v1')}`

// The proxies (and the control plane) run the compiled CLI, as shipped: from the sources each proxy would also
// carry the tsx loader thread, whose own heap and RSS growth is not the proxy's. SOAK_RUNNER=tsx: the sources.
if (process.env.SOAK_RUNNER !== 'tsx') process.env.MESHWORK_CLI_JS = compileCli('soak-cli')
const rm = await startReliabilityMesh('soak', MESH)
let exitCode = 0
try {
  await rm.waitHealthy('echo', 1)
  const proxies = rm.mesh.proxies.map(p => ({ id: p.id, pid: p.process.pid! }))
  const series = new Map<string, Sample[]>(proxies.map(p => [p.id, []]))
  const start = Date.now()
  const admin = new Map(rm.mesh.proxies.map(p => [p.id, p.metricsUrl]))
  const sampleAll = async (): Promise<void> => {
    const t = Math.round((Date.now() - start) / 1000)
    for (const p of proxies) {
      let proc: ProcSample
      try { proc = procSample(p.pid) } catch { continue /* process gone: the assertions below catch it */ }
      let heapMb = Number.NaN
      let heapTotalMb = Number.NaN
      let externalMb = Number.NaN
      try {
        const text = await (await fetch(admin.get(p.id)!, { signal: AbortSignal.timeout(5000) })).text()
        heapMb = sumMetric(text, 'nodejs_heap_used_bytes') / 1024 / 1024
        heapTotalMb = sumMetric(text, 'nodejs_heap_total_bytes') / 1024 / 1024
        externalMb = sumMetric(text, 'nodejs_external_memory_bytes') / 1024 / 1024
      } catch { /* admin busy: the heap columns stay empty for this sample */ }
      series.get(p.id)!.push({ t, ...proc, heapMb, heapTotalMb, externalMb })
    }
  }
  await sampleAll()
  const sampler = setInterval(() => { void sampleAll() }, SAMPLE_S * 1000)
  const progress = setInterval(() => process.stderr.write(`soak: ${((Date.now() - start) / 60_000).toFixed(1)} / ${MINUTES} min\n`), 60_000)
  const durationMs = MINUTES * 60_000
  const load = await runLoad({ name: `soak ${MINUTES} min @ ${RATE} rps mTLS`, port: rm.entryPort, host: 'echo', durationMs, concurrency: CONCURRENCY, rate: RATE, maxRequests: Math.ceil(RATE * MINUTES * 60) + 1 })
  clearInterval(sampler)
  clearInterval(progress)
  await sampleAll()
  for (const p of proxies) {
    assert.equal(rm.mesh.proxies.find(x => x.id === p.id)?.process.pid, p.pid, `${p.id} was restarted during the soak`)
  }

  console.log(`\nseries (every ${SAMPLE_S} s; warm-up ${WARMUP_MIN} min):`)
  console.log('(RSS = anon + file; brk = resident glibc main-arena heap; heap/total = V8 heap used/committed; ext = V8 external)')
  console.log(['t(s)', ...proxies.flatMap(p => [`${p.id} RSS(MB)`, 'anon', 'file', 'brk', 'heap', 'total', 'ext', 'FDs'])].join('\t'))
  const rows = Math.max(...[...series.values()].map(s => s.length))
  for (let i = 0; i < rows; i++) {
    const mb = (kb: number): string => (kb / 1024).toFixed(1)
    const cells = proxies.flatMap(p => {
      const s = series.get(p.id)![i]
      return s ? [mb(s.rssKb), mb(s.anonKb), mb(s.fileKb), mb(s.brkKb), s.heapMb.toFixed(1), s.heapTotalMb.toFixed(1), s.externalMb.toFixed(1), String(s.fds)] : Array(8).fill('')
    })
    console.log([series.get(proxies[0].id)![i]?.t ?? '', ...cells].join('\t'))
  }

  const trimsById = new Map<string, string>()
  for (const p of proxies) {
    try {
      const text = await (await fetch(admin.get(p.id)!, { signal: AbortSignal.timeout(5000) })).text()
      const n = sumMetric(text, 'nodejs_heap_trims_total')
      const s = sumMetric(text, 'nodejs_heap_trim_seconds_total')
      trimsById.set(p.id, `heap trims ${n} (${n > 0 ? ((s / n) * 1000).toFixed(1) : '–'} ms each)`)
    } catch { trimsById.set(p.id, 'heap trims: admin unreachable') }
  }
  const verdicts: string[] = []
  const problems: string[] = []
  for (const p of proxies) {
    const after = series.get(p.id)!.filter(s => s.t >= WARMUP_MIN * 60)
    if (after.length < 2) { problems.push(`${p.id}: fewer than 2 samples after the warm-up`); continue }
    const rss = after.map(s => s.rssKb)
    const min = Math.min(...rss)
    const max = Math.max(...rss)
    const spread = (max - min) / min
    const fdFirst = after[0].fds
    const fdLast = after[after.length - 1].fds
    const fdMax = Math.max(...after.map(s => s.fds))
    const slope = slopePerMinute(after.map(s => [s.t, s.rssKb / 1024]))
    const heapSlope = slopePerMinute(after.filter(s => Number.isFinite(s.heapMb)).map(s => [s.t, s.heapMb]))
    verdicts.push(`[soak] ${p.id}: RSS ${(min / 1024).toFixed(1)}–${(max / 1024).toFixed(1)} MB (spread ${(spread * 100).toFixed(1)}%, first ${(rss[0] / 1024).toFixed(1)} → last ${(rss[rss.length - 1] / 1024).toFixed(1)} MB, trend ${slope.toFixed(2)} MB/min; heap trend ${heapSlope.toFixed(2)} MB/min), FDs ${fdFirst} → ${fdLast} (max ${fdMax}); ${trimsById.get(p.id)}`)
    if (spread > RSS_TOLERANCE) problems.push(`${p.id}: RSS spread ${(spread * 100).toFixed(1)}% > ${RSS_TOLERANCE * 100}%`)
    if (fdLast > fdFirst + FD_SLACK) problems.push(`${p.id}: FDs grew ${fdFirst} → ${fdLast}`)
  }
  if (process.env.SOAK_JSON) writeFileSync(process.env.SOAK_JSON, JSON.stringify({ minutes: MINUTES, rate: RATE, load, series: Object.fromEntries(series) }, null, 2))
  console.log('')
  for (const v of verdicts) console.log(v)
  console.log(summaryLine(load, `rate=${RATE}/s achieved=${(load.requests / (load.durationMs / 1000)).toFixed(1)}/s`))
  assert.deepEqual(problems, [])
  assert.equal(load.failures, 0, `failed requests (${errorPercent(load).toFixed(3)}%): ${JSON.stringify(load.firstFailures)}`)
} catch (err) {
  console.error(err)
  exitCode = 1
} finally {
  await rm.stop()
}
process.exit(exitCode)
