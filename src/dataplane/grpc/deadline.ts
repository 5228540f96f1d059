/**
 * `grpc-timeout` and Meshwork's `meshwork-timeout` are two spellings of one deadline (resilience/deadline.ts): same
 * format (1–8 digits and a unit, gRPC over HTTP/2 "Timeout"), both relative to when the request arrived.
 *
 *   caller budget = min(meshwork-timeout, grpc-timeout)          (grpc-timeout read only for gRPC requests)
 *   deadlineAt    = arrival + min(caller budget, route timeout) − 1 ms        (resilience/deadline.ts)
 *   upstream gets meshwork-timeout: <remaining>, and for gRPC also grpc-timeout: <remaining> (filters/exchange.ts)
 *
 * A spent budget (`0n`, or less than the offset) ends the call at once with DEADLINE_EXCEEDED, without calling upstream.
 *
 * @example
 * const budgetMs = takeCallerBudget(req.headers, req.grpc) // both headers removed from the list
 */
import { removeHeader } from '../router/header-ops.ts'
import { parseTimeoutHeader, TIMEOUT_HEADER } from '../resilience/deadline.ts'

/** gRPC's deadline header (lower case, as the parsers normalise names). */
export const GRPC_TIMEOUT_HEADER = 'grpc-timeout'

/**
 * The caller's budget in ms: the smaller of `meshwork-timeout` and, for a gRPC request, `grpc-timeout`; null when
 * neither is present and valid. The headers read are removed from `headers` (the exchange writes the remaining budget).
 * A malformed value is ignored (not an error: the route timeout still applies), as with `meshwork-timeout`.
 */
export function takeCallerBudget (headers: string[], grpc: boolean): number | null {
  let budget: number | null = null
  let sawMesh = false
  let sawGrpc = false
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]
    // Perf: a length test first (16 and 12 characters) skips nearly every other header
    if (n.length === 16 && n === TIMEOUT_HEADER) sawMesh = true
    else if (grpc && n.length === 12 && n === GRPC_TIMEOUT_HEADER) sawGrpc = true
    else continue
    const ms = parseTimeoutHeader(headers[i + 1])
    if (ms !== null && (budget === null || ms < budget)) budget = ms
  }
  if (sawMesh) removeHeader(headers, TIMEOUT_HEADER)
  if (sawGrpc) removeHeader(headers, GRPC_TIMEOUT_HEADER)
  return budget
}
