/**
 * Refusing what is not HTTP on the outbound listener. With transparent capture every TCP connection an app
 * opens lands there, HTTP or not; the mesh routes HTTP only (by Host / `:authority`, no original destination),
 * so anything else is closed at once with a counted, logged reason instead of hanging:
 *
 *   first bytes 0x16 …               `tls`       a TLS ClientHello: answered with a fatal handshake_failure alert
 *   first bytes not a request line   `not_http`  another protocol: one line `MESH_ERR_NOT_HTTP: …`, then close
 *   nothing within firstByteTimeout  `silent`    a server-speaks-first protocol (SMTP, MySQL…): the same line
 *
 * A request line is a method token (RFC 9110 tchar) then a space, after optional empty lines (RFC 9112 §2.2);
 * the h2 preface (`PRI * HTTP/2.0`) is one too. Only the first chunk of a connection is looked at.
 */
import type { Socket } from 'node:net'
import { NotHttpError } from '../../errors.ts'

export type NonHttpReason = 'tls' | 'not_http' | 'silent'

export interface NonHttpGuard {
  /** Close a connection that sent nothing for this long (default 10 s, the head timeout). */
  firstByteTimeoutMs?: number
  /** Called once per refused connection (count, log). */
  onRefused (reason: NonHttpReason, socket: Socket): void
}

export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 10_000

// TLS record: alert (21), version 3.1, length 2, level fatal (2), handshake_failure (40)
const TLS_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])
const TCHAR = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1

/** Why these first bytes of a connection are not HTTP, or null when they may be (a request line so far). */
export function nonHttpReason (chunk: Buffer): 'tls' | 'not_http' | null {
  if (chunk.length === 0) return null
  if (chunk[0] === 0x16) return 'tls'
  let i = 0
  while (i < chunk.length && (chunk[i] === 0x0d || chunk[i] === 0x0a)) i++ // empty lines before the request line
  const start = i
  while (i < chunk.length && i - start < 64 && TCHAR[chunk[i]] === 1) i++
  if (i === chunk.length) return null // a method so far: let the HTTP parser decide (and time out)
  return i > start && chunk[i] === 0x20 ? null : 'not_http'
}

/** Close a refused connection with the reason the client can read (an alert for TLS). */
export function refuseNonHttp (socket: Socket, reason: NonHttpReason): void {
  const why = reason === 'tls'
    ? TLS_ALERT
    : `${new NotHttpError('').code}: ${reason === 'silent' ? 'no request within the time limit' : 'not an HTTP request'}; the mesh carries HTTP only (exclude this port from capture)\n`
  socket.end(why)
  // a client that never reads must not keep the socket
  setTimeout(() => socket.destroy(), 1000).unref()
}
