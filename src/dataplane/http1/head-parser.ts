/**
 * Strict HTTP/1.1 head parser (RFC 9112) for requests and responses.
 *
 * The caller accumulates bytes until {@link findHeadEnd} finds the blank line, then parses the head in one
 * go. Anything ambiguous that a request smuggler could exploit is refused with BadRequestError
 * (`MESH_ERR_BAD_REQUEST`): both Content-Length and Transfer-Encoding, duplicate or non-numeric
 * Content-Length, a Transfer-Encoding other than `chunked`, bare CR or LF, obs-fold, spaces before the colon,
 * control characters. Heads over {@link MAX_HEAD_BYTES} are refused with HeadersTooLargeError (431).
 *
 * Headers are a flat `[name0, value0, name1, value1, …]` with lower-cased names (docs/architecture.md).
 *
 * @example
 * const end = findHeadEnd(buf, 0)
 * if (end > 0) { const req = parseRequestHead(buf, 0, end) }
 */
import { BadRequestError, HeadersTooLargeError } from '../../errors.ts'
import { isGrpcContentType } from '../grpc/status.ts'

export const MAX_HEAD_BYTES = 16 * 1024
const MAX_HEADERS = 100

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')
const LFLF = Buffer.from('\n\n', 'latin1')

// RFC 9110 token characters (method); header names and values use the tables above parseFields.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const TARGET = /^[\x21-\x7e\x80-\xff]+$/
const DIGITS = /^[0-9]{1,15}$/

export interface RequestHead {
  method: string
  /**
   * Request-target as sent: origin-form (`/a?b`), absolute-form (`http://reviews/a`), `*`, or authority-form
   * (`reviews:9080`, CONNECT only).
   */
  target: string
  /** 0 or 1 (HTTP/1.0 or HTTP/1.1). */
  minor: number
  /** Flat name/value list, names lower-cased. */
  headers: string[]
  /** `host` header value (or the authority of an absolute-form target), '' when absent. */
  authority: string
  /** -1 when absent. */
  contentLength: number
  chunked: boolean
  /** The client wants the connection kept open after this exchange. */
  keepAlive: boolean
  /** Header names listed in `Connection` (besides keep-alive/close), to strip when forwarding; null if none. */
  connectionTokens: string[] | null
  upgrade: boolean
  expectContinue: boolean
  /**
   * `content-type: application/grpc*` (grpc/status.ts `isGrpcContentType`): classified once here, from a header
   * the parser reads anyway, so the per-request gRPC checks of the proxy cost one boolean test.
   */
  grpc: boolean
  /**
   * The client accepts trailer fields (`TE: trailers`, RFC 9110 §10.1.4). Always true for an h2 client. `TE` is
   * hop-by-hop: the proxy forwards `te: trailers` upstream only when this is set (it then passes trailers back).
   */
  teTrailers: boolean
}

export interface ResponseHead {
  status: number
  minor: number
  headers: string[]
  contentLength: number
  chunked: boolean
  keepAlive: boolean
  /**
   * True when the head carries a hop-by-hop header that must not be forwarded as is (`connection: close` or
   * naming headers, `upgrade`, `proxy-connection`); `connection: keep-alive` and `keep-alive` do not count.
   */
  hasHopByHop: boolean
  connectionTokens: string[] | null
}

/**
 * Index just past the `\r\n\r\n` ending the head, or -1 when the head is not complete yet.
 * Throws HeadersTooLargeError when `end - start` exceeds the limit without a complete head, and
 * BadRequestError when the head uses bare LF line endings.
 */
