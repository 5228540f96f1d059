/**
 * HTTP/1.1 ⇄ HTTP/2 message translation for the h2 upstream adapter, independent of the h2 library underneath:
 * an {@link OutgoingRequest} → h2 request fields, and an h2 response (head, 1xx, trailers) → the HTTP/1.1 form the
 * exchange reads (a parsed {@link ResponseHead} plus its bytes, chunked body, trailer section).
 *
 *   OutgoingRequest ─h2RequestFields─▶ :authority + fields (host, hop-by-hop dropped; extra lines; te: trailers)
 *   :status + fields ─h1ResponseHead─▶ ResponseHead + bytes (content-length kept, else chunked; END_STREAM → length 0)
 *
 * @example
 * const { authority, fields } = h2RequestFields(req)
 * const { head, bytes } = h1ResponseHead(200, ['content-type', 'application/grpc'], false, false)
 */
import type { ResponseHead } from '../http1/head-parser.ts'
import { isHopByHop, serializeResponseHead } from '../http1/serialize.ts'
import type { OutgoingRequest } from './upstream-connection.ts'

export interface H2RequestFields {
  authority: string
  /** Flat `[name, value, …]` without pseudo-headers. */
  fields: string[]
}

/** The h2 request fields of an outgoing request (RFC 9113 §8.2.2: no connection-specific fields, `te: trailers` only). */
export function h2RequestFields (req: OutgoingRequest): H2RequestFields {
  const h = req.headers
  const fields: string[] = []
  const tokens = req.connectionTokens
  let authority = ''
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]
    if (n === 'host') { authority = h[i + 1]; continue }
    if (isHopByHop(n) || tokens?.includes(n)) continue
    fields.push(n, h[i + 1])
  }
  if (req.contentLength >= 0) fields.push('content-length', String(req.contentLength))
  if (req.acceptsTrailers) fields.push('te', 'trailers')
  if (req.extra !== '') appendRawLines(req.extra, fields)
  return { authority, fields }
}

/** `name: value\r\n` lines → flat list (names as written: the proxy writes them lower-case). */
export function appendRawLines (raw: string, out: string[]): void {
  let pos = 0
  while (pos < raw.length) {
    let eol = raw.indexOf('\r\n', pos)
    if (eol === -1) eol = raw.length
    const colon = raw.indexOf(':', pos)
    if (colon > pos && colon < eol) out.push(raw.slice(pos, colon), raw.slice(colon + 1, eol).trim())
    pos = eol + 2
  }
}

/**
 * The HTTP/1.1 head for an h2 final response, parsed (no bytes: `hasHopByHop` is set so the exchange serializes it
 * for an HTTP/1.1 client; an h2 client takes the parsed head as it is). `endStream` (HEADERS with END_STREAM: no
 * body, e.g. a gRPC trailers-only response) → `content-length: 0`, so the status fields stay in the head where gRPC
 * reads them. `head.chunked`: the body goes chunked (no content-length): DATA → chunks, trailers → the last chunk.
 */
export function h1ResponseHead (status: number, fields: string[], endStream: boolean, bodyless: boolean): ResponseHead {
  let contentLength = -1
  const out: string[] = []
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]
    if (n === 'content-length') { contentLength = Number(fields[i + 1]); continue }
    if (isHopByHop(n)) continue
    out.push(n, fields[i + 1])
  }
  const noBody = bodyless || status === 204 || status === 304
  if (endStream && !noBody) contentLength = 0
  const chunked = !noBody && contentLength < 0
  return {
    status,
    minor: 1,
    headers: out,
    contentLength: chunked ? -1 : contentLength,
    chunked,
    keepAlive: true,
    // Perf: no bytes made here; this makes the exchange serialize the head for an HTTP/1.1 client only
    hasHopByHop: true,
    connectionTokens: null
  }
}

/** An informational (1xx) h2 head as HTTP/1.1 bytes. */
export function h1Informational (status: number, fields: string[]): Buffer {
  const out: string[] = []
  for (let i = 0; i < fields.length; i += 2) if (!isHopByHop(fields[i])) out.push(fields[i], fields[i + 1])
  return serializeResponseHead(status, out, -1, false, false)
}
