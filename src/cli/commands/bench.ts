/**
 * `meshwork bench`: flags → src/bench functions → text or JSON. No measuring logic lives here.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  BenchStore, captureEnvironment, exportFortio, importFortio, type LoadProgress, type LoadResult, measureCeiling,
  type PerformanceTestResult, resolveDataDir, runLoad, runSearch, runSuite, runSweep, SCENARIO_NAMES, type ScenarioLoad,
  type ScenarioName, scenarioAvailability, summarizeSuite, toSmp
} from '../../bench/index.ts'
import { formatCeiling, formatCompare, formatGroupCompare, formatList, formatResult, formatSearch, formatSuite, formatSweep, type GroupSummary, progressLine } from '../../bench/report.ts'
import { isScenarioName } from '../../bench/scenarios/scenarios.ts'
import { parseDurationMs, parseHeaders, parseIntList, parseLabels, parsePositiveInt, parseRate } from '../../bench/units.ts'
import { BenchError, BenchOptionInvalidError, BenchResultNotFoundError } from '../../errors.ts'
import { processAlive, readContext } from '../context.ts'

export const usage = `Usage: meshwork bench <subcommand> [options]

Measure what being on the mesh costs: the same app, the same load, under no mesh, Meshwork
(mTLS off / on, tracing off / on) and nginx / HAProxy sidecars. Results are SMP JSON, stored in SQLite.

Subcommands:
  run <url>        one load run against a URL; without one, the ingress (/productpage) of the running
                   \`meshwork up\` recorded in <data-dir>/context.json
  suite            start the scenarios and run them interleaved, repeated; medians, ratios to no-mesh,
                   CPU and RSS of every proxy
  sweep            connections × scenario table (latency ratio to the lowest concurrency, overhead
                   ratio to no-mesh)
  search           highest rate a scenario sustains while p99 stays under --slo-p99
  ceiling          the load generator's own ceiling (closed loop against a raw in-process target)
  scenarios        list the scenarios and whether they can run on this machine
  list             stored results (newest first)
  show <id>        one stored result (or a suite/sweep/search group, e.g. a run of the UI)
  compare <id>...  results side by side, ratios to the first; one group id compares its results;
                   two or more groups (UI runs, suites) compare per scenario, ratios to the first group
  export <id>      print a stored result as SMP JSON (--format smp) or fortio-like JSON (--format fortio)
  import <file>    store a fortio JSON result (RequestedQPS as string or number, histogram in seconds)

Load options (run, suite, sweep, search):
  -c, --connections <n>    concurrent keep-alive connections (default 16; sweep: --sweep list)
  -t, --threads <n>        load generator worker threads (default min(2, connections))
  -r, --rate <n|max>       requests/s across all connections, open loop with latency from the scheduled
                           send time (coordinated omission corrected); 0 or "max" = closed loop (default)
  -d, --duration <dur>     measured phase, e.g. 10s, 500ms (default 10s; suite/sweep/search 5s)
  -n, --requests <n>       measured phase as a request count instead (duration still bounds it)
      --warmup <dur>       warm-up before the measured phase, not recorded (default 1s)
      --timeout <dur>      per-request timeout (default 10s)
  -m, --method <verb>      HTTP method (default GET)
  -H, --header <h: v>      request header, repeatable
      --body <text>        request body
      --path <path>        request path for scenarios (default /)
      --h2                 HTTP/2 (h2 over TLS with ALPN for https, h2c prior knowledge for http)
      --grpc               run: unary gRPC calls (h2c for http, TLS+ALPN h2 for https); the URL's path is
                           the method (http://host:50051/pkg.Service/Method); codes counted per grpc-status
      --message-size <bytes>  run --grpc: bytes of each call's request message (default 100)
  -k, --insecure           do not verify the target's certificate
      --ca/--cert/--key <file>  TLS trust bundle / client certificate and key (PEM)
      --max-error-ratio <x>     fail with MESH_ERR_BENCH_TARGET_ERRORS above this share of failed or
                           4xx/5xx requests (default 0.05)

Scenario options (suite, sweep, search):
  -s, --scenarios <a,b>    ${SCENARIO_NAMES.join(', ')}
                           (default: every scenario that can run here)
      --repeat <n>         rounds (suite default 3, sweep default 1)
      --sweep <list>       connection levels for sweep (default 8,16,32,100)
      --body-size <bytes>  app response body size (default 100)
      --scenario <name>    scenario for search (default meshwork-mtls, or no-mesh if unavailable)
      --slo-p99 <dur>      search: p99 bound, e.g. 5ms
      --start-rate <n>     search: first rate (default 500)
      --max-rate <n>       search: highest rate tried (default 200000)
      --steps <n>          search: most probes (default 10)

Output and storage:
      --json               JSON on stdout (no progress bar)
      --data-dir <dir>     where bench.db lives (default $MESHWORK_DATA_DIR or ./.meshwork); the UI of
                           \`meshwork up\` stores its runs in the --data-dir of \`meshwork up\`
      --no-store           do not store results
      --label <k=v>        label stored with the result, repeatable
      --limit <n>          list: how many (default 50)
      --format <smp|fortio>  export format (default smp)
      --out <file>         export: write to a file instead of stdout
      --mesh <name>        import: mesh the fortio run measured (default unknown)
      --mesh-version <v>   import: its version
      --ceiling            run/suite: also measure and report the generator's ceiling

Exit status: 0 done; 1 with a MESH_ERR_BENCH_* code on stderr (a partial result is still printed and stored).
`

export const OPTIONS = {
  connections: { type: 'string', short: 'c' },
  threads: { type: 'string', short: 't' },
  rate: { type: 'string', short: 'r' },
  duration: { type: 'string', short: 'd' },
  requests: { type: 'string', short: 'n' },
  warmup: { type: 'string' },
  timeout: { type: 'string' },
  method: { type: 'string', short: 'm' },
  header: { type: 'string', short: 'H', multiple: true },
  body: { type: 'string' },
  path: { type: 'string' },
  h2: { type: 'boolean' },
  grpc: { type: 'boolean' },
  'message-size': { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'max-error-ratio': { type: 'string' },
  scenarios: { type: 'string', short: 's' },
  scenario: { type: 'string' },
  repeat: { type: 'string' },
  sweep: { type: 'string' },
  'body-size': { type: 'string' },
  'slo-p99': { type: 'string' },
  'start-rate': { type: 'string' },
  'max-rate': { type: 'string' },
  steps: { type: 'string' },
  json: { type: 'boolean' },
  'data-dir': { type: 'string' },
  'no-store': { type: 'boolean' },
  label: { type: 'string', multiple: true },
  limit: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  mesh: { type: 'string' },
  'mesh-version': { type: 'string' },
  ceiling: { type: 'boolean' }
} as const

type Flags = ReturnType<typeof parse>['values']

function parse (argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new BenchOptionInvalidError((err as Error).message)
  }
}

export async function run (argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv)
  const [sub, ...args] = positionals
  const out = new Output(v.json === true)
  switch (sub) {
    case 'run': return cmdRun(v, args, out)
    case 'suite': return cmdSuite(v, out)
    case 'sweep': return cmdSweep(v, out)
    case 'search': return cmdSearch(v, out)
    case 'ceiling': return cmdCeiling(v, out)
    case 'scenarios': return cmdScenarios(out)
    case 'list': return withStore(v, s => { const rows = s.list({ limit: v.limit ? parsePositiveInt(v.limit, '--limit') : 50 }); out.emit(rows, () => rows.length ? formatList(rows) : 'no stored results'); return 0 })
    case 'show': return withStore(v, s => cmdShow(s, one(args, 'show <id>'), out))
    case 'compare': return withStore(v, s => cmdCompare(s, args, out))
    case 'export': return withStore(v, s => cmdExport(s, one(args, 'export <id>'), v))
    case 'import': return withStore(v, s => cmdImport(s, one(args, 'import <file.json>'), v, out))
    case undefined:
      process.stdout.write(usage)
      return 2
    default:
      throw new BenchOptionInvalidError(`unknown subcommand "${sub}" (see meshwork bench --help)`)
  }
}

function one (args: string[], what: string): string {
  if (args.length !== 1) throw new BenchOptionInvalidError(`expected: meshwork bench ${what}`)
  return args[0]
}

/** Text on stdout, or JSON with --json; the progress bar goes to stderr when it is a TTY. */
class Output {
  readonly json: boolean
  private readonly tty: boolean
  private barShown = false
  constructor (json: boolean) {
    this.json = json
    this.tty = !json && process.stderr.isTTY === true
  }

