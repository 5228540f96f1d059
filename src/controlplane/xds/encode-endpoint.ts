/**
 * EDS: one `envoy.config.endpoint.v3.ClusterLoadAssignment` per cluster (`reviews`, `reviews-v2`).
 *
 * One locality of weight 1 holds every endpoint: gRPC clients (A27) ignore localities without a
 * `load_balancing_weight`. An endpoint Meshwork knows is down is sent `UNHEALTHY` (Envoy and gRPC skip it),
 * so the client's view of health is the one the control plane pushes to sidecars.
 */
import { u32 } from './proto-values.ts'

export interface XdsEndpoint {
  address: string
  port: number
  healthy: boolean
}

/** @example encodeLoadAssignment('reviews-v2', [{ address: '127.0.0.1', port: 9081, healthy: true }]) */
export function encodeLoadAssignment (clusterName: string, endpoints: readonly XdsEndpoint[]): Record<string, unknown> {
  if (endpoints.length === 0) return { cluster_name: clusterName, endpoints: [] }
  return {
    cluster_name: clusterName,
    endpoints: [{
      locality: {},
      load_balancing_weight: u32(1),
      priority: 0,
      lb_endpoints: endpoints.map(e => ({
        endpoint: { address: { socket_address: { address: e.address, port_value: e.port, protocol: 'TCP' } } },
        health_status: e.healthy ? 'HEALTHY' : 'UNHEALTHY',
        load_balancing_weight: u32(1)
      }))
    }]
  }
}
