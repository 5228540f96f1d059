/**
 * Mutable per-endpoint statistics the balancers, the outlier detector and the health checker share.
 * One `EndpointState` per endpoint id lives as long as the id stays in the snapshot: `EndpointSet.update`
 * keeps the object (and its EWMA, ejection and health history) across snapshot swaps.
 */
import type { Endpoint } from '../../config/snapshot.ts'

/** Peak EWMA decay time constant (Finagle / Linkerd: 10 s). */
export const EWMA_DECAY_MS = 10_000
/** Latency assumed for an endpoint with no sample yet (Linkerd's default RTT). */
export const DEFAULT_RTT_MS = 30

/** What happened to one request on one endpoint. */
export interface EndpointOutcome {
  /** Response status, when a response head arrived. */
  status?: number
  /** The connection could not be opened (refused, TLS handshake, identity mismatch, connect timeout). */
  connectFailure?: boolean
  /** Time from start to response head (or failure), measured with `preciseNow()`. */
  latencyMs: number
}

/**
 * @example
 * const ep = new EndpointState(endpoint)
 * ep.onStart(); …; ep.onEnd({ status: 200, latencyMs: 3.2 })
 * if (!ep.isAvailable(now())) { … }
 */
export class EndpointState {
  readonly id: string
  /** Latest snapshot data (address, port, tls…); replaced on snapshot swap. */
  endpoint: Endpoint
  /** Requests started and not yet ended. */
  inflight = 0
  /** Peak EWMA of latency in ms, as of `ewmaStamp`. */
  ewmaMs = DEFAULT_RTT_MS
  ewmaStamp = 0
  consecutive5xx = 0
  consecutiveConnectFailures = 0
  /** Coarse-clock time until which the endpoint is ejected (0 = never ejected). */
  ejectedUntil = 0
  /** Times ejected (drives the growing ejection time; decays while the endpoint stays well). */
  ejections = 0
  /** What the snapshot says (control plane's view). */
  snapshotHealthy: boolean
  /** What the local active health check says (true until a check says otherwise). */
  probeHealthy = true
  /** `snapshotHealthy && probeHealthy`, kept as a plain field for the hot path. */
  healthy: boolean

  /** `now` stamps the EWMA (performance.now() origin, like `preciseNow()`/`now()`). */
  constructor (endpoint: Endpoint, now = performance.now()) {
    this.id = endpoint.id
    this.endpoint = endpoint
    this.snapshotHealthy = endpoint.healthy !== false
    this.healthy = this.snapshotHealthy
    this.ewmaStamp = now
  }

  /** Replace snapshot data for the same id (keeps stats). */
  setEndpoint (endpoint: Endpoint): void {
    this.endpoint = endpoint
    this.snapshotHealthy = endpoint.healthy !== false
    this.healthy = this.snapshotHealthy && this.probeHealthy
  }

  setProbeHealthy (healthy: boolean): void {
    this.probeHealthy = healthy
    this.healthy = this.snapshotHealthy && healthy
  }

  /** Not ejected and healthy. */
  isAvailable (now: number): boolean {
    return this.healthy && this.ejectedUntil <= now
  }

  isEjected (now: number): boolean {
    return this.ejectedUntil > now
  }

  onStart (): void {
    this.inflight++
  }

  /** Record the end of a request. `now` (ms, any monotonic clock consistent with `cost`) stamps the EWMA. */
  onEnd (outcome: EndpointOutcome, now = performance.now()): void {
    this.end(outcome.status ?? 0, outcome.connectFailure === true, outcome.latencyMs, now)
  }

  /**
   * Positional form of `onEnd`. Perf: no outcome object per request on the hot path.
   * `status` 0 = no response.
   */
  end (status: number, connectFailure: boolean, latencyMs: number, now: number): void {
    if (this.inflight > 0) this.inflight--
    if (connectFailure) {
      this.consecutiveConnectFailures++
    } else {
      this.consecutiveConnectFailures = 0
      if (status >= 500) this.consecutive5xx++
      else if (status !== 0) this.consecutive5xx = 0
    }
    // A failure answered fast (connection refused, instant 503) must not make the endpoint look fast:
    // that would draw more traffic to it (the "black hole" of latency-based balancing). Failures can
    // only raise the estimate; outlier detection takes the endpoint out if they go on.
    if ((connectFailure || status >= 500 || status === 0) && latencyMs < this.ewmaMs) latencyMs = this.ewmaMs
    this.observeLatency(latencyMs, now)
  }

  /**
   * Peak EWMA (Finagle `PeakEwma`, tower `load::PeakEwma`): a sample above the estimate replaces it at
   * once; a lower one is blended in with weight 1 − e^(−Δt/τ), so the estimate reacts to slowness
   * immediately and forgets it over ~τ.
   */
  observeLatency (latencyMs: number, now: number): void {
    if (latencyMs < 0) latencyMs = 0
    if (latencyMs > this.ewmaMs) {
      this.ewmaMs = latencyMs
    } else {
      const elapsed = now > this.ewmaStamp ? now - this.ewmaStamp : 0
      const decay = Math.exp(-elapsed / EWMA_DECAY_MS)
      this.ewmaMs = this.ewmaMs * decay + latencyMs * (1 - decay)
    }
    this.ewmaStamp = now
  }

  /**
   * Load for the peak-EWMA balancer: the estimate decayed toward 0 since the last sample (an idle
   * endpoint becomes attractive again), times (inflight + 1).
   */
  cost (now: number): number {
    const elapsed = now > this.ewmaStamp ? now - this.ewmaStamp : 0
    const ewma = elapsed === 0 ? this.ewmaMs : this.ewmaMs * Math.exp(-elapsed / EWMA_DECAY_MS)
    return ewma * (this.inflight + 1)
  }
}

/**
 * The endpoints of one service (or version subset), carried across snapshot swaps.
 *
 * @example
 * const set = new EndpointSet(); set.update(service.endpoints)
 * const ep = balancer.pick(set.states, now())
 */
export class EndpointSet {
  /** Current states in snapshot order. Replaced (never mutated) on update, so a pick in flight is safe. */
  states: readonly EndpointState[] = []
  #byId = new Map<string, EndpointState>()

  /** `now` stamps the EWMA of new endpoints (performance.now() origin; tests pass their own time). */
  constructor (endpoints?: readonly Endpoint[], now = performance.now()) {
    if (endpoints) this.update(endpoints, now)
  }

  /** Apply a snapshot's endpoint list: same id → same EndpointState (stats kept), new id → fresh state. */
  update (endpoints: readonly Endpoint[], now = performance.now()): void {
    const next: EndpointState[] = new Array(endpoints.length)
    const byId = new Map<string, EndpointState>()
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i]
      let st = this.#byId.get(e.id)
      if (st === undefined) st = new EndpointState(e, now)
      else st.setEndpoint(e)
      next[i] = st
      byId.set(e.id, st)
    }
    this.#byId = byId
    this.states = next
  }

  get (id: string): EndpointState | undefined {
    return this.#byId.get(id)
  }

  get size (): number {
    return this.states.length
  }
}
