/**
 * The conformance runner: selects the upstream tests of the asked profiles, starts one conformance mesh,
 * and for each test applies its (translated) manifests, checks the route status assertions, sends every
 * ExpectedResponse until it is consistently met, and removes the test's resources again.
 */
import http from 'node:http'
import { KINDS } from '../config/resource.ts'
import { type ExpectedResponse, loadUpstreamCases, readUpstreamManifest, type UpstreamTest } from './cases.ts'
import { type ConformanceMesh, startConformanceMesh } from './conformance-mesh.ts'
import { type Captured, compareCase, sendCase, type Target } from './http-check.ts'
import { checkStatusAssertions } from './status-check.ts'
import { type ProfileName, profileFeatures, SKIPPED_TESTS, SUPPORTED_FEATURES } from './support.ts'
import { type AdaptationId, keyOf, translateManifests } from './translate.ts'

export type Outcome = 'passed' | 'failed' | 'skipped'

export interface TestResult {
  name: string
  description: string
  /** Profiles the test belongs to, each with the level it counts at there. */
  profiles: { profile: ProfileName, level: 'core' | 'extended' }[]
  outcome: Outcome
  reason?: string
  cases: { name: string, ok: boolean, error?: string }[]
  adaptations: AdaptationId[]
  ms: number
}

export interface ConformanceRun {
  ref: string
  commit: string
  profiles: ProfileName[]
  results: TestResult[]
  adaptations: AdaptationId[]
}

export interface RunOptions {
  profiles: ProfileName[]
  dataDir: string
  /** Only tests whose ShortName is listed (default: all of the profiles). */
  only?: string[]
  log?: (line: string) => void
  /** Consecutive matching answers a case needs, and how long it may take to get them (the suite: 3 within 30 s). */
  consecutive?: number
  maxTimeToConsistencyMs?: number
  echo?: NodeJS.WritableStream | null
}

const MESH_TESTS = /^Mesh/

/** The level a test counts at in a profile, or null when the profile does not cover all its features. */
function levelIn (profile: ProfileName, t: UpstreamTest): 'core' | 'extended' | null {
  const { core, extended } = profileFeatures(profile)
  if (!t.features.every(f => core.includes(f) || extended.includes(f))) return null
  // The GATEWAY-* profiles hold Gateway tests, MESH-* the mesh ones (the suite decides by features too).
  if (profile.startsWith('MESH') !== t.features.includes('Mesh')) return null
  if (profile === 'GATEWAY-GRPC' && !t.features.includes('GRPCRoute')) return null
  if (profile !== 'GATEWAY-GRPC' && t.features.includes('GRPCRoute')) return null
  return t.features.every(f => core.includes(f)) ? 'core' : 'extended'
}

function caseName (tc: ExpectedResponse, i: number): string {
  if (tc.TestCaseName !== undefined) return tc.TestCaseName
  const headers = Object.entries(tc.Request.Headers ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
  return `${i} request to '${tc.Request.Host ?? ''}${tc.Request.Path ?? '/'}'${headers !== '' ? ` with headers ${headers}` : ''}${tc.Backend ? ` should go to ${tc.Backend}` : ''}${tc.Response?.StatusCode ? ` should receive a ${tc.Response.StatusCode}` : ''}`
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

function fetchLog (port: number, since: number): Promise<{ seq: number, entries: { n: number, path: string, headers: Record<string, string[]> }[] }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/__conformance/log?since=${since}`, timeout: 5000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', c => { body += c })
      res.on('end', () => { try { resolve(JSON.parse(body)) } catch (err) { reject(err) } })
    }).on('error', reject)
  })
}

/** How many of the tagged requests each mirror backend received. */
async function mirrorCounts (cm: ConformanceMesh, tc: ExpectedResponse, tagPrefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const m of tc.MirroredTo ?? []) {
    let n = 0
    for (const port of cm.appPorts(m.BackendRef.Name)) {
      const log = await fetchLog(port, 0)
      n += log.entries.filter(e => (e.headers['X-Conformance-Tag'] ?? []).some(v => v.startsWith(tagPrefix))).length
    }
    out.set(m.BackendRef.Name, n)
  }
  return out
}

let tagSeq = 0

/** One case: consistent answers first (as the suite's WaitForConsistentResponse), then mirror / weight checks. */
async function runCase (cm: ConformanceMesh, target: Target, tc: ExpectedResponse, opts: Required<Pick<RunOptions, 'consecutive' | 'maxTimeToConsistencyMs'>>): Promise<string | null> {
  const deadline = Date.now() + opts.maxTimeToConsistencyMs
  let good = 0
  let last: string | null = 'no answer'
  const tag = `c${++tagSeq}-`
  let sent = 0
  while (Date.now() < deadline) {
    let got: Captured
    try {
      got = await sendCase(target, tc, { 'X-Conformance-Tag': `${tag}${sent++}` })
      last = compareCase(tc, got, tc.Request.Path ?? '/')
    } catch (err) {
      last = `request failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
    }
    if (last === null) {
      if (++good >= opts.consecutive) break
    } else {
      good = 0
      await sleep(200)
    }
  }
  if (last !== null) return last
  const mirrors = tc.MirroredTo ?? []
  if (mirrors.length === 0) return null
  const percent = mirrors.find(m => m.Percent !== undefined)?.Percent
  if (percent === undefined) {
    // Every request is mirrored: each mirror backend saw them (mirrors are fire-and-forget: poll briefly).
    for (let i = 0; i < 20; i++) {
      const counts = await mirrorCounts(cm, tc, tag)
      if ([...counts.values()].every(n => n >= sent)) return null
      if (i === 19) return `mirrors received ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')} of ${sent} requests`
      await sleep(150)
    }
  }
  // A share of the requests is mirrored: send 200 more and compare the share (±10 points).
  const n = 200
  const ptag = `p${++tagSeq}-`
  for (let i = 0; i < n; i++) await sendCase(target, tc, { 'X-Conformance-Tag': `${ptag}${i}` })
  await sleep(500)
  const counts = await mirrorCounts(cm, tc, ptag)
  for (const m of mirrors) {
    const share = (counts.get(m.BackendRef.Name) ?? 0) / n * 100
    if (Math.abs(share - (m.Percent ?? 100)) > 10) return `mirror ${m.BackendRef.Name} got ${share.toFixed(0)} % of ${n} requests, expected ${m.Percent} %`
  }
  return null
}

