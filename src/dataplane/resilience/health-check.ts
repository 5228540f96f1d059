/**
 * Active health checking: every `interval`, GET `path` on each endpoint (at most one probe in flight per
 * endpoint), with a timeout. `unhealthyThreshold` consecutive failures mark the endpoint down
 * (`EndpointState.setProbeHealthy(false)`), `healthyThreshold` consecutive successes bring it back.
 * Endpoints start healthy (no start-up blackout); the first round runs at `start()`.
 *
 *        fail ×unhealthyThreshold                  success = 2xx within timeout
 *   UP ───────────────────────────► DOWN           failure = anything else (refused, timeout, 5xx, 404)
 *      ◄───────────────────────────
 *        success ×healthyThreshold
 *
 * The default probe is plain HTTP/1.1 (`node:http`, no keep-alive): right for local apps and plain
 * endpoints. For mTLS endpoints (peer sidecars) pass `probe: createHttpProbe({ tls: ep => options })`
 * with the proxy's TLS material; without it, TLS endpoints are not probed (reported healthy).
 */
import http from 'node:http'
import https from 'node:https'
import type tls from 'node:tls'
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import type { EndpointState } from './endpoint-state.ts'

/** Resolves true when the endpoint answered healthy within `timeoutMs`. Must not reject. */
export type HealthProbe = (ep: EndpointState, path: string, timeoutMs: number) => Promise<boolean>

type HealthCheckSpec = NonNullable<DestinationPolicy['spec']['healthCheck']>

export interface HealthCheckerOptions {
  /** Current endpoints (called every round, so it follows snapshot swaps). */
  endpoints: () => readonly EndpointState[]
  path?: string
  intervalMs?: number
  timeoutMs?: number
  unhealthyThreshold?: number
  healthyThreshold?: number
  probe?: HealthProbe
  /** Called when an endpoint changes state (logs, metrics). */
  onChange?: (ep: EndpointState, healthy: boolean) => void
}

interface ProbeCounters {
  successes: number
  failures: number
  running: boolean
}

/**
 * @example
 * const hc = HealthChecker.fromPolicy(policy.spec.healthCheck, () => set.states)
 * hc.start(); …; hc.stop()
 */
export class HealthChecker {
  readonly path: string
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly unhealthyThreshold: number
  readonly healthyThreshold: number
  readonly #endpoints: () => readonly EndpointState[]
  readonly #probe: HealthProbe
  readonly #onChange: ((ep: EndpointState, healthy: boolean) => void) | null
  // Per-endpoint counters; weak so endpoints dropped from the snapshot are forgotten.
  readonly #counters = new WeakMap<EndpointState, ProbeCounters>()
  #timer: NodeJS.Timeout | null = null
  #stopped = true
  #round: Promise<void> | null = null

  constructor (opts: HealthCheckerOptions) {
    this.#endpoints = opts.endpoints
    this.path = opts.path ?? '/healthz'
    this.intervalMs = opts.intervalMs ?? 5000
    this.timeoutMs = opts.timeoutMs ?? 1000
    this.unhealthyThreshold = opts.unhealthyThreshold ?? 2
    this.healthyThreshold = opts.healthyThreshold ?? 1
    this.#probe = opts.probe ?? httpProbe
    this.#onChange = opts.onChange ?? null
  }

  static fromPolicy (spec: HealthCheckSpec, endpoints: () => readonly EndpointState[], extra?: Pick<HealthCheckerOptions, 'probe' | 'onChange'>): HealthChecker {
    return new HealthChecker({
      endpoints,
      path: spec.path,
      intervalMs: parseDuration(spec.interval),
      timeoutMs: parseDuration(spec.timeout),
      unhealthyThreshold: spec.unhealthyThreshold,
      healthyThreshold: spec.healthyThreshold,
      probe: extra?.probe,
      onChange: extra?.onChange
    })
  }

