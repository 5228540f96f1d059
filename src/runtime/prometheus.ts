import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { RuntimeStartError } from '../errors.ts'
import { LogSink } from './log-sink.ts'
import { PortAllocator } from './ports.ts'
import { waitForHttpOk } from './readiness.ts'
import { SupervisedProcess } from './supervised-process.ts'

/** One proxy's admin listener, scraped at `/metrics`. */
export interface ScrapeTarget {
  /** `127.0.0.1:15000` */
  address: string
  /** Extra labels on every series of the target, e.g. `{ proxy: 'reviews-v2-0', service: 'reviews' }`. */
  labels?: Record<string, string>
}

export interface PrometheusFiles { configPath: string, targetsPath: string }

/**
 * Write `prometheus.yml` (one job, `meshwork-proxies`, reading its targets from `targets.json` via
 * file_sd) into `dir`. Prometheus re-reads targets.json when it changes, so {@link writeScrapeTargets}
 * can follow proxies coming and going without a restart.
 *
 * @example
 * const files = writePrometheusConfig('.meshwork/prometheus', targets, 1000)
 * // prometheus --config.file=.meshwork/prometheus/prometheus.yml
 */
export function writePrometheusConfig (dir: string, targets: ScrapeTarget[], scrapeIntervalMs = 5000): PrometheusFiles {
  mkdirSync(dir, { recursive: true })
  const configPath = join(dir, 'prometheus.yml')
  const targetsPath = join(dir, 'targets.json')
  const interval = `${Math.max(1, Math.round(scrapeIntervalMs / 1000))}s`
  writeFileSync(configPath, [
    '# Written by meshwork: scrapes the admin /metrics of every proxy of the local mesh.',
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: meshwork-proxies',
    '    metrics_path: /metrics',
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(targetsPath)}]`,
    '        refresh_interval: 5s',
    ''
  ].join('\n'))
  writeScrapeTargets(targetsPath, targets)
  return { configPath, targetsPath }
}

/** Replace the file_sd target list atomically (write then rename, so Prometheus never reads half a file). */
export function writeScrapeTargets (targetsPath: string, targets: ScrapeTarget[]): void {
  const groups = targets.map(t => ({ targets: [t.address], labels: t.labels ?? {} }))
  const tmp = `${targetsPath}.tmp`
  writeFileSync(tmp, JSON.stringify(groups, null, 2) + '\n')
  renameSync(tmp, targetsPath)
}

export interface PrometheusOptions {
  /** Directory for the config, the TSDB and the log. */
  dir: string
  targets: ScrapeTarget[]
  scrapeIntervalMs?: number
  /** Listen port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  binary?: string
  startTimeoutMs?: number
}

export interface PromSample { metric: Record<string, string>, value: number }

/**
 * A real Prometheus server (the Debian `prometheus` binary) scraping the given targets.
 *
 * @example
 * const prom = await startPrometheus({ dir: tmp, targets, scrapeIntervalMs: 1000 })
 * const rates = await prom.query('sum by (destination) (rate(meshwork_requests_total[30s]))')
 * await prom.stop()
 */
export class PrometheusServer {
  readonly url: string
  readonly files: PrometheusFiles
  readonly process: SupervisedProcess

  constructor (url: string, files: PrometheusFiles, proc: SupervisedProcess) {
    this.url = url
    this.files = files
    this.process = proc
  }

  setTargets (targets: ScrapeTarget[]): void {
    writeScrapeTargets(this.files.targetsPath, targets)
  }

  /** Instant PromQL query; vector results as `{ metric, value }`. */
  async query (promql: string): Promise<PromSample[]> {
    const body = await getJson(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`) as { status: string, data?: { resultType: string, result: { metric: Record<string, string>, value: [number, string] }[] }, error?: string }
    if (body.status !== 'success' || body.data === undefined) throw new RuntimeStartError(`Prometheus query failed: ${body.error ?? body.status}`)
    if (body.data.resultType !== 'vector') throw new RuntimeStartError(`Prometheus query returned ${body.data.resultType}, expected a vector`)
    return body.data.result.map(r => ({ metric: r.metric, value: Number(r.value[1]) }))
  }

  /** Scrape targets as Prometheus sees them: address → health (`up`, `down`, `unknown`). */
  async targetHealth (): Promise<Map<string, string>> {
    const body = await getJson(`${this.url}/api/v1/targets`) as { data: { activeTargets: { labels: Record<string, string>, health: string }[] } }
    return new Map(body.data.activeTargets.map(t => [t.labels.instance, t.health]))
  }

  stop (): Promise<void> {
    return this.process.stop().then(() => this.process.spec.log.close())
  }
}

export async function startPrometheus (opts: PrometheusOptions): Promise<PrometheusServer> {
  const files = writePrometheusConfig(opts.dir, opts.targets, opts.scrapeIntervalMs)
  const port = await new PortAllocator().claim(opts.port ?? 0, 'Prometheus')
  const url = `http://127.0.0.1:${port}`
  const proc = new SupervisedProcess({
    name: 'prometheus',
    command: opts.binary ?? 'prometheus',
    args: [
      `--config.file=${files.configPath}`,
      `--storage.tsdb.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn'
    ],
    restart: false,
    stopTimeoutMs: 10_000,
    log: new LogSink('prometheus', opts.dir)
  })
  const ac = new AbortController()
  proc.once('exit', () => ac.abort(new Error('prometheus exited')))
  proc.start()
  try {
    await waitForHttpOk(`${url}/-/ready`, { timeoutMs: opts.startTimeoutMs ?? 60_000, intervalMs: 200, signal: ac.signal })
  } catch (err) {
    await proc.stop()
    throw new RuntimeStartError(`Prometheus did not start (${(err as Error).message}); see ${proc.spec.log.path}`, { cause: err })
  }
  return new PrometheusServer(url, files, proc)
}

function getJson (url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, timeout: 10_000 }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', c => { text += c })
      res.on('end', () => {
        try {
          resolve(JSON.parse(text))
        } catch (err) {
          reject(err)
        }
      })
    }).on('error', reject).end()
  })
}
