/**
 * Writes HTTP/1.1 heads as one latin1 buffer (one socket write per head) and the proxy's own error
 * responses (`x-meshwork-error: <code>`, body `<code>: <message>\n`).
 *
 * @example
 * socket.write(serializeRequestHead('GET', '/x', ['host', 'reviews'], -1, false))
 */
import { STATUS_CODES } from 'node:http'
import type { MeshError } from '../../errors.ts'
import { grpcErrorHeaders } from '../grpc/status.ts'

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded as-is; framing headers are re-added by the writer. */
export function isHopByHop (name: string): boolean {
  switch (name.length) {
    case 2: return name === 'te'
    case 7: return name === 'upgrade'
    case 10: return name === 'connection' || name === 'keep-alive'
    case 14: return name === 'content-length'
    case 16: return name === 'proxy-connection'
    case 17: return name === 'transfer-encoding'
    case 19: return name === 'proxy-authorization'
  }
  return false
}

/**
 * Request head for the upstream: hop-by-hop headers and those named in `Connection` dropped, framing
 * re-added (`content-length` when `contentLength >= 0`, `transfer-encoding: chunked` when `chunked`).
 * `extra` is appended as is (already `name: value\r\n` lines) so callers can add headers without copying
 * the list.
 */
export function serializeRequestHead (method: string, path: string, headers: readonly string[], contentLength: number, chunked: boolean, connectionTokens: readonly string[] | null = null, extra = ''): string {
  // Perf: one latin1 string built by concatenation (V8 ropes). It is written as a string
  // (`socket.write(head, 'latin1')`): Node copies a small string straight into its write buffer, no Buffer
  // object and no extra allocation per request.
  let s = method + ' ' + path + ' HTTP/1.1\r\n'
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]
    if (isHopByHop(n) || (connectionTokens !== null && connectionTokens.includes(n))) continue
    s += n + ': ' + headers[i + 1] + '\r\n'
  }
  if (chunked) s += 'transfer-encoding: chunked\r\n'
  else if (contentLength >= 0) s += 'content-length: ' + contentLength + '\r\n'
  return s + extra + '\r\n'
}

/** Response head for the downstream, hop-by-hop headers dropped, framing re-added. */
export function serializeResponseHead (status: number, headers: readonly string[], contentLength: number, chunked: boolean, close: boolean, connectionTokens: readonly string[] | null = null, extra = ''): Buffer {
  let s = 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown') + '\r\n'
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]
    if (isHopByHop(n) || (connectionTokens !== null && connectionTokens.includes(n))) continue
    s += n + ': ' + headers[i + 1] + '\r\n'
  }
  if (chunked) s += 'transfer-encoding: chunked\r\n'
  else if (contentLength >= 0) s += 'content-length: ' + contentLength + '\r\n'
  if (close) s += 'connection: close\r\n'
  s += extra + '\r\n'
  return Buffer.from(s, 'latin1')
}

/** A complete error response made by the proxy; `headOnly` (a HEAD request): the same head, no content. */
export function serializeError (err: MeshError, close: boolean, extraHeaders = '', headOnly = false): Buffer {
  const body = err.code + ': ' + oneLine(err.message) + '\n'
  const head = 'HTTP/1.1 ' + err.status + ' ' + (STATUS_CODES[err.status] ?? 'Error') + '\r\n' +
    'content-type: text/plain; charset=utf-8\r\n' +
    'x-meshwork-error: ' + err.code + '\r\n' +
    'content-length: ' + Buffer.byteLength(body) + '\r\n' +
    (close ? 'connection: close\r\n' : '') + extraHeaders + '\r\n'
  if (headOnly) return Buffer.from(head, 'latin1')
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')])
}

/**
 * A proxy error for a gRPC request (grpc/status.ts): HTTP 200 with `grpc-status`, `grpc-message` (the MESH_ERR code
 * first) and `x-meshwork-error` in the head and no body — the HTTP/1.1 form of a gRPC trailers-only response.
 */
export function serializeGrpcError (err: MeshError, close: boolean): Buffer {
  const h = grpcErrorHeaders(err)
  let s = 'HTTP/1.1 200 OK\r\n'
  for (let i = 0; i < h.length; i += 2) s += h[i] + ': ' + h[i + 1] + '\r\n'
  s += 'content-length: 0\r\n' + (close ? 'connection: close\r\n' : '') + '\r\n'
  return Buffer.from(s, 'latin1')
}

/** A small complete response (redirects, admin helpers). */
export function serializeSimple (status: number, headers: readonly string[], body: string, close: boolean): Buffer {
  const b = Buffer.from(body, 'utf8')
  let s = 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown') + '\r\n'
  for (let i = 0; i < headers.length; i += 2) s += headers[i] + ': ' + headers[i + 1] + '\r\n'
  s += 'content-length: ' + b.length + '\r\n' + (close ? 'connection: close\r\n' : '') + '\r\n'
  return Buffer.concat([Buffer.from(s, 'latin1'), b])
}

function oneLine (s: string): string {
  return s.replace(/[\r\n]+/g, ' ')
}