  emit (data: unknown, text: () => string): void {
    this.clearBar()
    process.stdout.write(this.json ? JSON.stringify(data, null, 2) + '\n' : text() + '\n')
  }

  info (line: string): void {
    if (this.json) return
    this.clearBar()
    process.stderr.write(line + '\n')
  }

  progress (p: LoadProgress, label = ''): void {
    if (!this.tty) return
    process.stderr.write('\r' + progressLine(p, label).padEnd(100))
    this.barShown = true
  }

  clearBar (): void {
    if (this.barShown) { process.stderr.write('\r' + ' '.repeat(100) + '\r'); this.barShown = false }
  }
}

function loadOptions (v: Flags, defaults: { durationMs: number }): ScenarioLoad & { tls?: Record<string, unknown> } {
  const o: ScenarioLoad & { tls?: Record<string, unknown> } = {
    durationMs: v.duration ? parseDurationMs(v.duration, '--duration') : defaults.durationMs,
    warmupMs: v.warmup ? parseDurationMs(v.warmup, '--warmup') : 1000,
    rate: v.rate ? parseRate(v.rate) : 0,
    headers: parseHeaders(v.header ?? []),
    protocol: v.grpc ? 'grpc' : v.h2 ? 'h2' : 'http1'
  }
  if (v['message-size'] !== undefined) {
    if (!v.grpc) throw new BenchOptionInvalidError('--message-size: only with --grpc')
    o.messageSize = v['message-size'] === '0' ? 0 : parsePositiveInt(v['message-size'], '--message-size')
  }
  if (v.connections) o.connections = parsePositiveInt(v.connections, '--connections')
  if (v.threads) o.threads = parsePositiveInt(v.threads, '--threads')
  if (v.requests) {
    o.requests = parsePositiveInt(v.requests, '--requests')
    // A request count is bounded by the duration: default to a generous bound when none was given.
    if (!v.duration) o.durationMs = 600_000
  }
  if (v.timeout) o.timeoutMs = parseDurationMs(v.timeout, '--timeout')
  if (v.method) o.method = v.method.toUpperCase()
  if (v.body !== undefined) o.body = v.body
  if (v.path) o.path = v.path
  if (v['max-error-ratio']) {
    const x = Number(v['max-error-ratio'])
    if (!(x >= 0 && x <= 1)) throw new BenchOptionInvalidError('--max-error-ratio: a number from 0 to 1')
    o.maxErrorRatio = x
  }
  const read = (f: string | undefined, flag: string): string | undefined => {
    if (f === undefined) return undefined
    try { return readFileSync(f, 'utf8') } catch (err) { throw new BenchOptionInvalidError(`${flag}: cannot read ${f}: ${(err as Error).message}`) }
  }
  if (v.insecure || v.ca || v.cert || v.key) {
    o.tls = { insecure: v.insecure === true, caPem: read(v.ca, '--ca'), certPem: read(v.cert, '--cert'), keyPem: read(v.key, '--key') }
  }
  return o
}

