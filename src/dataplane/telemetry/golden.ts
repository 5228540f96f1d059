import type { Counter, CounterChild, Gauge, GaugeChild, Histogram, HistogramChild, Registry } from './metrics.ts'

export type Direction = 'inbound' | 'outbound' | 'gateway'

/** Request latency buckets, seconds: 0.5 ms … 30 s. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
])

const BASE = ['direction', 'source', 'destination', 'destination_version', 'route'] as const
const CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'] as const

export interface GoldenMetrics {
  /**
   * `meshwork_requests_total{direction,source,destination,destination_version,route,code,class,grpc_status}`:
   * `grpc_status` is "" for a non-gRPC request, else the numeric status of the trailers (or trailers-only head, or the
   * proxy's own gRPC error). A request failed when its class is 5xx or its grpc_status is set and not "0".
   */
  requests: Counter
  /** `meshwork_request_duration_seconds{direction,source,destination,destination_version,route,class}` */
  duration: Histogram
  /** `meshwork_request_bytes_total{direction,source,destination,destination_version,route}` */
  requestBytes: Counter
  /** `meshwork_response_bytes_total{direction,source,destination,destination_version,route}` */
  responseBytes: Counter
  /** `meshwork_retries_total{direction,source,destination,route}` */
  retries: Counter
  /** `meshwork_outlier_ejections_total{destination,endpoint}` */
  outlierEjections: Counter
  /** `meshwork_upstream_connections{destination,endpoint}` (gauge: open connections) */
  upstreamConnections: Gauge
  /** `meshwork_errors_total{direction,destination,code}`: errors the proxy made, by MESH_ERR code */
  errors: Counter
  /** `meshwork_config_version_info{version}` = 1 for the applied snapshot */
  configVersionInfo: Gauge
  /** `meshwork_config_reloads_total{result}` with result `ack` | `nack` */
  configReloads: Counter
  /**
   * Cached per-route handles for the hot path (one object per direction/source/destination/version/route).
   * @example const m = golden.forRoute('outbound', 'productpage', 'reviews', 'v2', 'reviews-route'); m.record(200, 0.0042, 0, 1830)
   */
  forRoute: (direction: Direction, source: string, destination: string, destinationVersion: string, route: string) => RouteMetrics
  /** Marks `version` as the applied config (drops the previous version's series) and counts an ACK. */
  configApplied: (version: string) => void
  /** Counts a NACK. */
  configRejected: () => void
}

/**
 * The golden metric families the proxy exports.
 * @example
 * const golden = createGoldenMetrics(registry)
 * golden.forRoute('inbound', peerId ?? 'unknown', 'reviews', 'v1', 'default').record(status, seconds, reqBytes, resBytes)
 */
export function createGoldenMetrics (registry: Registry): GoldenMetrics {
  const requests = registry.counter('meshwork_requests_total', 'Requests handled by the proxy, by response code and gRPC status ("" when not gRPC).', [...BASE, 'code', 'class', 'grpc_status'])
  const duration = registry.histogram('meshwork_request_duration_seconds', 'Request duration seen by the proxy, from request head to response end, seconds.', [...BASE, 'class'], REQUEST_DURATION_BUCKETS)
  const requestBytes = registry.counter('meshwork_request_bytes_total', 'Request body bytes received.', BASE)
  const responseBytes = registry.counter('meshwork_response_bytes_total', 'Response body bytes sent.', BASE)
  const retries = registry.counter('meshwork_retries_total', 'Retries attempted.', ['direction', 'source', 'destination', 'route'])
  const outlierEjections = registry.counter('meshwork_outlier_ejections_total', 'Endpoints ejected by outlier detection.', ['destination', 'endpoint'])
  const upstreamConnections = registry.gauge('meshwork_upstream_connections', 'Open connections to upstream endpoints.', ['destination', 'endpoint'])
  const errors = registry.counter('meshwork_errors_total', 'Errors the proxy generated, by MESH_ERR code.', ['direction', 'destination', 'code'])
  const configVersionInfo = registry.gauge('meshwork_config_version_info', 'The applied config snapshot version (value is always 1).', ['version'])
  const configReloads = registry.counter('meshwork_config_reloads_total', 'Config snapshots received, by result (ack|nack).', ['result'])

  const routeCache = new Map<string, Map<string, Map<string, Map<string, Map<string, RouteMetrics>>>>>()
  let currentVersion: string | undefined
  const ack = configReloads.labels('ack')
  const nack = configReloads.labels('nack')

  return {
    requests, duration, requestBytes, responseBytes, retries, outlierEjections, upstreamConnections, errors, configVersionInfo, configReloads,
    forRoute (direction, source, destination, version, route) {
      // Nested maps: no key string is built per lookup.
      let a = routeCache.get(direction)
      if (a === undefined) routeCache.set(direction, a = new Map())
      let b = a.get(source)
      if (b === undefined) a.set(source, b = new Map())
      let c = b.get(destination)
      if (c === undefined) b.set(destination, c = new Map())
      let d = c.get(version)
      if (d === undefined) c.set(version, d = new Map())
      let m = d.get(route)
      if (m === undefined) d.set(route, m = new RouteMetrics({ requests, duration, requestBytes, responseBytes, retries }, [direction, source, destination, version, route]))
      return m
    },
    configApplied (version) {
      if (currentVersion !== undefined && currentVersion !== version) configVersionInfo.remove(currentVersion)
      configVersionInfo.labels(version).set(1)
      currentVersion = version
      ack.inc()
    },
    configRejected () { nack.inc() }
  }
}

