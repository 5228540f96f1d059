/**
 * What an xDS stream (state of the world or delta) needs from the server that owns it, and the state it
 * exposes for listings (`meshwork get xds-clients`).
 */
import type { XdsTypeUrl } from './protos.ts'
import type { NackInfo, TypeResources, TypeState } from './subscriptions.ts'
import type { XdsNode } from './xds-node.ts'

export interface StreamHost {
  /** The resources of a type for a client's profile, at the current generation. */
  resources (node: XdsNode, type: XdsTypeUrl): TypeResources
  /** Current mesh generation (`meshwork get proxies` versions). */
  generation (): number
  nextNonce (): string
  /** A response went out. */
  responded (stream: XdsStreamState, type: XdsTypeUrl, resources: number, bytes: number): void
  nacked (stream: XdsStreamState, type: XdsTypeUrl, nack: NackInfo): void
  acked (stream: XdsStreamState, type: XdsTypeUrl): void
  /** The first request named the node. */
  identified (stream: XdsStreamState): void
}

export interface XdsStreamState {
  readonly id: number
  readonly protocol: 'sotw' | 'delta'
  readonly peer: string
  readonly connectedAt: string
  node: XdsNode | null
  readonly types: Map<XdsTypeUrl, TypeState>
  /** Recompute every subscribed type and send what changed (after a debounced mesh change). */
  push (): void
  close (): void
}
