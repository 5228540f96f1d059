/**
 * Bootstraps that point a client at Meshwork's xDS server, with the node identity of a workload:
 * - gRPC (`GRPC_XDS_BOOTSTRAP` file or `GRPC_XDS_BOOTSTRAP_CONFIG`, gRFC A27/A29 format): `xds_servers`,
 *   `node`, and with a certificate directory the `file_watcher` certificate provider `meshwork` (A29);
 * - Envoy (`envoy.config.bootstrap.v3.Bootstrap` in proto3 JSON): ADS over a static cluster `meshwork-xds`
 *   (HTTP/2), LDS and CDS from ADS, and with a certificate directory the static secrets
 *   `meshwork-identity` / `meshwork-trust` the clusters' UpstreamTlsContext names.
 *
 * A certificate directory holds `cert.pem` (leaf + intermediate from the Meshwork CA), `key.pem` and
 * `ca.pem` (the trust bundle). With one, endpoints default to `inbound` (mTLS to the peer sidecars);
 * without, to `app` (plain text to the apps' own ports).
 *
 * @example renderGrpcBootstrap({ xdsAddress: '127.0.0.1:15012', service: 'productpage', version: 'v1' })
 */
import { join } from 'node:path'
import { ENVOY_IDENTITY_SECRET, ENVOY_TRUST_SECRET, GRPC_CERT_PROVIDER, HTTP_PROTOCOL_OPTIONS } from './encode-cluster.ts'
import type { XdsEndpointMode } from './xds-node.ts'

export interface BootstrapOptions {
  /** host:port of the xDS server (`meshwork control --xds-port`). */
  xdsAddress: string
  service: string
  version?: string
  namespace?: string
  /** Node id (default `<service>-<version>.<namespace>`). */
  id?: string
  endpoints?: XdsEndpointMode
  certDir?: string
  /** Envoy: port of the outbound listener the app uses as HTTP_PROXY (default 15001). */
  outboundPort?: number
  /** Envoy: admin port on 127.0.0.1 (default 15000). */
  adminPort?: number
}

export const CERT_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem' } as const

function nodeOf (o: BootstrapOptions, client: 'grpc' | 'envoy'): { id: string, cluster: string, metadata: Record<string, string>, locality: Record<string, string> } {
  const version = o.version ?? 'v1'
  const namespace = o.namespace ?? 'default'
  const metadata: Record<string, string> = {
    MESHWORK_CLIENT: client,
    MESHWORK_ENDPOINTS: o.endpoints ?? (o.certDir !== undefined ? 'inbound' : 'app'),
    MESHWORK_SERVICE: o.service,
    MESHWORK_VERSION: version,
    MESHWORK_NAMESPACE: namespace
  }
  if (client === 'envoy') metadata.MESHWORK_OUTBOUND_PORT = String(o.outboundPort ?? 15001)
  // grpc-js-xds requires a locality (empty is fine): one machine, one zone.
  return { id: o.id ?? `${o.service}-${version}.${namespace}`, cluster: o.service, metadata, locality: {} }
}

/** The JSON a proxyless gRPC app reads (grpc-js-xds `GRPC_XDS_BOOTSTRAP_CONFIG`). */
export function renderGrpcBootstrap (o: BootstrapOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    xds_servers: [{ server_uri: o.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: nodeOf(o, 'grpc')
  }
  if (o.certDir !== undefined) {
    out.certificate_providers = {
      [GRPC_CERT_PROVIDER]: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: join(o.certDir, CERT_FILES.cert),
          private_key_file: join(o.certDir, CERT_FILES.key),
          ca_certificate_file: join(o.certDir, CERT_FILES.ca),
          refresh_interval: '10s'
        }
      }
    }
  }
  return out
}

/** `envoy.config.bootstrap.v3.Bootstrap` in proto3 JSON (Envoy's `-c` file). */
export function renderEnvoyBootstrap (o: BootstrapOptions): Record<string, unknown> {
  const [host, portText] = splitHostPort(o.xdsAddress)
  const ads = { ads: {}, resource_api_version: 'V3' }
  const staticResources: Record<string, unknown> = {
    clusters: [{
      name: 'meshwork-xds',
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: {
        cluster_name: 'meshwork-xds',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: Number(portText) } } } }] }]
      },
      typed_extension_protocol_options: {
        [HTTP_PROTOCOL_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`, explicit_http_config: { http2_protocol_options: {} } }
      }
    }]
  }
  if (o.certDir !== undefined) {
    staticResources.secrets = [
      { name: ENVOY_IDENTITY_SECRET, tls_certificate: { certificate_chain: { filename: join(o.certDir, CERT_FILES.cert) }, private_key: { filename: join(o.certDir, CERT_FILES.key) } } },
      { name: ENVOY_TRUST_SECRET, validation_context: { trusted_ca: { filename: join(o.certDir, CERT_FILES.ca) } } }
    ]
  }
  return {
    node: nodeOf(o, 'envoy'),
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'meshwork-xds' } }], set_node_on_first_message_only: true },
      lds_config: ads,
      cds_config: ads
    },
    static_resources: staticResources,
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: o.adminPort ?? 15000 } } }
  }
}

function splitHostPort (address: string): [string, string] {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address)
  if (m === null) throw new RangeError(`xDS address must be host:port, got "${address}"`)
  return [m[1], m[2]]
}
