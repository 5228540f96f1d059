/**
 * An h2 request (pseudo-headers + fields) as the {@link RequestHead} the pipeline reads, independent of the h2
 * library underneath. The body then arrives as DATA, passed on chunk-coded when the client sent no
 * content-length (gRPC never does), with the client's trailers, if any, as the last chunk's trailer section.
 *
 * - `host` first, from `:authority` (else a `host` field, else the connection's default authority: the target
 *   of the CONNECT that opened a tunnel, see filters/connect.ts);
 * - `cookie` fields joined with `; ` (RFC 9113 §8.2.3), `te` left out (h2 allows only `trailers`, and an h2 client
 *   always accepts trailers: `teTrailers` is true);
 * - gRPC classified from `content-type` once (`grpc`).
 *
 * @example
 * const req = h2RequestHead('POST', '/echo.Echo/Unary', 'echo:50051', ['content-type', 'application/grpc'], false, '')
 */
import { getHeader, type RequestHead } from '../http1/head-parser.ts'
import { isGrpcContentType } from '../grpc/status.ts'

export function h2RequestHead (method: string, path: string | undefined, authority: string | undefined, fields: readonly string[], endStream: boolean, defaultAuthority: string): RequestHead {
  let host = authority ?? ''
  if (host === '') host = getHeader(fields, 'host') ?? defaultAuthority
  const headers: string[] = ['host', host]
  let contentLength = -1
  let cookie: string | null = null
  let contentType: string | undefined
  let expectContinue = false
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]
    const v = fields[i + 1]
    // Perf: switch on length first, as the HTTP/1.1 parser does
    switch (n.length) {
      case 2: if (n === 'te') continue; break
      case 4: if (n === 'host') continue; break
      case 6:
        if (n === 'cookie') { cookie = cookie === null ? v : cookie + '; ' + v; continue }
        if (n === 'expect') expectContinue = v.toLowerCase() === '100-continue'
        break
      case 12: if (n === 'content-type') contentType = v; break
      case 14: if (n === 'content-length') { contentLength = Number(v); continue } break
    }
    headers.push(n, v)
  }
  if (cookie !== null) headers.push('cookie', cookie)
  const chunked = contentLength < 0 && !endStream
  if (contentLength >= 0) headers.push('content-length', String(contentLength))
  return {
    method,
    target: path ?? '',
    minor: 1,
    headers,
    authority: host,
    contentLength: chunked ? -1 : contentLength,
    chunked,
    keepAlive: true,
    connectionTokens: null,
    upgrade: false,
    expectContinue,
    grpc: isGrpcContentType(contentType),
    teTrailers: true
  }
}
