/**
 * `StreamAggregatedResources`: state-of-the-world ADS (xDS protocol, "ACK/NACK and resource type instance
 * version"). Per type: the request's `resource_names` replace the subscription (empty on the first request
 * or `*` = wildcard); each response carries a `version_info` and a `nonce`; a request with the last nonce
 * ACKs (no `error_detail`) or NACKs it; a request with an older nonce is stale (a newer response is in
 * flight, whose answer will follow) and is ignored, as the protocol says.
 *
 * LDS and CDS responses hold every subscribed resource (a missing one is deleted / does not exist, as
 * Envoy and gRPC read them); RDS and EDS responses hold only the resources that changed since sent.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js'
import { parseNode } from './xds-node.ts'
import { TYPE_URL, TYPE_URLS, type XdsTypeUrl } from './protos.ts'
import type { StreamHost, XdsStreamState } from './stream-host.ts'
import { TypeState } from './subscriptions.ts'
import type { XdsResource } from './resource-set.ts'

/** A decoded envoy.service.discovery.v3.DiscoveryRequest (proto field names). */
export interface DiscoveryRequest {
  version_info?: string
  node?: Parameters<typeof parseNode>[0]
  resource_names?: string[]
  type_url?: string
  response_nonce?: string
  error_detail?: { code?: number, message?: string } | null
}

const ALL_REQUIRED = new Set<string>([TYPE_URL.listener, TYPE_URL.cluster])

export class SotwStream implements XdsStreamState {
  readonly protocol = 'sotw' as const
  readonly connectedAt = new Date().toISOString()
  readonly peer: string
  node: XdsStreamState['node'] = null
  readonly types = new Map<XdsTypeUrl, TypeState>()
  private closed = false

  constructor (readonly id: number, private readonly call: ServerDuplexStream<DiscoveryRequest, unknown>, private readonly host: StreamHost) {
    this.peer = call.getPeer()
  }

  onRequest (req: DiscoveryRequest): void {
    if (this.node === null) {
      this.node = parseNode(req.node)
      this.host.identified(this)
    }
    const type = req.type_url as XdsTypeUrl
    // Types Meshwork does not serve (SDS, ECDS, …): no response, so the client's does-not-exist timer decides.
    if (!TYPE_URLS.includes(type)) return
    let st = this.types.get(type)
    if (st === undefined) { st = new TypeState(); this.types.set(type, st) }
    const nonce = req.response_nonce ?? ''
    if (nonce !== '') {
      const answer = st.answer(nonce, req.version_info ?? '', req.error_detail)
      if (answer === 'stale') return
      if (answer === 'nack') this.host.nacked(this, type, st.lastNack!)
      else this.host.acked(this, type)
    }
    const first = !st.requested
    const changed = st.setNames(req.resource_names ?? [])
    if (first || changed) this.send(type, st, first)
  }

  push (): void {
    for (const [type, st] of this.types) this.send(type, st, false)
  }

  private send (type: XdsTypeUrl, st: TypeState, first: boolean): void {
    if (this.closed || this.node === null) return
    const wanted = st.wanted(this.host.resources(this.node, type))
    let out: XdsResource[]
    if (ALL_REQUIRED.has(type)) {
      out = [...wanted.values()].filter((r): r is XdsResource => r !== undefined)
      const same = out.length === st.sent.size && out.every(r => st.sent.get(r.name) === r.version)
      // The first answer to LDS/CDS goes out even when empty: it tells the client what does not exist.
      if (same && !first) return
      st.sent.clear()
    } else {
      for (const n of [...st.sent.keys()]) if (wanted.get(n) === undefined) st.sent.delete(n)
      out = [...wanted.values()].filter((r): r is XdsResource => r !== undefined && st.sent.get(r.name) !== r.version)
      if (out.length === 0) return
    }
    for (const r of out) st.sent.set(r.name, r.version)
    const generation = String(this.host.generation())
    const version = st.sentVersion?.split('.')[0] === generation ? `${generation}.${st.responses}` : generation
    const nonce = this.host.nextNonce()
    st.nonce = nonce
    st.sentVersion = version
    st.responses++
    const resources = out.map(r => r.any)
    this.call.write({ version_info: version, resources, type_url: type, nonce })
    this.host.responded(this, type, out.length, resources.reduce((n, a) => n + a.value.length, 0))
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.call.end()
  }
}