function scenarioList (v: Flags): ScenarioName[] {
  const avail = scenarioAvailability()
  if (!v.scenarios) return SCENARIO_NAMES.filter(s => avail[s] === null)
  const names = v.scenarios.split(',').map(s => s.trim()).filter(Boolean)
  for (const n of names) if (!isScenarioName(n)) throw new BenchOptionInvalidError(`--scenarios: unknown scenario "${n}" (one of ${SCENARIO_NAMES.join(', ')})`)
  return names as ScenarioName[]
}

function openStore (v: Flags): BenchStore | null {
  return v['no-store'] ? null : BenchStore.open(resolveDataDir(v['data-dir']))
}

async function withStore (v: Flags, f: (s: BenchStore) => number | Promise<number>): Promise<number> {
  const dir = resolveDataDir(v['data-dir'])
  const s = BenchStore.open(dir)
  try {
    return await f(s)
  } catch (err) {
    if (!(err instanceof BenchResultNotFoundError)) throw err
    throw new BenchResultNotFoundError(`${err.message} in ${dir}/bench.db; runs of the UI of \`meshwork up\` are stored in its --data-dir: pass --data-dir <dir> (or set $MESHWORK_DATA_DIR)`, { cause: err })
  } finally {
    s.close()
  }
}

/** `bench run` without a URL: the product page behind the ingress of the running `meshwork up`. */
function contextTarget (v: Flags): string {
  const dir = resolveDataDir(v['data-dir'])
  const ctx = readContext(dir)
  if (ctx === null || ctx.ingressUrl === null || !processAlive(ctx.pid)) {
    throw new BenchOptionInvalidError(`expected: meshwork bench run <url> (no running meshwork up recorded an ingress in ${dir}/context.json)`)
  }
  return `${ctx.ingressUrl}/productpage`
}

