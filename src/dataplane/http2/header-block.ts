/**
 * Message rules on a decoded header list (RFC 9113 §8.1–§8.3): pseudo-headers first, each at most once,
 * only those of the message kind; no connection-specific fields; `te` only `trailers`; `:authority` and
 * `host` agree. A violation makes the message malformed: a stream error PROTOCOL_ERROR for the caller.
 * Names and values themselves were checked by the HPACK decoder (§8.2.1).
 *
 * @example
 * const r = requestHead(list)          // H2RequestHead | string (why it is malformed)
 * const s = responseStatus(list)       // status ≥ 100 | -1; the regular fields: list.slice(2)
 */
import type { H2RequestHead } from './types.ts'

/** Fields that only mean something on one HTTP/1.1 connection (§8.2.2). */
function isConnectionSpecific (name: string): boolean {
  switch (name) {
    case 'connection': case 'proxy-connection': case 'keep-alive': case 'transfer-encoding': case 'upgrade': return true
    default: return false
  }
}

/** Checks the regular fields from `from`; returns why they are malformed, or null. */
function checkRegular (list: string[], from: number): string | null {
  for (let i = from; i < list.length; i += 2) {
    const name = list[i]
    const c = name.charCodeAt(0)
    if (c === 0x3a) return `pseudo-header ${name} after regular fields`
    // Perf: a cheap first-character filter before the switch (most names start elsewhere).
    if ((c === 0x63 || c === 0x70 || c === 0x6b || c === 0x74 || c === 0x75) && isConnectionSpecific(name)) return `connection-specific field ${name}`
    if (c === 0x74 && name === 'te' && list[i + 1] !== 'trailers') return 'te other than "trailers"'
  }
  return null
}

/** The request head of a HEADERS block, or the reason it is malformed. */
export function requestHead (list: string[]): H2RequestHead | string {
  let method = ''
  let scheme = ''
  let authority = ''
  let path = ''
  let seen = 0
  let i = 0
  for (; i < list.length; i += 2) {
    const name = list[i]
    if (name.charCodeAt(0) !== 0x3a) break
    let bit: number
    switch (name) {
      case ':method': bit = 1; method = list[i + 1]; break
      case ':scheme': bit = 2; scheme = list[i + 1]; break
      case ':authority': bit = 4; authority = list[i + 1]; break
      case ':path': bit = 8; path = list[i + 1]; break
      default: return `pseudo-header ${name} in a request`
    }
    if ((seen & bit) !== 0) return `duplicate ${name}`
    seen |= bit
  }
  if ((seen & 1) === 0 || method === '') return 'no :method'
  if (method === 'CONNECT') {
    if ((seen & (2 | 8)) !== 0 || authority === '') return 'CONNECT with :scheme or :path, or without :authority'
  } else {
    if ((seen & 2) === 0 || scheme === '') return 'no :scheme'
    if ((seen & 8) === 0 || path === '') return 'no :path'
  }
  const bad = checkRegular(list, i)
  if (bad !== null) return bad
  const headers = i === 0 ? list : list.slice(i)
  for (let j = 0; j < headers.length; j += 2) {
    if (headers[j] === 'host') {
      if (authority === '') authority = headers[j + 1]
      else if (headers[j + 1] !== authority) return ':authority and host differ'
    }
  }
  return { method, scheme, authority, path, headers }
}

/** The :status of a response HEADERS block (first field), or -1 when malformed. Regular fields follow it. */
export function responseStatus (list: string[]): number {
  if (list.length < 2 || list[0] !== ':status') return -1
  const s = list[1]
  if (s.length !== 3) return -1
  const status = Number(s)
  if (!(status >= 100 && status <= 999) || (status | 0) !== status) return -1
  if (checkRegular(list, 2) !== null) return -1
  return status
}

/** Whether a trailer block is well formed (no pseudo-headers, no connection-specific fields). */
export function trailersOk (list: string[]): boolean {
  return checkRegular(list, 0) === null
}

/**
 * The content-length of a header list (regular fields), −1 if absent, −2 if invalid (not digits, or several
 * that differ).
 */
export function contentLength (headers: string[]): number {
  let n = -1
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') continue
    const v = headers[i + 1]
    if (!/^[0-9]{1,15}$/.test(v)) return -2
    const m = Number(v)
    if (n !== -1 && n !== m) return -2
    n = m
  }
  return n
}
