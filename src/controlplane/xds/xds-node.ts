/**
 * Who an xDS client is, from the `node` of its first request: id, cluster, user agent and Meshwork's
 * metadata keys. The profile decides which encoding it gets (resources differ between a proxyless gRPC
 * client and Envoy, and between dialing peer sidecars and dialing apps directly).
 *
 * Metadata keys (all optional, strings; `meshwork xds bootstrap` writes them):
 * - `MESHWORK_CLIENT`: `grpc` | `envoy` (default: from `user_agent_name`, `gRPC…` → grpc, else envoy);
 * - `MESHWORK_ENDPOINTS`: `inbound` (default: the peer sidecars' mTLS inbound listeners) | `app` (the apps'
 *   own plain-text ports, bypassing the server's sidecar);
 * - `MESHWORK_SERVICE`, `MESHWORK_VERSION`, `MESHWORK_NAMESPACE` (default `default`): the workload the
 *   client runs as (its identity; later its scope);
 * - `MESHWORK_OUTBOUND_PORT`: Envoy only, the port of the outbound listener (default 15001).
 */

export type XdsClientKind = 'grpc' | 'envoy'
export type XdsEndpointMode = 'inbound' | 'app'

export interface XdsNode {
  id: string
  cluster: string
  userAgent: string
  kind: XdsClientKind
  endpoints: XdsEndpointMode
  service: string | null
  version: string | null
  namespace: string
  outboundPort: number
  metadata: Record<string, unknown>
}

/** Resources depend only on this key: clients with the same profile share one compiled set. */
export function profileKey (n: XdsNode): string {
  return `${n.kind}|${n.endpoints}|${n.namespace}|${n.service ?? ''}|${n.kind === 'envoy' ? n.outboundPort : ''}`
}

/** A decoded `envoy.config.core.v3.Node` (proto field names; `metadata` a google.protobuf.Struct). */
export interface NodeMessage {
  id?: string
  cluster?: string
  user_agent_name?: string
  metadata?: { fields?: Record<string, StructValue> } | null
}
/**
 * google.protobuf.Value. protobufjs ships the well-known types pre-parsed with camelCase field names
 * (`stringValue`), whatever `keepCase` says for the Envoy protos; the wire format is the same.
 */
interface StructValue {
  nullValue?: unknown
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: { fields?: Record<string, StructValue> }
  listValue?: { values?: StructValue[] }
}

/** google.protobuf.Struct → plain JSON. */
export function structToJson (s: { fields?: Record<string, StructValue> } | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v)
  return out
}

function valueToJson (v: StructValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.numberValue !== undefined) return v.numberValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.structValue !== undefined) return structToJson(v.structValue)
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(valueToJson)
  return null
}

/** plain JSON → google.protobuf.Struct (for bootstraps and tests). */
export function jsonToStruct (obj: Record<string, unknown>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {}
  for (const [k, v] of Object.entries(obj)) fields[k] = jsonToValue(v)
  return { fields }
}

function jsonToValue (v: unknown): StructValue {
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } }
  if (v !== null && typeof v === 'object') return { structValue: jsonToStruct(v as Record<string, unknown>) }
  return { nullValue: 'NULL_VALUE' }
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** @example parseNode({ id: 'app-1', user_agent_name: 'gRPC Node Pure JS' }).kind // 'grpc' */
export function parseNode (node: NodeMessage | null | undefined): XdsNode {
  const metadata = structToJson(node?.metadata)
  const str = (k: string): string | null => (typeof metadata[k] === 'string' && metadata[k] !== '' ? metadata[k] as string : null)
  const userAgent = node?.user_agent_name ?? ''
  const declared = str('MESHWORK_CLIENT')
  const kind: XdsClientKind = declared === 'grpc' || declared === 'envoy' ? declared : /^grpc/i.test(userAgent) ? 'grpc' : 'envoy'
  const endpoints: XdsEndpointMode = str('MESHWORK_ENDPOINTS') === 'app' ? 'app' : 'inbound'
  const ns = str('MESHWORK_NAMESPACE')
  const port = Number(str('MESHWORK_OUTBOUND_PORT') ?? metadata.MESHWORK_OUTBOUND_PORT)
  return {
    id: node?.id || '<no node id>',
    cluster: node?.cluster ?? '',
    userAgent,
    kind,
    endpoints,
    service: str('MESHWORK_SERVICE'),
    version: str('MESHWORK_VERSION'),
    namespace: ns !== null && LABEL.test(ns) ? ns : 'default',
    outboundPort: Number.isInteger(port) && port > 0 && port < 65536 ? port : 15001,
    metadata
  }
}