/**
 * Handles for one route of one direction/source/destination/version. `record` costs a few array reads and adds.
 */
export class RouteMetrics {
  readonly requestBytes: CounterChild
  readonly responseBytes: CounterChild
  readonly retries: CounterChild
  readonly #requests: Counter
  readonly #duration: Histogram
  readonly #base: readonly string[]
  // Perf: children by status code (100..599) and by class, made on first use, so `record` never touches a Map
  // (gRPC requests, by code and gRPC status, do: one lookup).
  readonly #byCode: Array<CounterChild | undefined> = new Array(600)
  readonly #byGrpc = new Map<number, CounterChild>()
  readonly #byClass: Array<HistogramChild | undefined> = new Array(6)
  readonly #errorsByCode = new Map<string, CounterChild>()

  constructor (m: { requests: Counter, duration: Histogram, requestBytes: Counter, responseBytes: Counter, retries: Counter }, base: readonly string[]) {
    this.#requests = m.requests
    this.#duration = m.duration
    this.#base = base
    this.requestBytes = m.requestBytes.labels(...base)
    this.responseBytes = m.responseBytes.labels(...base)
    this.retries = m.retries.labels(base[0], base[1], base[2], base[4])
  }

  /**
   * One finished request: status code, duration in seconds, request and response body bytes, and the gRPC status
   * (-1 = not gRPC, or no status came back).
   */
  record (status: number, seconds: number, requestBytes: number, responseBytes: number, grpcStatus = -1): void {
    const code = status >= 100 && status < 600 ? status | 0 : 0
    let c: CounterChild | undefined
    if (grpcStatus < 0) {
      c = this.#byCode[code]
      if (c === undefined) c = this.#byCode[code] = this.#requests.labels(...this.#base, code === 0 ? 'unknown' : String(code), classOf(code), '')
    } else {
      const key = code * 1000 + grpcStatus
      c = this.#byGrpc.get(key)
      if (c === undefined) this.#byGrpc.set(key, c = this.#requests.labels(...this.#base, code === 0 ? 'unknown' : String(code), classOf(code), String(grpcStatus)))
    }
    c.value++
    const k = (code / 100) | 0
    let h = this.#byClass[k]
    if (h === undefined) h = this.#byClass[k] = this.#duration.labels(...this.#base, classOf(code))
    h.observe(seconds)
    if (requestBytes > 0) this.requestBytes.value += requestBytes
    if (responseBytes > 0) this.responseBytes.value += responseBytes
  }

  /** Child of `meshwork_errors_total` for a MESH_ERR code (cached). Use with `golden.errors` for errors outside a route. */
  errorCounter (errors: Counter, code: string): CounterChild {
    let c = this.#errorsByCode.get(code)
    if (c === undefined) this.#errorsByCode.set(code, c = errors.labels(this.#base[0], this.#base[2], code))
    return c
  }
}

function classOf (code: number): string {
  return code === 0 ? 'unknown' : CLASSES[(code / 100) | 0]
}

export type { CounterChild, GaugeChild }
