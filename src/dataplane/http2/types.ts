/**
 * The codec's public shapes: request heads, stream handlers, connection handlers and options (README.md
 * is the prose version of this file).
 *
 * @example
 * const handler: H2StreamHandler = { onData (s, d) { s.consumed(d.length) }, onEnd () {}, onReset () {} }
 */
import type { MeshError } from '../../errors.ts'
import type { H2Stream } from './stream.ts'

/** A request head: pseudo-headers as fields, regular header fields flat (`[name0, value0, …]`, lower-case). */
export interface H2RequestHead {
  method: string
  scheme: string
  authority: string
  path: string
  headers: string[]
}

/** Set once per stream (`stream.handler = …` in onStream, or passed to `request()`). */
export interface H2StreamHandler {
  /** Client role: the final (≥ 200) response head. */
  onResponse? (stream: H2Stream, status: number, headers: string[], endStream: boolean): void
  /** Client role: an informational (1xx, never 101) head. */
  onInformational? (stream: H2Stream, status: number, headers: string[]): void
  /** DATA payload (never empty, padding removed): a view that stays valid. Give it back with `consumed()`. */
  onData (stream: H2Stream, data: Buffer): void
  /** The peer ended its side, with trailers or null. */
  onEnd (stream: H2Stream, trailers: string[] | null): void
  /** The stream died (reset by either side, refused, connection gone). No callback follows. */
  onReset (stream: H2Stream, err: MeshError): void
  /** `write()` returned false and the stream's send queue is empty again. */
  onDrain? (stream: H2Stream): void
}

export interface H2ConnectionEvents {
  /** The peer sent GOAWAY. */
  onGoaway? (conn: unknown, code: number, lastStreamId: number, debug: Buffer): void
  /** The connection is gone; `err` is null after a clean close (graceful GOAWAY, socket end with no stream open). */
  onClose? (conn: unknown, err: MeshError | null): void
}

export interface H2ServerEvents extends H2ConnectionEvents {
  /** A new request. Set `stream.handler` before returning. */
  onStream (stream: H2Stream, head: H2RequestHead, endStream: boolean): void
}

export interface H2ClientEvents extends H2ConnectionEvents {
  /** A stream slot freed on a connection that had none (`availableStreams` went from 0 to > 0). */
  onCapacity? (conn: unknown): void
}

/** Codec options; every field has a default (DEFAULT_OPTIONS). */
export interface H2Options {
  maxConcurrentStreams: number
  initialStreamWindow: number
  connectionWindow: number
  headerTableSize: number
  maxHeaderListSize: number
  maxHeaderBlockSize: number
  maxContinuationFrames: number
  streamHighWaterMark: number
  consumeOnDelivery: boolean
  maxResetsPerWindow: number
  resetWindowMs: number
  maxControlFramesPerWindow: number
  maxOutboundControlFrames: number
}

export const DEFAULT_OPTIONS: Readonly<H2Options> = Object.freeze({
  maxConcurrentStreams: 1000,
  initialStreamWindow: 256 * 1024,
  connectionWindow: 4 * 1024 * 1024,
  headerTableSize: 4096,
  maxHeaderListSize: 64 * 1024,
  maxHeaderBlockSize: 128 * 1024,
  maxContinuationFrames: 64,
  streamHighWaterMark: 64 * 1024,
  consumeOnDelivery: false,
  maxResetsPerWindow: 200,
  resetWindowMs: 1000,
  maxControlFramesPerWindow: 1000,
  maxOutboundControlFrames: 10_000
})

/** The peer's (or our) SETTINGS values. */
export interface H2Settings {
  headerTableSize: number
  enablePush: boolean
  maxConcurrentStreams: number
  initialWindowSize: number
  maxFrameSize: number
  maxHeaderListSize: number
}
