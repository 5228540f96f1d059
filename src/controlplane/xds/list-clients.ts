/**
 * `GET /v1/xds-clients` and `meshwork get xds-clients`: the connected xDS streams, what each subscribed
 * and whether it ACKed or NACKed the last response of each type (stable field names, JSON).
 */
import { TYPE_SHORT } from './protos.ts'
import type { XdsServer } from './xds-server.ts'

export interface XdsTypeListing {
  /** `["*"]` for a wildcard subscription (plus any names), else the names. */
  subscribed: string[]
  resources: number
  sync: 'SYNCED' | 'NACKED' | 'PENDING'
  sentVersion: string | null
  ackedVersion: string | null
  nonce: string | null
  lastNack: { version: string, nonce: string, code: number, message: string, at: string } | null
}

export interface XdsClientListing {
  stream: number
  id: string
  cluster: string
  client: 'grpc' | 'envoy'
  endpoints: 'inbound' | 'app'
  protocol: 'sotw' | 'delta'
  userAgent: string
  service: string | null
  namespace: string
  peer: string
  connectedAt: string
  /** NACKED if any type's last response was rejected, PENDING if any is unanswered, else SYNCED. */
  sync: 'SYNCED' | 'NACKED' | 'PENDING'
  types: Partial<Record<'LDS' | 'RDS' | 'CDS' | 'EDS', XdsTypeListing>>
}

export function listXdsClients (xds: XdsServer): XdsClientListing[] {
  const out: XdsClientListing[] = []
  for (const s of xds.streams.values()) {
    if (s.node === null) continue
    const types: XdsClientListing['types'] = {}
    let sync: XdsClientListing['sync'] = 'SYNCED'
    for (const [url, st] of s.types) {
      const status = st.status
      if (status === 'NACKED') sync = 'NACKED'
      else if (status === 'PENDING' && sync === 'SYNCED') sync = 'PENDING'
      types[TYPE_SHORT[url]] = {
        subscribed: [...(st.wildcard ? ['*'] : []), ...st.names],
        resources: st.sent.size,
        sync: status,
        sentVersion: st.sentVersion,
        ackedVersion: st.ackedVersion,
        nonce: st.nonce,
        lastNack: st.lastNack
      }
    }
    out.push({
      stream: s.id,
      id: s.node.id,
      cluster: s.node.cluster,
      client: s.node.kind,
      endpoints: s.node.endpoints,
      protocol: s.protocol,
      userAgent: s.node.userAgent,
      service: s.node.service,
      namespace: s.node.namespace,
      peer: s.peer,
      connectedAt: s.connectedAt,
      sync,
      types
    })
  }
  return out
}
