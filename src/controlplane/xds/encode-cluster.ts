/**
 * CDS: one `envoy.config.cluster.v3.Cluster` per Meshwork cluster (a service `reviews`, a version subset
 * `reviews-v2`), always `type: EDS` with its endpoints over ADS, and the service's DestinationPolicy:
 *
 * | DestinationPolicy            | Cluster field                                   | gRPC client (A27/A32/A50)        |
 * |------------------------------|-------------------------------------------------|----------------------------------|
 * | loadBalancer RoundRobin      | lb_policy ROUND_ROBIN                           | same                             |
 * | loadBalancer LeastRequest, PeakEWMA | lb_policy LEAST_REQUEST (Envoy has no EWMA) | ROUND_ROBIN (grpc-js has neither) |
 * | connectionPool max*          | circuit_breakers.thresholds (unset = 2³²−1: unlimited, as Meshwork; Envoy's default would be 1024) | max_requests only |
 * | connectionPool connectTimeout / idleTimeout / protocol | connect_timeout / HttpProtocolOptions | connect_timeout ignored |
 * | outlierDetection             | outlier_detection consecutive_5xx + local-origin failures, success-rate ejection off | ignored (grpc-js only ejects on success rate / failure percentage) |
 * | retryBudget                  | thresholds.retry_budget (budget_percent = ratio; min_retry_concurrency = minRetriesPerSecond: Envoy bounds concurrency, not a rate) | ignored |
 * | healthCheck                  | health_checks[http_health_check]               | not sent (grpc ignores it)       |
 *
 * Transport: with endpoints `inbound` (peer sidecars) and mesh mTLS not DISABLE, an UpstreamTlsContext
 * that presents the client's certificate and accepts only the SPIFFE IDs of the cluster's workloads:
 * Envoy reads the secrets `meshwork-identity` / `meshwork-trust` (static, from its bootstrap), gRPC the
 * certificate provider instance `meshwork` of its bootstrap (A29, file_watcher).
 */
import { parseDuration } from '../../config/duration.ts'
import type { DestinationPolicy } from '../../config/destination-policy.ts'
import { packAny } from './protos.ts'
import { ADS_SOURCE, duration, u32, UINT32_MAX } from './proto-values.ts'
import type { XdsClientKind } from './xds-node.ts'

type PolicySpec = DestinationPolicy['spec']

export interface ClusterInput {
  /** `reviews` or `reviews-v2`. */
  name: string
  /** The protocol its endpoints speak (a Workload's `protocol`; gRPC apps declare h2). */
  protocol: 'http1' | 'h2'
  /** SPIFFE IDs the endpoints may present (the cluster's Workloads' service accounts). */
  identities: readonly string[]
  policy: PolicySpec | undefined
  /** Dial with mTLS (peer sidecars of a mesh whose mTLS is not DISABLE). */
  tls: boolean
}

/** Names of what an Envoy bootstrap defines and a gRPC bootstrap's certificate provider. */
export const ENVOY_IDENTITY_SECRET = 'meshwork-identity'
export const ENVOY_TRUST_SECRET = 'meshwork-trust'
export const GRPC_CERT_PROVIDER = 'meshwork'
export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'

/** @example encodeCluster({ name: 'reviews', protocol: 'h2', identities: [], policy: undefined, tls: false }, 'grpc') */
export function encodeCluster (c: ClusterInput, kind: XdsClientKind): Record<string, unknown> {
  const p = c.policy
  const pool = p?.connectionPool
  const cluster: Record<string, unknown> = {
    name: c.name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_SOURCE, service_name: c.name },
    connect_timeout: duration(parseDuration(pool?.connectTimeout ?? '1s')),
    lb_policy: lbPolicy(p, kind),
    circuit_breakers: {
      thresholds: [{
        priority: 'DEFAULT',
        max_connections: u32(pool?.maxConnections ?? UINT32_MAX),
        max_pending_requests: u32(pool?.maxPendingRequests ?? UINT32_MAX),
        max_requests: u32(pool?.maxRequests ?? UINT32_MAX),
        max_retries: u32(UINT32_MAX),
        ...(p?.retryBudget ? { retry_budget: { budget_percent: { value: p.retryBudget.ratio * 100 }, min_retry_concurrency: u32(p.retryBudget.minRetriesPerSecond) } } : {})
      }]
    }
  }
  const od = p?.outlierDetection
  if (od) {
    cluster.outlier_detection = {
      consecutive_5xx: u32(od.consecutive5xx),
      enforcing_consecutive_5xx: u32(100),
      split_external_local_origin_errors: true,
      consecutive_local_origin_failure: u32(od.consecutiveConnectFailures),
      enforcing_consecutive_local_origin_failure: u32(100),
      enforcing_success_rate: u32(0),
      enforcing_consecutive_gateway_failure: u32(0),
      interval: duration(parseDuration(od.interval)),
      base_ejection_time: duration(parseDuration(od.baseEjectionTime)),
      max_ejection_percent: u32(od.maxEjectionPercent)
    }
  }
  if (kind === 'envoy') {
    const hc = p?.healthCheck
    if (hc) {
      cluster.health_checks = [{
        timeout: duration(parseDuration(hc.timeout)),
        interval: duration(parseDuration(hc.interval)),
        unhealthy_threshold: u32(hc.unhealthyThreshold),
        healthy_threshold: u32(hc.healthyThreshold),
        http_health_check: { path: hc.path }
      }]
    }
    const h2 = (pool?.protocol ?? c.protocol) === 'h2'
    cluster.typed_extension_protocol_options = {
      [HTTP_PROTOCOL_OPTIONS]: packAny(HTTP_PROTOCOL_OPTIONS, {
        common_http_protocol_options: { idle_timeout: duration(parseDuration(pool?.idleTimeout ?? '60s')) },
        explicit_http_config: h2 ? { http2_protocol_options: {} } : { http_protocol_options: {} }
      })
    }
  }
  if (c.tls) cluster.transport_socket = upstreamTls(c, kind)
  return cluster
}

function lbPolicy (p: PolicySpec | undefined, kind: XdsClientKind): string {
  if (kind === 'grpc') return 'ROUND_ROBIN'
  // Meshwork's default balancer is LeastRequest (as a DestinationPolicy without loadBalancer).
  return (p?.loadBalancer?.type ?? 'LeastRequest') === 'RoundRobin' ? 'ROUND_ROBIN' : 'LEAST_REQUEST'
}

function upstreamTls (c: ClusterInput, kind: XdsClientKind): Record<string, unknown> {
  const alpn = c.protocol === 'h2' || kind === 'grpc' ? ['h2'] : ['http/1.1']
  let common: Record<string, unknown>
  if (kind === 'grpc') {
    common = {
      tls_certificate_provider_instance: { instance_name: GRPC_CERT_PROVIDER, certificate_name: 'default' },
      validation_context: {
        ca_certificate_provider_instance: { instance_name: GRPC_CERT_PROVIDER, certificate_name: 'ROOTCA' },
        match_subject_alt_names: c.identities.map(id => ({ exact: id }))
      },
      alpn_protocols: alpn
    }
  } else {
    common = {
      tls_certificate_sds_secret_configs: [{ name: ENVOY_IDENTITY_SECRET }],
      combined_validation_context: {
        default_validation_context: { match_typed_subject_alt_names: c.identities.map(id => ({ san_type: 'URI', matcher: { exact: id } })) },
        validation_context_sds_secret_config: { name: ENVOY_TRUST_SECRET }
      },
      alpn_protocols: alpn
    }
  }
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: packAny('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', { common_tls_context: common })
  }
}
