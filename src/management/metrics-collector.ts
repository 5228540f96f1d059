import { histogramQuantile, parsePromText, type Sample } from './prom-text.ts'

/** A proxy whose admin `/metrics` the collector scrapes. */
export interface ScrapeTarget {
  /** e.g. http://127.0.0.1:15000/metrics */
  url: string
  proxyId: string
  role: 'sidecar' | 'ingress' | 'egress'
  service?: string
  version?: string
}

/** Golden signals of one edge (caller → callee) or one service over the last interval. */
export interface Golden {
  rps: number
  /**
   * Share of requests that succeeded, 0..1; null with no traffic. A request failed when its class is 5xx (or it got
   * no response), or when it is a gRPC call (`grpc_status` label set) whose status is not 0 (OK).
   */
  successRate: number | null
  p50Ms: number | null
  p99Ms: number | null
}

/** What an edge carries, from its requests so far: gRPC calls (a `grpc_status` label set), HTTP, or both. */
export type EdgeProtocol = 'http' | 'grpc' | 'mixed'

export interface EdgeStats extends Golden {
  source: string
  destination: string
  /** `null` while the caller's proxy exports no `grpc_status` label (it cannot tell): the topology asks the config. */
  protocol: EdgeProtocol | null
}
export interface Point extends Golden { t: number }

interface Totals {
  requests: number
  errors: number
  /** Requests with a non-empty `grpc_status`, and whether any sample had the label at all. */
  grpc: number
  labelled: boolean
  buckets: Map<number, number>
}

const REQUESTS = 'meshwork_requests_total'
const DURATION_BUCKET = 'meshwork_request_duration_seconds_bucket'

/**
 * Scrapes every proxy's `/metrics` on an interval and turns counter deltas into golden signals per edge
 * (from the callers' outbound and the gateways' metrics) and per service (from the callees' inbound),
 * keeping a bounded history for "metrics over time".
 */
export class MetricsCollector {
  readonly edges = new Map<string, EdgeStats>()
  readonly services = new Map<string, Golden>()
  /** Requests per second to each version of a service, as its callers see it: service → version → rps. */
  readonly versions = new Map<string, Map<string, number>>()
  readonly history = new Map<string, Point[]>()
  lastScrapeAt = 0
  lastErrors: string[] = []
  #prev = new Map<string, Totals>()
  #prevAt = 0
  #timer: NodeJS.Timeout | null = null
  #targets: () => ScrapeTarget[]
  #intervalMs: number
  #historyLength: number
  #listeners = new Set<() => void>()
  #sampleListeners = new Set<(results: ReadonlyArray<{ target: ScrapeTarget, samples: Sample[] }>, at: number) => void>()

  constructor (opts: { targets: () => ScrapeTarget[], intervalMs?: number, historyLength?: number }) {
    this.#targets = opts.targets
    this.#intervalMs = opts.intervalMs ?? 2000
    this.#historyLength = opts.historyLength ?? 300
  }