/** HTTPRouteWeight: the distribution over 500 requests within 5 points of the weights (the suite retries up to 10 times). */
async function weightCheck (target: Target, tc: ExpectedResponse, route: Record<string, unknown>): Promise<string | null> {
  const rule = ((route.spec as { rules: { backendRefs: { name: string, weight?: number }[] }[] }).rules)[0]
  const total = rule.backendRefs.reduce((s, b) => s + (b.weight ?? 1), 0)
  let last = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const counts = new Map<string, number>()
    const n = 500
    for (let i = 0; i < n; i++) {
      const got = await sendCase(target, tc)
      const pod = got.echo?.pod ?? `status ${got.status}`
      const backend = rule.backendRefs.find(b => pod.startsWith(b.name))?.name ?? pod
      counts.set(backend, (counts.get(backend) ?? 0) + 1)
    }
    const off = rule.backendRefs.filter(b => Math.abs((counts.get(b.name) ?? 0) / n - (b.weight ?? 1) / total) > 0.05)
    const stray = [...counts.keys()].filter(k => !rule.backendRefs.some(b => b.name === k))
    if (off.length === 0 && stray.length === 0) return null
    last = `distribution ${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')} of ${n} does not match the weights ${rule.backendRefs.map(b => `${b.name}: ${b.weight ?? 1}`).join(', ')}`
  }
  return last
}

/**
 * Run the conformance tests of `opts.profiles` against a fresh local mesh.
 *
 * @example const run = await runConformance({ profiles: ['GATEWAY-HTTP'], dataDir: '/tmp/c' })
 */