export function findHeadEnd (buf: Buffer, start: number, from = start): number {
  const i = buf.indexOf(CRLFCRLF, from < start ? start : from)
  if (i !== -1) {
    if (i + 4 - start > MAX_HEAD_BYTES) throw new HeadersTooLargeError(`request head is over ${MAX_HEAD_BYTES} bytes`)
    return i + 4
  }
  if (buf.length - start > MAX_HEAD_BYTES) throw new HeadersTooLargeError(`request head is over ${MAX_HEAD_BYTES} bytes`)
  if (buf.indexOf(LFLF, start) !== -1) throw new BadRequestError('bare LF line ending in head')
  return -1
}

/** Parse a request head `buf[start, end)` where `end` is the value returned by {@link findHeadEnd}. */
export function parseRequestHead (buf: Buffer, start: number, end: number): RequestHead {
  const s = buf.toString('latin1', start, end - 2) // keep the CRLF of the last header line
  const eol = s.indexOf('\r\n')
  const sp1 = s.indexOf(' ')
  const sp2 = sp1 === -1 ? -1 : s.indexOf(' ', sp1 + 1)
  if (sp1 <= 0 || sp2 === -1 || sp2 > eol) throw new BadRequestError('malformed request line')
  const method = s.slice(0, sp1)
  const target = s.slice(sp1 + 1, sp2)
  const version = s.slice(sp2 + 1, eol)
  if (!TOKEN.test(method)) throw new BadRequestError('invalid method')
  if (!TARGET.test(target)) throw new BadRequestError('invalid request target')
  let minor: number
  if (version === 'HTTP/1.1') minor = 1
  else if (version === 'HTTP/1.0') minor = 0
  else throw new BadRequestError('unsupported HTTP version')

  const headers: string[] = []
  const f = parseFields(s, eol + 2, headers)
  if (f.clCount > 1) throw new BadRequestError('duplicate content-length')
  if (f.teCount > 1) throw new BadRequestError('duplicate transfer-encoding')
  if (f.clCount === 1 && f.teCount === 1) throw new BadRequestError('both content-length and transfer-encoding')
  if (f.teCount === 1 && !f.chunked) throw new BadRequestError('transfer-encoding other than chunked')
  if (f.hostCount > 1) throw new BadRequestError('duplicate host')

  let authority = f.host
  if (method === 'CONNECT') {
    // authority-form (RFC 9112 §3.2.3): `host:port`, the only form CONNECT takes
    if (!isAuthorityForm(target)) throw new BadRequestError('CONNECT needs an authority-form target (host:port)')
    authority = target
  } else if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
    // absolute-form (RFC 9112 §3.2.2): the target's authority wins over Host
    const a = absoluteAuthority(target)
    if (a === null) throw new BadRequestError('invalid request target')
    authority = a
  } else if (minor === 1 && f.hostCount === 0) {
    throw new BadRequestError('missing host header')
  }
  const keepAlive = minor === 1 ? !f.connClose : f.connKeepAlive
  return {
    method,
    target,
    minor,
    headers,
    authority,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive,
    connectionTokens: f.connectionTokens,
    upgrade: f.upgrade,
    expectContinue: f.expectContinue,
    grpc: f.grpc,
    teTrailers: f.teTrailers
  }
}

