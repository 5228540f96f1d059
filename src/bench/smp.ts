import { randomUUID } from 'node:crypto'
import type { Environment } from './environment.ts'
import type { LoadResult } from './loadgen/run.ts'
import type { ProxyUsage } from './proc-stats.ts'

/**
 * Results in the Service Mesh Performance (SMP) format: field names of the SMP protos
 * `PerformanceTestConfig` / `PerformanceTestResult` (snake_case, latencies in ms), plus a `meshwork`
 * block for what SMP lacks (p99.9, the full HdrHistogram, return codes, per-proxy CPU and memory).
 */
export const SMP_VERSION = 'v0.0.1'
export const LOAD_GENERATOR = 'meshwork'

export interface SmpClient {
  internal: boolean
  load_generator: string
  protocol: 'http' | 'tcp' | 'udp' | 'grpc'
  connections: number
  /** 0 = max throughput (closed loop). */
  rps: number
  headers: Record<string, string>
  cookies: Record<string, string>
  body: string
  content_type: string
  endpoint_urls: string[]
}

export interface PerformanceTestConfig {
  smp_version: string
  id: string
  name: string
  labels: Record<string, string>
  clients: SmpClient[]
  /** e.g. `10s`. */
  duration: string
}

/** Service mesh under test (SMP ServiceMesh: type + version), with the mesh's own config. */
export interface SmpMesh {
  /** `none`, `meshwork`, `nginx`, `haproxy`, or a foreign mesh name from an import (`istio`…). */
  type: string
  version: string
  config: Record<string, unknown>
}

export interface SmpEnvironment {
  /** Orchestrator: `local-processes` or `kubernetes`. */
  orchestrator: string
  node: {
    cpu_model: string
    cpu_cores: number
    memory_bytes: number
    kernel: string
    os: string
    arch: string
    node_version: string
    hostname: string
    load_average_1m: number
  }
}

export interface SmpLatencies {
  min: number
  average: number
  p50: number
  p90: number
  p99: number
  max: number
}

export interface PerformanceTestResult {
  smp_version: string
  id: string
  test_id: string
  config: PerformanceTestConfig
  start_time: string
  end_time: string
  latencies: SmpLatencies
  actual_qps: number
  details_uri: string
  mesh_config: SmpMesh
  env: SmpEnvironment
  meshwork: MeshworkExtension
}

export interface MeshworkExtension {
  /** `run`, a scenario name (`no-mesh`, `meshwork-mtls`…), or `import`. */
  scenario: string
  /** Groups the results of one suite / sweep / search. */
  group?: string
  repeat?: number
  mode: 'open-loop' | 'closed-loop'
  /**
   * `http1` or `h2` (SMP's protocol says only `http`). gRPC runs are recorded as SMP `protocol: grpc` with
   * `http_version: h2`, the method in `endpoint_urls` (`http://host:port/package.Service/Method`),
   * `ret_codes` keyed by grpc-status (`"0"` = OK) and the message size in `grpc_message_bytes`.
   */
  http_version: string
  /** gRPC runs: bytes of each call's request message. */
  grpc_message_bytes?: number
  requests: number
  duration_ms: number
  p75: number
  p999: number
  stdev: number
  /** Latency HdrHistogram (µs), compressed base64. */
  histogram: string
  ret_codes: Record<string, number>
  errors: Record<string, number>
  connect_errors: Record<string, number>
  error_ratio: number
  proxies: ProxyUsage[]
  /** Set when the run stopped early (the result is partial). */
  stopped?: string
  /** Where the result came from, e.g. `fortio` for imports. */
  source?: string
}

export interface ToSmpInput {
  result: LoadResult
  env: Environment
  mesh: SmpMesh
  name?: string
  scenario?: string
  group?: string
  repeat?: number
  labels?: Record<string, string>
  proxies?: ProxyUsage[]
}

export function smpEnvironment (env: Environment): SmpEnvironment {
  return {
    orchestrator: env.orchestrator,
    node: {
      cpu_model: env.cpuModel,
      cpu_cores: env.cores,
      memory_bytes: env.memoryBytes,
      kernel: env.kernel,
      os: env.os,
      arch: env.arch,
      node_version: env.nodeVersion,
      hostname: env.hostname,
      load_average_1m: env.loadAverage1m
    }
  }
}

/**
 * Wrap a load result as an SMP PerformanceTestResult.
 * @example const smp = toSmp({ result, env: captureEnvironment(), mesh: { type: 'none', version: '', config: {} } })
 */
export function toSmp (i: ToSmpInput): PerformanceTestResult {
  const r = i.result
  const o = r.options
  const id = randomUUID()
  const contentType = Object.entries(o.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? ''
  return {
    smp_version: SMP_VERSION,
    id,
    test_id: id,
    config: {
      smp_version: SMP_VERSION,
      id: randomUUID(),
      name: i.name ?? i.scenario ?? 'run',
      labels: i.labels ?? {},
      clients: [{
        internal: false,
        load_generator: LOAD_GENERATOR,
        protocol: o.protocol === 'grpc' ? 'grpc' : 'http',
        connections: o.connections,
        rps: o.rate,
        headers: o.headers,
        cookies: {},
        body: o.body ?? '',
        content_type: o.protocol === 'grpc' ? 'application/grpc' : contentType,
        endpoint_urls: [o.url]
      }],
      duration: `${o.requests !== undefined ? r.durationMs : o.durationMs}ms`
    },
    start_time: r.startedAt,
    end_time: r.endedAt,
    latencies: { min: r.latency.min, average: r.latency.mean, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    actual_qps: round2(r.actualQps),
    details_uri: '',
    mesh_config: i.mesh,
    env: smpEnvironment(i.env),
    meshwork: {
      scenario: i.scenario ?? 'run',
      ...(i.group === undefined ? {} : { group: i.group }),
      ...(i.repeat === undefined ? {} : { repeat: i.repeat }),
      mode: r.mode,
      http_version: o.protocol === 'grpc' ? 'h2' : o.protocol,
      ...(o.protocol === 'grpc' ? { grpc_message_bytes: o.messageSize } : {}),
      requests: r.requests,
      duration_ms: r.durationMs,
      p75: r.latency.p75,
      p999: r.latency.p999,
      stdev: r.latency.stdev,
      histogram: r.histogram,
      ret_codes: r.retCodes,
      errors: r.errors,
      connect_errors: r.connectErrors,
      error_ratio: r.errorRatio,
      proxies: i.proxies ?? [],
      ...(r.stopped === undefined ? {} : { stopped: r.stopped })
    }
  }
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}