async function cmdRun (v: Flags, args: string[], out: Output): Promise<number> {
  const url = args.length === 0 ? contextTarget(v) : one(args, 'run <url>')
  const { path: _path, ...load } = loadOptions(v, { durationMs: 10_000 })
  const store = openStore(v)
  const env = captureEnvironment()
  const labels = parseLabels(v.label ?? [])
  const finish = (r: LoadResult): PerformanceTestResult => {
    const smp = toSmp({ result: r, env, mesh: { type: v.mesh ?? 'unknown', version: v['mesh-version'] ?? '', config: {} }, name: 'run', scenario: 'run', labels })
    store?.save(smp)
    return smp
  }
  try {
    const ceiling = v.ceiling ? await measureCeiling({ onProgress: p => out.progress(p, 'ceiling') }) : undefined
    if (ceiling) out.info(formatCeiling(ceiling))
    let result: LoadResult
    try {
      result = await runLoad({ ...load, url }, { onProgress: p => out.progress(p), signal: interruptSignal() })
    } catch (err) {
      if (err instanceof BenchError && err.partial !== undefined) {
        const smp = finish(err.partial as LoadResult)
        smp.meshwork.stopped = `${err.code}: ${err.message}`
        store?.save(smp)
        out.emit({ error: { code: err.code, message: err.message }, partial: smp }, () => formatResult(smp))
      }
      throw err
    }
    const smp = finish(result)
    out.emit(ceiling ? { ...smp, ceiling } : smp, () => formatResult(smp))
    return 0
  } finally {
    store?.close()
  }
}

/** The scenario apps speak HTTP; gRPC is measured with `bench run --grpc` and bench/grpc-overhead.ts. */
function noGrpc (v: Flags, sub: string): void {
  if (v.grpc) throw new BenchOptionInvalidError(`--grpc: only with \`bench run\` (the ${sub} scenarios serve HTTP; bench/grpc-overhead.ts compares gRPC through the meshes)`)
}

async function cmdSuite (v: Flags, out: Output): Promise<number> {
  noGrpc(v, 'suite')
  const scenarios = scenarioList(v)
  const repeat = v.repeat ? parsePositiveInt(v.repeat, '--repeat') : 3
  const load = loadOptions(v, { durationMs: 5000 })
  const store = openStore(v)
  try {
    const ceiling = v.ceiling ? await measureCeiling({ onProgress: p => out.progress(p, 'ceiling') }) : undefined
    if (ceiling) out.info(formatCeiling(ceiling))
    skipped(v, out)
    const r = await runSuite({
      scenarios,
      repeat,
      onAborted: partial => out.emit({ error: { code: 'MESH_ERR_BENCH_ABORTED' }, summary: summarizeSuite(partial, scenarios), results: partial }, () => `aborted; what was measured:\n${formatSuite(summarizeSuite(partial, scenarios), repeat)}`),
      load,
      bodySize: v['body-size'] ? parsePositiveInt(v['body-size'], '--body-size') : undefined,
      signal: interruptSignal(),
      onResult: smp => store?.save(smp),
      onEvent: e => {
        if (e.type === 'log') out.info(e.message)
        else if (e.type === 'progress') out.progress(e.progress, `${e.scenario} #${e.repeat}`)
        else if (e.type === 'run-end') out.info(`${e.scenario} #${e.repeat}: ${e.result ? `${Math.round(e.result.actual_qps)} rps, p50 ${e.result.latencies.p50} ms, p99 ${e.result.latencies.p99} ms` : 'no result'}${e.error ? ` — ${e.error.code}: ${e.error.message}` : ''}`)
      }
    })
    store?.saveGroup({ id: r.group, kind: 'suite', createdAt: new Date().toISOString(), name: scenarios.join(','), summary: { summary: r.summary, failures: r.failures, repeat, ceiling, otlpExports: r.otlpExports } })
    out.emit({ group: r.group, env: r.env, ceiling, summary: r.summary, failures: r.failures, otlpExports: r.otlpExports, results: r.results }, () =>
      `${formatSuite(r.summary, repeat)}${r.otlpExports === null ? '' : `\n\nOTLP trace exports received from the tracing scenario: ${r.otlpExports}`}${r.failures.length ? `\n\nfailed runs:\n${r.failures.map(f => `  ${f.scenario} #${f.repeat}: ${f.code}: ${f.message}`).join('\n')}` : ''}\n\ngroup ${r.group}`)
    return r.failures.length > 0 ? 1 : 0
  } finally {
    store?.close()
  }
}