/** `host:port` with a non-empty host (name, IPv4 or `[IPv6]`) and a 1–5 digit port. */
function isAuthorityForm (target: string): boolean {
  const colon = target.lastIndexOf(':')
  if (colon <= 0 || colon === target.length - 1 || target.length - colon - 1 > 5) return false
  for (let i = colon + 1; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  for (let i = 0; i < colon; i++) {
    const c = target.charCodeAt(i)
    if (c === 47 || c === 64 || c === 63 || c === 35) return false // / @ ? #
  }
  return true
}

/** Parse a response head `buf[start, end)`. */
export function parseResponseHead (buf: Buffer, start: number, end: number): ResponseHead {
  const s = buf.toString('latin1', start, end - 2)
  const eol = s.indexOf('\r\n')
  // `HTTP/1.1 200 OK` — the reason phrase may be empty and the space before it is optional in practice
  if (eol < 12 || s.charCodeAt(8) !== 32 || !s.startsWith('HTTP/1.')) throw new BadRequestError('malformed status line')
  const m = s.charCodeAt(7) - 48
  if (m !== 0 && m !== 1) throw new BadRequestError('unsupported HTTP version')
  const d1 = s.charCodeAt(9) - 48
  const d2 = s.charCodeAt(10) - 48
  const d3 = s.charCodeAt(11) - 48
  if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || (eol > 12 && s.charCodeAt(12) !== 32)) throw new BadRequestError('malformed status code')
  const status = d1 * 100 + d2 * 10 + d3
  const headers: string[] = []
  const f = parseFields(s, eol + 2, headers)
  if (f.clCount > 1) throw new BadRequestError('duplicate content-length in response')
  if (f.teCount > 1 || (f.teCount === 1 && !f.chunked)) throw new BadRequestError('unsupported transfer-encoding in response')
  // RFC 9112 §6.3: chunked wins over content-length; we refuse the combination to stay unambiguous
  if (f.clCount === 1 && f.teCount === 1) throw new BadRequestError('both content-length and transfer-encoding in response')
  return {
    status,
    minor: m,
    headers,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: m === 1 ? !f.connClose : f.connKeepAlive,
    hasHopByHop: f.hopByHop,
    connectionTokens: f.connectionTokens
  }
}

interface Fields {
  clCount: number
  contentLength: number
  teCount: number
  chunked: boolean
  hostCount: number
  host: string
  connClose: boolean
  connKeepAlive: boolean
  connectionTokens: string[] | null
  upgrade: boolean
  expectContinue: boolean
  hopByHop: boolean
  grpc: boolean
  teTrailers: boolean
}

// Perf: per-character class tables instead of regexes for names and values (bench/micro/head-parser.bench.ts).
// 1 = token char, 2 = upper-case letter (token char that needs lower-casing).
const NAME_CHAR = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1
for (let c = 65; c <= 90; c++) NAME_CHAR[c] = 2
// 1 = allowed in a field value (HTAB, SP, VCHAR, obs-text); CR, LF, NUL and other controls are not.
const VALUE_CHAR = new Uint8Array(256)
VALUE_CHAR[9] = 1
for (let c = 32; c < 256; c++) VALUE_CHAR[c] = c === 127 ? 0 : 1

