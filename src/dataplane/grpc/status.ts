/**
 * gRPC status codes and how errors the proxy makes are told to a gRPC caller (the one place that decides it).
 *
 * A request is gRPC when its `content-type` is `application/grpc` or starts with `application/grpc+` /
 * `application/grpc;` (gRPC over HTTP/2 spec, "Requests"). For such a request the proxy never answers a bare
 * 503: it answers HTTP 200 with a trailers-only response carrying `grpc-status`, and `grpc-message` starting
 * with the stable MESH_ERR code, plus `x-meshwork-error` (as Envoy maps its local replies to gRPC statuses).
 *
 * @example
 * if (isGrpcContentType(getHeader(req.headers, 'content-type'))) status = grpcStatusForError(err)
 */
import type { MeshError } from '../../errors.ts'

/** https://github.com/grpc/grpc/blob/master/doc/statuscodes.md */
export const GRPC_OK = 0
export const GRPC_CANCELLED = 1
export const GRPC_UNKNOWN = 2
export const GRPC_INVALID_ARGUMENT = 3
export const GRPC_DEADLINE_EXCEEDED = 4
export const GRPC_NOT_FOUND = 5
export const GRPC_ALREADY_EXISTS = 6
export const GRPC_PERMISSION_DENIED = 7
export const GRPC_RESOURCE_EXHAUSTED = 8
export const GRPC_FAILED_PRECONDITION = 9
export const GRPC_ABORTED = 10
export const GRPC_OUT_OF_RANGE = 11
export const GRPC_UNIMPLEMENTED = 12
export const GRPC_INTERNAL = 13
export const GRPC_UNAVAILABLE = 14
export const GRPC_DATA_LOSS = 15
export const GRPC_UNAUTHENTICATED = 16

/** Status names as Istio's `retryOn` spells them (index = code). */
export const GRPC_STATUS_NAMES = [
  'ok', 'cancelled', 'unknown', 'invalid-argument', 'deadline-exceeded', 'not-found', 'already-exists',
  'permission-denied', 'resource-exhausted', 'failed-precondition', 'aborted', 'out-of-range', 'unimplemented',
  'internal', 'unavailable', 'data-loss', 'unauthenticated'
] as const
export type GrpcStatusName = typeof GRPC_STATUS_NAMES[number]

/** The gRPC statuses a route may retry on (Istio `retryOn` gRPC names): all are safe only for a replayable request. */
export const GRPC_RETRYABLE_NAMES = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const

/** `application/grpc`, `application/grpc+proto`, `application/grpc;…` (case-insensitive). */
export function isGrpcContentType (value: string | undefined): boolean {
  if (value === undefined || value.length < 16) return false
  const v = value.length === 16 ? value : value.slice(0, 17)
  const lower = v.toLowerCase()
  if (!lower.startsWith('application/grpc')) return false
  if (lower.length === 16) return true
  const c = lower.charCodeAt(16)
  return c === 43 /* + */ || c === 59 /* ; */
}

/**
 * The gRPC status for an error the proxy made: by code first (stable), else by the HTTP status it would have had
 * (gRPC's HTTP-to-gRPC mapping, doc/http-grpc-status-mapping.md).
 */
export function grpcStatusForError (err: MeshError): number {
  // a FaultInjection abort names its gRPC status (`abort.grpcStatus`)
  const own = (err as { grpcStatus?: number | null }).grpcStatus
  if (typeof own === 'number') return own
  switch (err.code) {
    case 'MESH_ERR_DEADLINE_EXCEEDED':
    case 'MESH_ERR_UPSTREAM_TIMEOUT':
      return GRPC_DEADLINE_EXCEEDED
    case 'MESH_ERR_FORBIDDEN':
    case 'MESH_ERR_PEER_IDENTITY':
      return GRPC_PERMISSION_DENIED
    case 'MESH_ERR_CIRCUIT_OPEN':
    case 'MESH_ERR_RATE_LIMITED':
      return GRPC_RESOURCE_EXHAUSTED
    case 'MESH_ERR_NO_ROUTE':
      return GRPC_UNIMPLEMENTED
    case 'MESH_ERR_BAD_REQUEST':
    case 'MESH_ERR_HEADERS_TOO_LARGE':
      return GRPC_INTERNAL
    case 'MESH_ERR_NO_HEALTHY_UPSTREAM':
    case 'MESH_ERR_UPSTREAM_CONNECT':
    case 'MESH_ERR_UPSTREAM_RESET':
    case 'MESH_ERR_NOT_READY':
      return GRPC_UNAVAILABLE
  }
  return grpcStatusForHttpStatus(err.status)
}

/** gRPC's mapping of an HTTP status (of a non-gRPC answer) to a gRPC status. */
export function grpcStatusForHttpStatus (status: number): number {
  switch (status) {
    case 200: return GRPC_OK
    case 400: return GRPC_INTERNAL
    case 401: return GRPC_UNAUTHENTICATED
    case 403: return GRPC_PERMISSION_DENIED
    case 404: return GRPC_UNIMPLEMENTED
    case 408: return GRPC_DEADLINE_EXCEEDED
    case 429: case 502: case 503: case 504: return GRPC_UNAVAILABLE
  }
  return GRPC_UNKNOWN
}

/**
 * `grpc-message` is percent-encoded (gRPC over HTTP/2: "Percent-Encoded" — bytes outside 0x20–0x7E and `%`).
 * @example encodeGrpcMessage('MESH_ERR_NO_ROUTE: no route for ä') === 'MESH_ERR_NO_ROUTE: no route for %C3%A4'
 */
export function encodeGrpcMessage (message: string): string {
  let plain = true
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x25) { plain = false; break }
  }
  if (plain) return message
  const bytes = Buffer.from(message, 'utf8')
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    out += b < 0x20 || b > 0x7e || b === 0x25 ? '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase() : String.fromCharCode(b)
  }
  return out
}

/** Response headers (flat `[name, value, …]`, without `:status`) of a trailers-only gRPC error made by the proxy. */
export function grpcErrorHeaders (err: MeshError): string[] {
  return [
    'content-type', 'application/grpc',
    'grpc-status', String(grpcStatusForError(err)),
    'grpc-message', encodeGrpcMessage(err.code + ': ' + err.message),
    'x-meshwork-error', err.code
  ]
}

/**
 * The numeric value of a `grpc-status` field, or -1 when absent or not a number (0–999; codes above 16 are kept
 * as they are, as gRPC clients do with unknown codes).
 * Perf: hand parser, called only for gRPC requests.
 * @example parseGrpcStatus('14') === 14; parseGrpcStatus(undefined) === -1
 */
export function parseGrpcStatus (value: string | undefined): number {
  if (value === undefined || value.length === 0 || value.length > 3) return -1
  let n = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}