function skipped (v: Flags, out: Output): void {
  if (v.scenarios) return
  for (const [name, why] of Object.entries(scenarioAvailability())) if (why !== null) out.info(`skipping ${name}: ${why}`)
}

async function cmdSweep (v: Flags, out: Output): Promise<number> {
  noGrpc(v, 'sweep')
  const scenarios = scenarioList(v)
  const levels = v.sweep ? parseIntList(v.sweep, '--sweep') : undefined
  const { connections: _c, ...load } = loadOptions(v, { durationMs: 5000 })
  const store = openStore(v)
  try {
    skipped(v, out)
    const r = await runSweep({
      scenarios,
      connections: levels,
      repeat: v.repeat ? parsePositiveInt(v.repeat, '--repeat') : 1,
      load,
      bodySize: v['body-size'] ? parsePositiveInt(v['body-size'], '--body-size') : undefined,
      signal: interruptSignal(),
      onResult: smp => store?.save(smp),
      onEvent: e => {
        if (e.type === 'log') out.info(e.message)
        else if (e.type === 'cell') out.info(`${e.scenario} c=${e.connections}${e.repeat > 1 ? ` #${e.repeat}` : ''}`)
        else out.progress(e.progress)
      }
    })
    store?.saveGroup({ id: r.group, kind: 'sweep', createdAt: new Date().toISOString(), name: scenarios.join(','), summary: { connections: r.connections, cells: r.cells } })
    out.emit({ group: r.group, env: r.env, connections: r.connections, cells: r.cells, results: r.results }, () => `${formatSweep(r.cells, r.connections)}\n\ngroup ${r.group}`)
    return r.cells.some(c => c.failed > 0) ? 1 : 0
  } finally {
    store?.close()
  }
}

async function cmdSearch (v: Flags, out: Output): Promise<number> {
  noGrpc(v, 'search')
  if (!v['slo-p99']) throw new BenchOptionInvalidError('--slo-p99 is required, e.g. --slo-p99 5ms')
  const avail = scenarioAvailability()
  const scenario = v.scenario ?? (avail['meshwork-mtls'] === null ? 'meshwork-mtls' : 'no-mesh')
  if (!isScenarioName(scenario)) throw new BenchOptionInvalidError(`--scenario: unknown scenario "${scenario}"`)
  const { rate: _r, ...load } = loadOptions(v, { durationMs: 5000 })
  const store = openStore(v)
  try {
    const r = await runSearch({
      scenario,
      sloP99Ms: parseDurationMs(v['slo-p99'], '--slo-p99'),
      startRate: v['start-rate'] ? parseRate(v['start-rate'], '--start-rate') : undefined,
      maxRate: v['max-rate'] ? parseRate(v['max-rate'], '--max-rate') : undefined,
      maxSteps: v.steps ? parsePositiveInt(v.steps, '--steps') : undefined,
      load,
      bodySize: v['body-size'] ? parsePositiveInt(v['body-size'], '--body-size') : undefined,
      signal: interruptSignal(),
      onResult: smp => store?.save(smp),
      onEvent: e => {
        if (e.type === 'log') out.info(e.message)
        else if (e.type === 'probe') out.info(`rate ${e.probe.rate}/s: ${e.probe.pass ? 'pass' : `fail (${e.probe.reason})`}, p99 ${e.probe.p99} ms, ${Math.round(e.probe.actualQps)} rps`)
        else out.progress(e.progress, 'probe')
      }
    })
    store?.saveGroup({ id: r.group, kind: 'search', createdAt: new Date().toISOString(), name: scenario, summary: { sloP99Ms: r.sloP99Ms, maxRate: r.maxRate, probes: r.probes } })
    out.emit({ group: r.group, scenario: r.scenario, sloP99Ms: r.sloP99Ms, maxRate: r.maxRate, probes: r.probes }, () => `${formatSearch(r)}\n\ngroup ${r.group}`)
    return 0
  } finally {
    store?.close()
  }
}

async function cmdCeiling (v: Flags, out: Output): Promise<number> {
  const c = await measureCeiling({
    connections: v.connections ? parsePositiveInt(v.connections, '--connections') : undefined,
    threads: v.threads ? parsePositiveInt(v.threads, '--threads') : undefined,
    durationMs: v.duration ? parseDurationMs(v.duration, '--duration') : undefined,
    signal: interruptSignal(),
    onProgress: p => out.progress(p, 'ceiling')
  })
  out.emit(c, () => formatCeiling(c))
  return 0
}

function cmdScenarios (out: Output): number {
  const a = scenarioAvailability()
  out.emit(a, () => Object.entries(a).map(([n, why]) => `${n.padEnd(22)} ${why === null ? 'available' : `unavailable: ${why}`}`).join('\n'))
  return 0
}

function cmdShow (s: BenchStore, id: string, out: Output): number {
  if (s.isGroup(id)) {
    const g = s.getGroup(id)
    const rs = s.list({ group: g.id })
    out.emit({ ...g, results: rs }, () => `${g.kind} ${g.id} (${g.name}) ${g.createdAt}\n${formatList(rs)}`)
    return 0
  }
  const r = s.get(id)
  out.emit(r, () => formatResult(r))
  return 0
}

function cmdCompare (s: BenchStore, ids: string[], out: Output): number {
  if (ids.length === 0) throw new BenchOptionInvalidError('expected: meshwork bench compare <id|group> [id...]')
  const groupResults = (id: string): PerformanceTestResult[] => s.list({ group: s.getGroup(id).id }).map(r => s.get(r.id))
  if (ids.length > 1 && ids.every(id => s.isGroup(id))) {
    const groups: GroupSummary[] = ids.map(id => {
      const g = s.getGroup(id)
      const rs = groupResults(g.id)
      return { id: g.id, name: g.name, summary: summarizeSuite(rs, [...new Set(rs.map(r => r.meshwork.scenario))]) }
    })
    if (groups.every(g => g.summary.length === 0)) throw new BenchOptionInvalidError('nothing to compare: the groups have no results')
    out.emit(groups.map(g => ({ group: g.id, name: g.name, scenarios: g.summary.map(x => ({ scenario: x.scenario, runs: x.runs, qps: x.qps, p50: x.p50, p90: x.p90, p99: x.p99 })) })), () => formatGroupCompare(groups))
    return 0
  }
  // One group: its results; results and groups mixed: every result of each group, then the others.
  const results = ids.flatMap(id => s.isGroup(id) ? groupResults(id) : [s.get(id)])
  if (results.length === 0) throw new BenchOptionInvalidError('nothing to compare')
  out.emit(results.map(r => ({ id: r.id, scenario: r.meshwork.scenario, mesh: r.mesh_config.type, actual_qps: r.actual_qps, latencies: r.latencies })), () => formatCompare(results))
  return 0
}

function cmdExport (s: BenchStore, id: string, v: Flags): number {
  const r = s.get(id)
  const format = v.format ?? 'smp'
  if (format !== 'smp' && format !== 'fortio') throw new BenchOptionInvalidError('--format: smp or fortio')
  const text = JSON.stringify(format === 'smp' ? r : exportFortio(r), null, 2) + '\n'
  if (v.out) writeFileSync(v.out, text); else process.stdout.write(text)
  return 0
}

function cmdImport (s: BenchStore, file: string, v: Flags, out: Output): number {
  let json: unknown
  try {
    json = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new BenchOptionInvalidError(`cannot read ${file} as JSON: ${(err as Error).message}`)
  }
  const r = importFortio(json, { mesh: { type: v.mesh ?? 'unknown', version: v['mesh-version'] ?? '', config: {} }, scenario: v.scenario })
  s.save(r)
  out.emit(r, () => `imported ${file} as ${r.id}\n${formatResult(r)}`)
  return 0
}

/** Ctrl-C aborts the run (partial result kept); a second Ctrl-C exits at once. */
function interruptSignal (): AbortSignal {
  const ac = new AbortController()
  const onInt = (): void => {
    if (ac.signal.aborted) process.exit(130)
    ac.abort()
  }
  process.on('SIGINT', onInt)
  return ac.signal
}
