/**
 * The request one try sends upstream ({@link OutgoingRequest}), from the client's request head and the forward plan:
 * the plan's path and (rewritten) headers, the body's framing, the remaining deadline budget (`meshwork-timeout`, and
 * for gRPC `grpc-timeout` too, so the app's gRPC library enforces it), whether trailers come back (the client accepts
 * them: `TE: trailers`, always for h2) and whether to keep them (gRPC status for telemetry).
 *
 * @example
 * conn.send(listener, outgoingRequest(req, plan, extra, now()), body, requestDone, req.method === 'HEAD')
 */
import type { RequestHead } from '../http1/head-parser.ts'
import { formatTimeoutHeader } from '../resilience/deadline.ts'
import type { OutgoingRequest } from '../upstream/upstream-connection.ts'
import type { ForwardPlan } from './exchange.ts'

export function outgoingRequest (req: RequestHead, plan: ForwardPlan, extra: string, t: number): OutgoingRequest {
  return {
    method: req.method,
    path: plan.path,
    headers: plan.headers,
    contentLength: req.chunked ? -1 : req.contentLength,
    chunked: req.chunked,
    connectionTokens: req.connectionTokens,
    extra,
    timeout: plan.deadlineAt !== Infinity ? formatTimeoutHeader(plan.deadlineAt - t) : null,
    grpcTimeout: req.grpc,
    acceptsTrailers: req.teTrailers,
    captureTrailers: req.grpc
  }
}