  /** Start probing: one round now, then one every interval. */
  start (): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#tick()
  }

  /** Stop the schedule; resolves when the round in flight (if any) has finished. */
  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== null) { clearTimeout(this.#timer); this.#timer = null }
    if (this.#round !== null) await this.#round
  }

  /** Run one round now and resolve when every probe of it settled (tests, admin). */
  checkNow (): Promise<void> {
    const eps = this.#endpoints()
    const probes: Promise<void>[] = []
    for (let i = 0; i < eps.length; i++) {
      const p = this.#checkOne(eps[i])
      if (p !== null) probes.push(p)
    }
    const round = Promise.all(probes).then(() => {})
    this.#round = round
    return round
  }

  #tick (): void {
    if (this.#stopped) return
    this.checkNow().finally(() => {
      if (this.#stopped) return
      this.#timer = setTimeout(() => this.#tick(), this.intervalMs)
      // The proxy's sockets keep the process alive; a health schedule alone must not.
      this.#timer.unref()
    })
  }

  #checkOne (ep: EndpointState): Promise<void> | null {
    let c = this.#counters.get(ep)
    if (c === undefined) {
      c = { successes: 0, failures: 0, running: false }
      this.#counters.set(ep, c)
    }
    if (c.running) return null
    c.running = true
    const counters = c
    return this.#probe(ep, this.path, this.timeoutMs).then(ok => ok, () => false).then(ok => {
      counters.running = false
      this.#record(ep, counters, ok)
    })
  }

  #record (ep: EndpointState, c: ProbeCounters, ok: boolean): void {
    if (ok) {
      c.failures = 0
      c.successes++
      if (!ep.probeHealthy && c.successes >= this.healthyThreshold) {
        ep.setProbeHealthy(true)
        if (this.#onChange !== null) this.#onChange(ep, true)
      }
    } else {
      c.successes = 0
      c.failures++
      if (ep.probeHealthy && c.failures >= this.unhealthyThreshold) {
        ep.setProbeHealthy(false)
        if (this.#onChange !== null) this.#onChange(ep, false)
      }
    }
  }
}

export interface HttpProbeOptions {
  /**
   * TLS options for an endpoint with `tls: true` (a peer sidecar): client certificate, key, trust bundle
   * and a `checkServerIdentity` that checks the SPIFFE ID (see `checkSpiffeIdentity` in ../tls). Return
   * null/undefined when no material is available yet.
   */
  tls?: (ep: EndpointState) => tls.ConnectionOptions | null | undefined
}

/**
 * Build an HTTP(S) probe: `GET path`, healthy on 2xx within `timeoutMs`, no keep-alive.
 * An endpoint with `tls: true` is probed over TLS with `opts.tls(ep)`; without TLS material it is *not
 * probed* and reported healthy (a plain request to a TLS listener would fail and wrongly take every peer
 * out of the balancer; the control plane's health reporting still applies).
 * @example const probe = createHttpProbe({ tls: ep => ({ cert, key, ca, checkServerIdentity: checkSpiffeIdentity(ep.endpoint.identity!) }) })
 */
export function createHttpProbe (opts: HttpProbeOptions = {}): HealthProbe {
  const tlsFor = opts.tls ?? null
  return (ep, path, timeoutMs) => {
    if (!ep.endpoint.tls) return probe(ep, path, timeoutMs, null)
    const tlsOptions = tlsFor === null ? null : tlsFor(ep)
    if (tlsOptions === null || tlsOptions === undefined) return Promise.resolve(true)
    return probe(ep, path, timeoutMs, tlsOptions)
  }
}

/**
 * Default probe: plain `GET path` to the endpoint's address and port, healthy on 2xx within `timeoutMs`
 * (TLS endpoints are not probed: see `createHttpProbe`).
 * @example await httpProbe(ep, '/healthz', 1000)
 */
export const httpProbe: HealthProbe = createHttpProbe()

function probe (ep: EndpointState, path: string, timeoutMs: number, tlsOptions: tls.ConnectionOptions | null): Promise<boolean> {
  return new Promise<boolean>(resolve => {
    let done = false
    const finish = (ok: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      req.destroy()
      resolve(ok)
    }
    const onResponse = (res: http.IncomingMessage): void => {
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300
      res.resume()
      res.on('end', () => finish(ok))
      res.on('error', () => finish(false))
    }
    const options: http.RequestOptions = {
      host: ep.endpoint.address,
      port: ep.endpoint.port,
      path,
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'meshwork-health-check', connection: 'close' }
    }
    const req = tlsOptions === null
      ? http.request(options, onResponse)
      : https.request({ ...tlsOptions, ...options } as https.RequestOptions, onResponse)
    const timer = setTimeout(() => finish(false), timeoutMs)
    req.on('error', () => finish(false))
    req.end()
  })
}
