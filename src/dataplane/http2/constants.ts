/**
 * RFC 9113 numbers: frame types and flags, error codes, SETTINGS identifiers, and the codec's defaults.
 *
 * @example
 * if (type === FRAME_DATA && (flags & FLAG_END_STREAM) !== 0) { … }
 */

/** "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
export const FRAME_HEADER_SIZE = 9

// Frame types (§6)
export const FRAME_DATA = 0x0
export const FRAME_HEADERS = 0x1
export const FRAME_PRIORITY = 0x2
export const FRAME_RST_STREAM = 0x3
export const FRAME_SETTINGS = 0x4
export const FRAME_PUSH_PROMISE = 0x5
export const FRAME_PING = 0x6
export const FRAME_GOAWAY = 0x7
export const FRAME_WINDOW_UPDATE = 0x8
export const FRAME_CONTINUATION = 0x9

// Flags
export const FLAG_END_STREAM = 0x1
export const FLAG_ACK = 0x1
export const FLAG_END_HEADERS = 0x4
export const FLAG_PADDED = 0x8
export const FLAG_PRIORITY = 0x20

// Error codes (§7)
export const NO_ERROR = 0x0
export const PROTOCOL_ERROR = 0x1
export const INTERNAL_ERROR = 0x2
export const FLOW_CONTROL_ERROR = 0x3
export const SETTINGS_TIMEOUT = 0x4
export const STREAM_CLOSED = 0x5
export const FRAME_SIZE_ERROR = 0x6
export const REFUSED_STREAM = 0x7
export const CANCEL = 0x8
export const COMPRESSION_ERROR = 0x9
export const CONNECT_ERROR = 0xa
export const ENHANCE_YOUR_CALM = 0xb
export const INADEQUATE_SECURITY = 0xc
export const HTTP_1_1_REQUIRED = 0xd

const ERROR_NAMES = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT',
  'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED']

/** `PROTOCOL_ERROR`, … or `0x1f` for a code RFC 9113 does not define. */
export function errorName (code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`
}

// SETTINGS identifiers (§6.5.2)
export const SETTINGS_HEADER_TABLE_SIZE = 0x1
export const SETTINGS_ENABLE_PUSH = 0x2
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4
export const SETTINGS_MAX_FRAME_SIZE = 0x5
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6

export const DEFAULT_WINDOW = 65_535
export const MAX_WINDOW = 0x7fffffff
export const MIN_MAX_FRAME_SIZE = 16_384
export const MAX_MAX_FRAME_SIZE = 16_777_215