export async function runConformance (opts: RunOptions): Promise<ConformanceRun> {
  const log = opts.log ?? (() => {})
  const cases = loadUpstreamCases()
  const known = new Set<string>(KINDS)
  const results: TestResult[] = []
  const runnable: { t: UpstreamTest, result: TestResult, resources: Record<string, unknown>[] }[] = []
  const gateways: Record<string, unknown>[] = []
  for (const t of cases.tests) {
    if (opts.only !== undefined && !opts.only.includes(t.shortName)) continue
    const profiles = opts.profiles.flatMap(p => { const level = levelIn(p, t); return level === null ? [] : [{ profile: p, level }] })
    if (profiles.length === 0) continue
    const result: TestResult = { name: t.shortName, description: t.description, profiles, outcome: 'skipped', cases: [], adaptations: [], ms: 0 }
    results.push(result)
    const missing = t.features.filter(f => !SUPPORTED_FEATURES.has(f))
    if (missing.length > 0) { result.reason = `unsupported feature${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`; continue }
    if (SKIPPED_TESTS[t.shortName] !== undefined) { result.reason = SKIPPED_TESTS[t.shortName]; continue }
    const used = new Set<AdaptationId>()
    const resources: Record<string, unknown>[] = []
    for (const m of t.manifests) {
      const tr = translateManifests(readUpstreamManifest(m))
      for (const u of tr.used) used.add(u)
      resources.push(...tr.resources)
    }
    const unknownKinds = [...new Set(resources.map(r => String(r.kind)).filter(k => !known.has(k)))]
    if (unknownKinds.length > 0) { result.reason = `needs ${unknownKinds.join(', ')}, which Meshwork does not implement yet`; continue }
    gateways.push(...resources.filter(r => r.kind === 'Gateway'))
    used.add(MESH_TESTS.test(t.shortName) ? 'mesh-client' : 'gateway-address')
    result.adaptations = [...used]
    runnable.push({ t, result, resources: resources.filter(r => r.kind !== 'Gateway') })
  }
  const all = new Set<AdaptationId>()
  if (runnable.length > 0) {
    log(`starting the conformance mesh for ${runnable.length} tests`)
    const cm = await startConformanceMesh({ dataDir: opts.dataDir, gateways, meshEcho: runnable.some(r => MESH_TESTS.test(r.t.shortName)), echo: opts.echo })
    for (const u of cm.used) all.add(u)
    try {
      for (const r of runnable) {
        const started = Date.now()
        await runTest(cm, r.t, r.result, r.resources, { consecutive: opts.consecutive ?? 2, maxTimeToConsistencyMs: opts.maxTimeToConsistencyMs ?? 10_000 })
        r.result.ms = Date.now() - started
        for (const a of r.result.adaptations) all.add(a)
        log(`${r.result.outcome === 'passed' ? 'PASS' : 'FAIL'} ${r.t.shortName} (${r.result.cases.filter(c => c.ok).length}/${r.result.cases.length} cases, ${r.result.ms} ms)${r.result.reason ? `: ${r.result.reason}` : ''}`)
        for (const c of r.result.cases.filter(c => !c.ok)) log(`       ${c.name}: ${c.error}`)
      }
    } finally {
      await cm.stop()
    }
  }
  for (const r of results.filter(r => r.outcome === 'skipped')) log(`SKIP ${r.name}: ${r.reason}`)
  return { ref: cases.ref, commit: cases.commit, profiles: opts.profiles, results, adaptations: [...all] }
}

async function runTest (cm: ConformanceMesh, t: UpstreamTest, result: TestResult, resources: Record<string, unknown>[], opts: Required<Pick<RunOptions, 'consecutive' | 'maxTimeToConsistencyMs'>>): Promise<void> {
  const cp = cm.mesh.controlPlane
  const applied = await cp.apply(resources, t.manifests.join(', '))
  if (!applied.ok) {
    result.outcome = 'failed'
    result.reason = `the control plane refused the manifests: ${(applied.problems ?? []).map(p => `${p.resource ?? ''} ${p.path}: ${p.reason}`).join('; ')}`
    return
  }
  try {
    await cp.waitForSync(10_000)
    const status = checkStatusAssertions(cp.resources(), t)
    result.cases.push(...status)
    const mesh = MESH_TESTS.test(t.shortName)
    let target: Target
    if (mesh) {
      const port = cm.outboundPort('echo', 'v1')
      if (port === undefined) throw new Error('the echo-v1 client sidecar is not running')
      target = { host: '127.0.0.1', port, defaultHost: 'echo', absolute: true }
    } else {
      const gw = t.names.gwNN?.Name ?? 'same-namespace'
      const port = cm.gatewayPort(gw)
      if (port === undefined) throw new Error(`no proxy for Gateway ${gw}`)
      // The Host the suite's client sends: the Gateway's address, without the port when it is 80 (CalculateHost).
      const listener = cm.listenerPort(gw) ?? 80
      target = { host: '127.0.0.1', port, defaultHost: listener === 80 ? '127.0.0.1' : `127.0.0.1:${listener}`, absolute: false }
    }
    const list = t.expectedResponses
    for (let i = 0; i < list.length; i++) {
      const tc = list[i].value
      const name = caseName(tc, i)
      let error: string | null
      try {
        error = t.shortName === 'HTTPRouteWeight'
          ? await runCase(cm, target, tc, opts) ?? await weightCheck(target, tc, resources.find(r => r.kind === 'HTTPRoute')!)
          : await runCase(cm, target, tc, opts)
      } catch (err) {
        error = (err as Error).message
      }
      result.cases.push(error === null ? { name, ok: true } : { name, ok: false, error })
    }
    // A test with nothing checked must not count as passed.
    if (result.cases.length === 0) { result.outcome = 'failed'; result.reason = 'none of its checks could be read or run' } else result.outcome = result.cases.every(c => c.ok) ? 'passed' : 'failed'
  } catch (err) {
    result.outcome = 'failed'
    result.reason = (err as Error).message
  } finally {
    const removed = await cp.delete(resources.map(keyOf))
    if (!removed.ok) result.reason = `${result.reason ?? ''} (cleanup refused: ${(removed.problems ?? []).map(p => p.reason).join('; ')})`.trim()
    await cp.waitForSync(10_000)
  }
}
