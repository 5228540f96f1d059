/**
 * SETTINGS frames (RFC 9113 §6.5): the values we advertise, and the validation of the peer's before they
 * are applied (invalid values are connection errors with the code §6.5.2 gives).
 *
 * @example
 * const change = applyPeerSettings(conn.peerSettings, buf, start, end, isClient)
 * if (change.windowDelta !== 0) …adjust every stream's send window…
 */
import { ConnectionError } from './connection-error.ts'
import {
  FLOW_CONTROL_ERROR, MAX_MAX_FRAME_SIZE, MAX_WINDOW, MIN_MAX_FRAME_SIZE, PROTOCOL_ERROR, SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE
} from './constants.ts'
import type { H2Options, H2Settings } from './types.ts'

/** Our SETTINGS as (identifier, value) pairs. */
export function localSettingsPairs (o: H2Options): number[] {
  const pairs = [SETTINGS_MAX_CONCURRENT_STREAMS, o.maxConcurrentStreams, SETTINGS_INITIAL_WINDOW_SIZE, o.initialStreamWindow,
    SETTINGS_MAX_HEADER_LIST_SIZE, o.maxHeaderListSize, SETTINGS_ENABLE_PUSH, 0]
  if (o.headerTableSize !== 4096) pairs.push(SETTINGS_HEADER_TABLE_SIZE, o.headerTableSize)
  return pairs
}

/** What changed: the initial window delta for open streams, the peer's new HPACK table size (−1: unchanged). */
export interface SettingsChange { windowDelta: number, headerTableSize: number, hadMaxConcurrentStreams: boolean }

/** Validate and apply a SETTINGS payload `buf[start, end)` (length already a multiple of 6) to `p`. */
export function applyPeerSettings (p: H2Settings, buf: Buffer, start: number, end: number, isClient: boolean): SettingsChange {
  const change: SettingsChange = { windowDelta: 0, headerTableSize: -1, hadMaxConcurrentStreams: false }
  for (let i = start; i < end; i += 6) {
    const key = buf.readUInt16BE(i)
    const value = buf.readUInt32BE(i + 2)
    switch (key) {
      case SETTINGS_HEADER_TABLE_SIZE: p.headerTableSize = value; change.headerTableSize = value; break
      case SETTINGS_ENABLE_PUSH:
        // a server must not enable push towards a client; 0 and 1 are the only values
        if (value > 1 || (isClient && value === 1)) throw new ConnectionError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`)
        p.enablePush = value === 1
        break
      case SETTINGS_MAX_CONCURRENT_STREAMS: p.maxConcurrentStreams = value; change.hadMaxConcurrentStreams = true; break
      case SETTINGS_INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`)
        change.windowDelta += value - p.initialWindowSize
        p.initialWindowSize = value
        break
      case SETTINGS_MAX_FRAME_SIZE:
        if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) throw new ConnectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`)
        p.maxFrameSize = value
        break
      case SETTINGS_MAX_HEADER_LIST_SIZE: p.maxHeaderListSize = value; break
      default: break // unknown settings are ignored
    }
  }
  return change
}
