/**
 * LDS. Two shapes, one per client kind:
 * - proxyless gRPC (A27): an `api_listener` per target name (`reviews`, `reviews:9080`, `reviews-v2`…) whose
 *   HttpConnectionManager takes its routes over RDS (route config named like the cluster) and ends its
 *   filter chain with the router (preceded by the fault filter when faults are sent);
 * - Envoy: one socket listener `outbound` on 127.0.0.1:<MESHWORK_OUTBOUND_PORT> (the app's HTTP_PROXY,
 *   as the Meshwork sidecar's outbound listener) whose RDS route config `outbound` holds a virtual host per
 *   cluster, so calls are routed by authority exactly as the sidecar does.
 */
import { emptyHttpFault, FAULT_FILTER } from './encode-route.ts'
import { packAny } from './protos.ts'
import { ADS_SOURCE } from './proto-values.ts'

export const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
export const ROUTER_TYPE = 'envoy.extensions.filters.http.router.v3.Router'
export const ENVOY_OUTBOUND = 'outbound'

function connectionManager (statPrefix: string, routeConfigName: string, withFaults: boolean): unknown {
  return packAny(HCM_TYPE, {
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    rds: { config_source: ADS_SOURCE, route_config_name: routeConfigName },
    http_filters: [
      ...(withFaults ? [{ name: FAULT_FILTER, typed_config: emptyHttpFault() }] : []),
      { name: 'envoy.filters.http.router', typed_config: packAny(ROUTER_TYPE, {}) }
    ]
  })
}

/** @example encodeApiListener('reviews:9080', 'reviews', true) */
export function encodeApiListener (name: string, routeConfigName: string, withFaults: boolean): Record<string, unknown> {
  return { name, api_listener: { api_listener: connectionManager(name, routeConfigName, withFaults) } }
}

/** @example encodeOutboundListener(15001, true) */
export function encodeOutboundListener (port: number, withFaults: boolean): Record<string, unknown> {
  return {
    name: ENVOY_OUTBOUND,
    address: { socket_address: { address: '127.0.0.1', port_value: port, protocol: 'TCP' } },
    filter_chains: [{
      filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: connectionManager(ENVOY_OUTBOUND, ENVOY_OUTBOUND, withFaults) }]
    }]
  }
}
