/**
 * `DeltaAggregatedResources`: incremental ADS. Per type the client subscribes and unsubscribes names
 * (`*` = wildcard; an empty first request = legacy wildcard), may say which versions it already holds
 * (`initial_resource_versions`, after a reconnect), and every response carries only the resources whose
 * version differs from what the client holds, plus `removed_resources` for ones that went away (or that a
 * client subscribed to and do not exist). Each response has its own nonce; the client ACKs or NACKs each.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js'
import { parseNode } from './xds-node.ts'
import { TYPE_URLS, type XdsTypeUrl } from './protos.ts'
import type { StreamHost, XdsStreamState } from './stream-host.ts'
import { TypeState } from './subscriptions.ts'

/** A decoded envoy.service.discovery.v3.DeltaDiscoveryRequest (proto field names). */
export interface DeltaDiscoveryRequest {
  node?: Parameters<typeof parseNode>[0]
  type_url?: string
  resource_names_subscribe?: string[]
  resource_names_unsubscribe?: string[]
  initial_resource_versions?: Record<string, string>
  response_nonce?: string
  error_detail?: { code?: number, message?: string } | null
}

export class DeltaStream implements XdsStreamState {
  readonly protocol = 'delta' as const
  readonly connectedAt = new Date().toISOString()
  readonly peer: string
  node: XdsStreamState['node'] = null
  readonly types = new Map<XdsTypeUrl, TypeState>()
  private closed = false

  constructor (readonly id: number, private readonly call: ServerDuplexStream<DeltaDiscoveryRequest, unknown>, private readonly host: StreamHost) {
    this.peer = call.getPeer()
  }

  onRequest (req: DeltaDiscoveryRequest): void {
    if (this.node === null) {
      this.node = parseNode(req.node)
      this.host.identified(this)
    }
    const type = req.type_url as XdsTypeUrl
    if (!TYPE_URLS.includes(type)) return
    let st = this.types.get(type)
    const subscribe = req.resource_names_subscribe ?? []
    const unsubscribe = req.resource_names_unsubscribe ?? []
    if (st === undefined) {
      st = new TypeState()
      this.types.set(type, st)
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) st.sent.set(name, version)
      if (subscribe.length === 0) st.wildcard = true
    }
    st.requested = true
    const nonce = req.response_nonce ?? ''
    if (nonce !== '') {
      // A stale nonce's ACK/NACK is void, but its subscription changes still count (they are deltas).
      const answer = st.answerDelta(nonce, req.error_detail)
      if (answer === 'nack') this.host.nacked(this, type, st.lastNack!)
      else if (answer === 'ack') this.host.acked(this, type)
    }
    const fresh: string[] = []
    for (const n of subscribe) {
      if (n === '*') st.wildcard = true
      else if (!st.names.has(n)) { st.names.add(n); fresh.push(n) }
    }
    for (const n of unsubscribe) {
      if (n === '*') st.wildcard = false
      else st.names.delete(n)
      // An unsubscribed resource is forgotten by the client: a later subscribe must send it again.
      if (n !== '*') st.sent.delete(n)
    }
    if (unsubscribe.includes('*')) for (const n of [...st.sent.keys()]) if (!st.names.has(n)) st.sent.delete(n)
    this.send(type, st, fresh)
  }

  push (): void {
    for (const [type, st] of this.types) this.send(type, st, [])
  }

  private send (type: XdsTypeUrl, st: TypeState, fresh: readonly string[]): void {
    if (this.closed || this.node === null) return
    const wanted = st.wanted(this.host.resources(this.node, type))
    const resources: { name: string, version: string, resource: unknown }[] = []
    const removed: string[] = []
    let bytes = 0
    for (const [name, r] of wanted) {
      if (r !== undefined) {
        if (st.sent.get(name) === r.version) continue
        st.sent.set(name, r.version)
        resources.push({ name, version: r.version, resource: r.any })
        bytes += r.any.value.length
      } else if (st.sent.delete(name) || fresh.includes(name)) {
        removed.push(name)
      }
    }
    // Held resources that left the wildcard set (deleted from the mesh).
    for (const name of [...st.sent.keys()]) {
      if (!wanted.has(name)) { st.sent.delete(name); removed.push(name) }
    }
    if (resources.length === 0 && removed.length === 0) return
    const nonce = this.host.nextNonce()
    const version = String(this.host.generation())
    st.track(nonce, version)
    this.call.write({ system_version_info: version, resources, type_url: type, removed_resources: removed, nonce })
    this.host.responded(this, type, resources.length + removed.length, bytes)
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.call.end()
  }
}