  start (): void {
    if (this.#timer !== null) return
    const tick = (): void => { this.scrapeOnce().catch(() => {}) }
    this.#timer = setInterval(tick, this.#intervalMs)
    this.#timer.unref()
    tick()
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }

  /** Every scrape's parsed samples per target (the golden tables build on them), after the edges are updated. */
  onSamples (fn: (results: ReadonlyArray<{ target: ScrapeTarget, samples: Sample[] }>, at: number) => void): () => void {
    this.#sampleListeners.add(fn)
    return () => this.#sampleListeners.delete(fn)
  }

  onUpdate (fn: () => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /** Scrape all targets once and update the stats (exposed for tests). */
  async scrapeOnce (): Promise<void> {
    const targets = this.#targets()
    const errors: string[] = []
    const results = await Promise.all(targets.map(async t => {
      try {
        const res = await fetch(t.url, { signal: AbortSignal.timeout(1500) })
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
        return { target: t, samples: parsePromText(await res.text()) }
      } catch (err) {
        errors.push(`${t.proxyId}: ${(err as Error).message}`)
        return null
      }
    }))
    const now = Date.now()
    const totals = new Map<string, Totals>()
    for (const r of results) {
      if (r === null) continue
      accumulate(totals, r.target, r.samples)
    }
    const dt = this.#prevAt === 0 ? 0 : (now - this.#prevAt) / 1000
    this.edges.clear()
    this.services.clear()
    this.versions.clear()
    for (const [key, cur] of totals) {
      const prev = this.#prev.get(key)
      const g = dt > 0 && prev !== undefined ? deltaGolden(cur, prev, dt) : { rps: 0, successRate: null, p50Ms: null, p99Ms: null }
      const [kind, a, b] = key.split('|')
      if (kind === 'edge') this.edges.set(`${a}->${b}`, { source: a, destination: b, ...g, protocol: protocolOf(cur) })
      else if (kind === 'ver') {
        let m = this.versions.get(a)
        if (m === undefined) this.versions.set(a, m = new Map())
        m.set(b, (m.get(b) ?? 0) + g.rps)
        continue
      } else this.services.set(a, g)
      let h = this.history.get(key)
      if (h === undefined) this.history.set(key, h = [])
      h.push({ t: now, ...g })
      if (h.length > this.#historyLength) h.splice(0, h.length - this.#historyLength)
    }
    this.#prev = totals
    this.#prevAt = now
    this.lastScrapeAt = now
    this.lastErrors = errors
    if (this.#sampleListeners.size > 0) {
      const ok = results.filter(r => r !== null)
      for (const fn of this.#sampleListeners) fn(ok, now)
    }
    for (const fn of this.#listeners) fn()
  }

  serviceHistory (service: string): Point[] { return this.history.get(`svc|${service}|`) ?? [] }
  edgeHistory (source: string, destination: string): Point[] { return this.history.get(`edge|${source}|${destination}`) ?? [] }
}

function accumulate (totals: Map<string, Totals>, target: ScrapeTarget, samples: Sample[]): void {
  for (const s of samples) {
    const isReq = s.name === REQUESTS
    const isBucket = s.name === DURATION_BUCKET
    if (!isReq && !isBucket) continue
    const direction = s.labels.direction
    const destination = s.labels.destination
    if (destination === undefined || destination === '') continue
    let key: string
    if (direction === 'inbound') {
      key = `svc|${destination}|`
    } else {
      const source = target.role === 'sidecar' ? (target.service ?? s.labels.source ?? 'unknown') : (target.role === 'ingress' ? 'ingress' : 'egress')
      key = `edge|${source}|${destination}`
    }
    let t = totals.get(key)
    if (t === undefined) totals.set(key, t = { requests: 0, errors: 0, grpc: 0, labelled: false, buckets: new Map() })
    if (isReq && direction !== 'inbound' && s.labels.destination_version) {
      // Per-version split as the callers route it (the effect of a traffic shift).
      const vkey = `ver|${destination}|${s.labels.destination_version}|${key}`
      let v = totals.get(vkey)
      if (v === undefined) totals.set(vkey, v = { requests: 0, errors: 0, grpc: 0, labelled: false, buckets: new Map() })
      v.requests += s.value
    }
    if (isReq) {
      t.requests += s.value
      const grpcStatus = s.labels.grpc_status
      if (grpcStatus !== undefined) t.labelled = true
      if (grpcStatus !== undefined && grpcStatus !== '') t.grpc += s.value
      if (isFailure(s.labels.code, grpcStatus)) t.errors += s.value
    } else {
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le)
      t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value)
    }
  }
}

/**
 * A failed request: class 5xx or no response (code 0 / empty), or a gRPC call whose `grpc_status` is set and not
 * "0" (a gRPC error travels in an HTTP 200). `grpc_status` is "" for requests that are not gRPC.
 * @example isFailure('200', '14') === true
 */
export function isFailure (code: string | undefined, grpcStatus: string | undefined): boolean {
  const n = Number(code)
  if (n >= 500 || code === '0' || code === '') return true
  return grpcStatus !== undefined && grpcStatus !== '' && grpcStatus !== '0'
}

function protocolOf (t: Totals): EdgeProtocol | null {
  if (!t.labelled) return null
  if (t.grpc === 0) return 'http'
  return t.grpc >= t.requests ? 'grpc' : 'mixed'
}

function deltaGolden (cur: Totals, prev: Totals, dt: number): Golden {
  const requests = Math.max(0, cur.requests - prev.requests)
  const errors = Math.max(0, cur.errors - prev.errors)
  const buckets: Array<{ le: number, count: number }> = []
  for (const [le, c] of cur.buckets) buckets.push({ le, count: Math.max(0, c - (prev.buckets.get(le) ?? 0)) })
  const p50 = histogramQuantile(0.5, buckets)
  const p99 = histogramQuantile(0.99, buckets)
  return {
    rps: requests / dt,
    successRate: requests > 0 ? (requests - errors) / requests : null,
    p50Ms: p50 === null ? null : p50 * 1000,
    p99Ms: p99 === null ? null : p99 * 1000
  }
}