function parseFields (s: string, pos: number, out: string[]): Fields {
  const f: Fields = {
    clCount: 0, contentLength: -1, teCount: 0, chunked: false, hostCount: 0, host: '',
    connClose: false, connKeepAlive: false, connectionTokens: null, upgrade: false, expectContinue: false, hopByHop: false,
    grpc: false, teTrailers: false
  }
  const len = s.length
  let n = 0
  while (pos < len) {
    const eol = s.indexOf('\r\n', pos)
    // name: token chars up to ':' (a name with SP/HT — including obs-fold continuation lines, which start
    // with one — or an empty name is refused)
    let i = pos
    let upper = false
    let c = 0
    while (i < eol) {
      c = s.charCodeAt(i)
      if (c === 58) break
      const k = c < 256 ? NAME_CHAR[c] : 0
      if (k === 0) throw new BadRequestError('invalid header name')
      if (k === 2) upper = true
      i++
    }
    if (i === eol || i === pos) throw new BadRequestError('malformed header line')
    const colon = i
    let vs = colon + 1
    let ve = eol
    while (vs < ve && (s.charCodeAt(vs) === 32 || s.charCodeAt(vs) === 9)) vs++
    while (ve > vs && (s.charCodeAt(ve - 1) === 32 || s.charCodeAt(ve - 1) === 9)) ve--
    // bare CR / LF / NUL / other controls inside a value
    for (let j = vs; j < ve; j++) {
      c = s.charCodeAt(j)
      if (c > 255 || VALUE_CHAR[c] === 0) throw new BadRequestError('invalid header value')
    }
    if (++n > MAX_HEADERS) throw new BadRequestError('too many headers')
    const rawName = s.slice(pos, colon)
    const name = upper ? rawName.toLowerCase() : rawName
    const value = s.slice(vs, ve)
    out.push(name, value)
    pos = eol + 2
    // Perf: switch on length before comparing names, most headers fall through at once.
    switch (name.length) {
      case 2:
        if (name === 'te') f.teTrailers = hasToken(value, 'trailers')
        break
      case 4:
        if (name === 'host') { f.hostCount++; f.host = value }
        break
      case 6:
        if (name === 'expect') f.expectContinue = value.toLowerCase() === '100-continue'
        break
      case 7:
        if (name === 'upgrade') { f.upgrade = true; f.hopByHop = true }
        break
      case 10:
        // `connection: keep-alive` and `keep-alive: timeout=…` are harmless to pass through to a kept-alive
        // client; anything else in Connection (close, named headers) forces a rewritten head.
        if (name === 'connection') connectionHeader(f, value)
        break
      case 12:
        if (name === 'content-type') f.grpc = isGrpcContentType(value)
        break
      case 14:
        if (name === 'content-length') {
          if (!DIGITS.test(value)) throw new BadRequestError('invalid content-length')
          f.clCount++
          f.contentLength = Number(value)
        }
        break
      case 16:
        if (name === 'proxy-connection') f.hopByHop = true
        break
      case 17:
        if (name === 'transfer-encoding') {
          f.teCount++
          f.chunked = value.length === 7 && value.toLowerCase() === 'chunked'
        }
        break
    }
  }
  return f
}

/** `token` is one of the comma-separated elements of `value` (parameters after `;` ignored, case-insensitive). */
function hasToken (value: string, token: string): boolean {
  if (value.length === token.length) return value.toLowerCase() === token
  const parts = value.split(',')
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]
    const semi = p.indexOf(';')
    if ((semi === -1 ? p : p.slice(0, semi)).trim().toLowerCase() === token) return true
  }
  return false
}

function connectionHeader (f: Fields, value: string): void {
  // Perf: the two common single-token values without split/trim
  if (value.length === 10 && (value === 'keep-alive' || value.toLowerCase() === 'keep-alive')) { f.connKeepAlive = true; return }
  if (value.length === 5 && value.toLowerCase() === 'close') { f.connClose = true; f.hopByHop = true; return }
  const parts = value.split(',')
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i].trim().toLowerCase()
    if (t === 'close') { f.connClose = true; f.hopByHop = true } else if (t === 'keep-alive') f.connKeepAlive = true
    else if (t !== '') { (f.connectionTokens ??= []).push(t); f.hopByHop = true }
  }
}

/** `http://reviews:9080/x` → `reviews:9080`; null when not an http(s) absolute URI. */
export function absoluteAuthority (target: string): string | null {
  let i: number
  if (target.startsWith('http://')) i = 7
  else if (target.startsWith('https://')) i = 8
  else return null
  let j = i
  while (j < target.length) {
    const c = target.charCodeAt(j)
    if (c === 47 || c === 63 || c === 35) break // / ? #
    j++
  }
  const a = target.slice(i, j)
  if (a === '' || a.includes('@')) return null
  return a
}

/** Origin-form path of an absolute-form target: `http://reviews/x?y` → `/x?y`. */
export function originForm (target: string): string {
  if (target.charCodeAt(0) === 47) return target
  const scheme = target.indexOf('://')
  if (scheme === -1) return target
  let j = scheme + 3
  while (j < target.length) {
    const c = target.charCodeAt(j)
    if (c === 47) return target.slice(j)
    if (c === 63) return '/' + target.slice(j)
    j++
  }
  return '/'
}

/** First value of a header in a flat list (names lower-case), or undefined. Linear scan: few headers. */
export function getHeader (headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1]
  return undefined
}
