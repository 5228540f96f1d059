/**
 * What one xDS stream asked for and was sent, per resource type: the subscribed names (or wildcard), the
 * version of every resource the client has, the last nonce and version sent, the last ACK and NACK.
 * Both the state-of-the-world and the delta stream keep one {@link TypeState} per type URL.
 *
 *   request(names)  ──► subscribe ──► diff(wanted resources, sent versions) ──► response(nonce n)
 *   request(nonce n) ─┬─ error_detail ─► NACK: recorded, the rejected version is not sent again
 *                     └─ none ─────────► ACK: ackedVersion = the version of response n
 *   request(nonce ≠ last) ─► stale (a newer response is in flight): its ACK/NACK is ignored
 */
import type { XdsResource } from './resource-set.ts'

export interface NackInfo { version: string, nonce: string, code: number, message: string, at: string }

/** The resources of one type a client profile can get. */
export interface TypeResources {
  get (name: string): XdsResource | undefined
  /** What a wildcard subscription gets. */
  all (): Iterable<XdsResource>
}

export class TypeState {
  wildcard = false
  readonly names = new Set<string>()
  /** Name → version the client was sent (and, unless it NACKed, holds). */
  readonly sent = new Map<string, string>()
  /** Has this type been requested on the stream yet (the first request decides legacy wildcard). */
  requested = false
  nonce: string | null = null
  sentVersion: string | null = null
  ackedVersion: string | null = null
  /** Nonce of the last response the client answered (ACK or NACK). */
  answeredNonce: string | null = null
  lastNack: NackInfo | null = null
  responses = 0
  /** Delta: nonce → system version of responses not yet answered (bounded). */
  readonly pending = new Map<string, string>()

  /** State of the world: the request's `resource_names` replace the subscription. Returns true when it changed. */
  setNames (names: readonly string[]): boolean {
    // Empty on the first request = legacy wildcard; `*` = explicit wildcard (xDS protocol, "How the client specifies what resources to return").
    const wildcard = names.includes('*') || (names.length === 0 && (!this.requested || (this.wildcard && this.names.size === 0)))
    const explicit = names.filter(n => n !== '*')
    const changed = wildcard !== this.wildcard || explicit.length !== this.names.size || explicit.some(n => !this.names.has(n))
    this.requested = true
    this.wildcard = wildcard
    if (changed) {
      this.names.clear()
      for (const n of explicit) this.names.add(n)
    }
    return changed
  }

  /** Names whose resources the client should hold now. */
  wanted (resources: TypeResources): Map<string, XdsResource | undefined> {
    const out = new Map<string, XdsResource | undefined>()
    if (this.wildcard) for (const r of resources.all()) out.set(r.name, r)
    for (const n of this.names) if (!out.has(n)) out.set(n, resources.get(n))
    return out
  }

  /** ACK/NACK bookkeeping for state of the world. Returns 'stale' when the nonce is not the last one sent. */
  answer (nonce: string, versionInfo: string, error: { code?: number, message?: string } | null | undefined): 'ack' | 'nack' | 'stale' {
    if (nonce !== this.nonce) return 'stale'
    this.answeredNonce = nonce
    if (error) {
      this.lastNack = { version: this.sentVersion ?? '', nonce, code: error.code ?? 0, message: error.message ?? '', at: new Date().toISOString() }
      return 'nack'
    }
    this.ackedVersion = versionInfo
    this.lastNack = null
    return 'ack'
  }

  /** Delta: a response went out with this nonce. */
  track (nonce: string, version: string): void {
    this.nonce = nonce
    this.sentVersion = version
    this.responses++
    this.pending.set(nonce, version)
    if (this.pending.size > 64) this.pending.delete(this.pending.keys().next().value!)
  }

  /** Delta ACK/NACK: any pending nonce may be answered (responses are independent deltas). */
  answerDelta (nonce: string, error: { code?: number, message?: string } | null | undefined): 'ack' | 'nack' | 'stale' {
    const version = this.pending.get(nonce)
    if (version === undefined) return 'stale'
    this.pending.delete(nonce)
    this.answeredNonce = nonce
    if (error) {
      this.lastNack = { version, nonce, code: error.code ?? 0, message: error.message ?? '', at: new Date().toISOString() }
      return 'nack'
    }
    // A gRPC stream delivers in order: this ACK answers a response at least as new as any earlier answer.
    this.ackedVersion = version
    if (this.lastNack !== null && Number(this.lastNack.nonce) < Number(nonce)) this.lastNack = null
    return 'ack'
  }

  /** SYNCED: the last response was ACKed; NACKED: it was rejected; PENDING: not answered yet. */
  get status (): 'SYNCED' | 'NACKED' | 'PENDING' {
    if (this.nonce === null) return 'SYNCED'
    if (this.answeredNonce !== this.nonce) return 'PENDING'
    return this.lastNack !== null && this.lastNack.nonce === this.nonce ? 'NACKED' : 'SYNCED'
  }
}
