/**
 * Errors with stable codes. A code is never renamed or reused; every code has an entry in docs/errors.md
 * (checked by errors.test.ts). Map a code to an HTTP status and the `x-meshwork-error` header only at a
 * plane's edge.
 *
 * @example
 * throw new UpstreamTimeoutError('reviews did not answer within 2s')
 */
export class MeshError extends Error {
  code = 'MESH_ERR'
  status = 500
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

// --- config (any plane) ---
export class ConfigInvalidError extends MeshError {
  override code = 'MESH_ERR_CONFIG_INVALID'
  override status = 400
  /** Each problem names the file, the line (when known), the path inside the resource and the reason. */
  readonly problems: ConfigProblem[]
  constructor (problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
  }
}
export class ConfigConflictError extends MeshError {
  override code = 'MESH_ERR_CONFIG_CONFLICT'
  override status = 409
  readonly problems: ConfigProblem[]
  constructor (problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.problems = problems
  }
}
export class SnapshotRejectedError extends MeshError {
  override code = 'MESH_ERR_SNAPSHOT_REJECTED'
  override status = 400
}

// --- data plane: errors the proxy makes, sent as `x-meshwork-error: <code>` with a readable body ---
export class NoRouteError extends MeshError { override code = 'MESH_ERR_NO_ROUTE'; override status = 404 }
export class UpstreamTimeoutError extends MeshError { override code = 'MESH_ERR_UPSTREAM_TIMEOUT'; override status = 504 }
export class DeadlineExceededError extends MeshError { override code = 'MESH_ERR_DEADLINE_EXCEEDED'; override status = 504 }
export class UpstreamConnectError extends MeshError { override code = 'MESH_ERR_UPSTREAM_CONNECT'; override status = 503 }
export class UpstreamResetError extends MeshError { override code = 'MESH_ERR_UPSTREAM_RESET'; override status = 502 }
export class NoHealthyUpstreamError extends MeshError { override code = 'MESH_ERR_NO_HEALTHY_UPSTREAM'; override status = 503 }
export class CircuitOpenError extends MeshError { override code = 'MESH_ERR_CIRCUIT_OPEN'; override status = 503 }
export class RateLimitedError extends MeshError { override code = 'MESH_ERR_RATE_LIMITED'; override status = 429 }
export class FaultAbortError extends MeshError {
  override code = 'MESH_ERR_FAULT_ABORT'
  /** The gRPC status a gRPC caller gets (FaultInjection `abort.grpcStatus`), or null: the one `status` maps to. */
  readonly grpcStatus: number | null
  constructor (message: string, status: number, grpcStatus: number | null = null) { super(message); this.status = status; this.grpcStatus = grpcStatus }
}
export class ForbiddenError extends MeshError { override code = 'MESH_ERR_FORBIDDEN'; override status = 403 }
export class PeerIdentityError extends MeshError { override code = 'MESH_ERR_PEER_IDENTITY'; override status = 403 }
export class BadRequestError extends MeshError { override code = 'MESH_ERR_BAD_REQUEST'; override status = 400 }
export class HeadersTooLargeError extends MeshError { override code = 'MESH_ERR_HEADERS_TOO_LARGE'; override status = 431 }
export class RequestTimeoutError extends MeshError { override code = 'MESH_ERR_REQUEST_TIMEOUT'; override status = 408 }
export class NotReadyError extends MeshError { override code = 'MESH_ERR_NOT_READY'; override status = 503 }
export class ConnectRefusedError extends MeshError { override code = 'MESH_ERR_CONNECT_REFUSED'; override status = 405 }

// --- HTTP/2 codec (src/dataplane/http2/): `h2Code` is the RFC 9113 §7 error code involved ---
/** The peer broke HTTP/2 (a connection error): we sent GOAWAY with `h2Code` and closed the connection. */
export class H2ProtocolError extends MeshError {
  override code = 'MESH_ERR_H2_PROTOCOL'; override status = 502
  constructor (message: string, readonly h2Code: number, options?: ErrorOptions) { super(message, options) }
}
/** A stream ended by RST_STREAM, sent by the peer (`byPeer`) or by us (malformed message, flow control…). */
export class H2StreamResetError extends MeshError {
  override code = 'MESH_ERR_H2_STREAM_RESET'; override status = 502
  constructor (message: string, readonly h2Code: number = 0x8, readonly byPeer = true, options?: ErrorOptions) { super(message, options) }
}
/** The peer did not process the stream (REFUSED_STREAM, or above the last-stream-id of its GOAWAY): safe to retry. */
export class H2RefusedStreamError extends MeshError { override code = 'MESH_ERR_H2_REFUSED_STREAM'; override status = 503 }
/** The connection closed (socket error or end, GOAWAY with an error, our own protocol error) with the stream open. */
export class H2ConnectionClosedError extends MeshError {
  override code = 'MESH_ERR_H2_CONNECTION_CLOSED'; override status = 502
  constructor (message: string, readonly h2Code: number = 0, options?: ErrorOptions) { super(message, options) }
}
/** `request()` on a client connection with no stream to spare (peer's concurrency limit reached, going away, closed). */
export class H2NoCapacityError extends MeshError { override code = 'MESH_ERR_H2_NO_CAPACITY'; override status = 503 }

// --- PKI (certificate authority, proxy identity) ---
export class CsrInvalidError extends MeshError { override code = 'MESH_ERR_CSR_INVALID'; override status = 400 }
export class CsrIdentityMismatchError extends MeshError { override code = 'MESH_ERR_CSR_IDENTITY_MISMATCH'; override status = 403 }
export class UnknownWorkloadError extends MeshError { override code = 'MESH_ERR_UNKNOWN_WORKLOAD'; override status = 403 }
export class CertificateInvalidError extends MeshError { override code = 'MESH_ERR_CERT_INVALID'; override status = 400 }

// --- benchmark (src/bench): each may carry the partial result measured before it stopped ---
export class BenchError extends MeshError {
  override code = 'MESH_ERR_BENCH'
  /** What was measured before the run stopped (a `LoadResult`, or a list of them), when anything was. */
  partial?: unknown
  constructor (message: string, options?: ErrorOptions & { partial?: unknown }) {
    super(message, options)
    this.partial = options?.partial
  }
}
export class BenchOptionInvalidError extends BenchError { override code = 'MESH_ERR_BENCH_OPTION_INVALID'; override status = 400 }
export class BenchTargetUnreachableError extends BenchError { override code = 'MESH_ERR_BENCH_TARGET_UNREACHABLE'; override status = 502 }
export class BenchTargetErrorsError extends BenchError { override code = 'MESH_ERR_BENCH_TARGET_ERRORS'; override status = 502 }
export class BenchTimeoutError extends BenchError { override code = 'MESH_ERR_BENCH_TIMEOUT'; override status = 504 }
export class BenchAbortedError extends BenchError { override code = 'MESH_ERR_BENCH_ABORTED'; override status = 499 }
export class BenchScenarioStartError extends BenchError { override code = 'MESH_ERR_BENCH_SCENARIO_START'; override status = 500 }
export class BenchResultNotFoundError extends BenchError { override code = 'MESH_ERR_BENCH_RESULT_NOT_FOUND'; override status = 404 }
export class BenchImportInvalidError extends BenchError { override code = 'MESH_ERR_BENCH_IMPORT_INVALID'; override status = 400 }

// --- local runtime (`meshwork up`) ---
export class RuntimeStartError extends MeshError { override code = 'MESH_ERR_RUNTIME_START'; override status = 500 }
export class PortInUseError extends MeshError { override code = 'MESH_ERR_PORT_IN_USE'; override status = 409 }

// --- pod network (`meshwork up --network pods`, `meshwork netns`): src/runtime/netns/ ---
/** `--network pods` asked for where it cannot work (no CAP_NET_ADMIN / CAP_SYS_ADMIN, `ip` or `nft` missing). */
export class PodNetworkUnavailableError extends MeshError { override code = 'MESH_ERR_NETNS_UNAVAILABLE'; override status = 500 }
/** An `ip` or `nft` command of the pod network failed (the message names the command and its stderr). */
export class NetnsCommandError extends MeshError { override code = 'MESH_ERR_NETNS'; override status = 500 }
/** The proxy refused a captured connection that is not HTTP (TLS, another protocol, or no request at all). */
export class NotHttpError extends MeshError { override code = 'MESH_ERR_NOT_HTTP'; override status = 400 }

// --- management plane API ---
export class ApiBadRequestError extends MeshError { override code = 'MESH_ERR_API_BAD_REQUEST'; override status = 400 }
export class ApiNotFoundError extends MeshError { override code = 'MESH_ERR_API_NOT_FOUND'; override status = 404 }
export class BenchBusyError extends MeshError { override code = 'MESH_ERR_BENCH_BUSY'; override status = 409 }
export class ControlPlaneUnavailableError extends MeshError { override code = 'MESH_ERR_CONTROL_PLANE_UNAVAILABLE'; override status = 503 }

export interface ConfigProblem {
  /** File the resource came from, or a label such as `<api>` or `<snapshot>`. */
  file: string
  /** 1-based line in the file, when the source had lines. */
  line?: number
  /** 1-based column on that line, when known (YAML syntax errors, schema problems of a YAML node). */
  column?: number
  /** Path inside the document, e.g. `spec.rules[0].backendRefs[1].weight`. */
  path: string
  reason: string
  /** `Kind/name` of the resource, when it could be read. */
  resource?: string
}

export function formatProblem (p: ConfigProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : p.file
  const res = p.resource ? ` (${p.resource})` : ''
  return `${where}${res}: ${p.path || '<document>'}: ${p.reason}`
}

// --- Kubernetes adapters (install, inject, webhook, apply --kubernetes) ---
export class KubeconfigMissingError extends MeshError { override code = 'MESH_ERR_KUBECONFIG_MISSING'; override status = 400 }
export class KubernetesUnreachableError extends MeshError { override code = 'MESH_ERR_KUBE_UNREACHABLE'; override status = 503 }
export class KubernetesRejectedError extends MeshError { override code = 'MESH_ERR_KUBE_REJECTED'; override status = 422 }
export class AdmissionReviewInvalidError extends MeshError { override code = 'MESH_ERR_ADMISSION_REVIEW_INVALID'; override status = 400 }

// Management API access (src/management/security/): who may call the UI's server.
export class ApiUnauthenticatedError extends MeshError { override code = 'MESH_ERR_API_UNAUTHENTICATED'; override status = 401 }
export class ApiTokenInvalidError extends MeshError { override code = 'MESH_ERR_API_TOKEN_INVALID'; override status = 401 }
export class ApiHostRefusedError extends MeshError { override code = 'MESH_ERR_API_HOST_REFUSED'; override status = 403 }
export class ApiOriginRefusedError extends MeshError { override code = 'MESH_ERR_API_ORIGIN_REFUSED'; override status = 403 }
export class ApiCsrfError extends MeshError { override code = 'MESH_ERR_API_CSRF'; override status = 403 }
export class PathInvalidError extends MeshError { override code = 'MESH_ERR_PATH_INVALID'; override status = 400 }
export class ApiContentTypeError extends MeshError { override code = 'MESH_ERR_API_CONTENT_TYPE'; override status = 415 }
