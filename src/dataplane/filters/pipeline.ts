/**
 * The request pipelines of the three listeners, built on the current {@link ProxyTables}:
 *
 *   outbound: route (authority, path, headers…) → redirect | rewrite, header ops, mirrors, deadline → forward
 *   gateway:  same, with the gateway route table (Gateway parentRef, hostnames)
 *   inbound:  mTLS mode → authorization → rate limit → fault (delay/abort) → deadline → forward to local app
 *
 * Each step that a snapshot leaves empty is `null` in the tables and skipped (STYLE: compile at snapshot
 * time, skip empty filters). Errors become `x-meshwork-error` responses via `Exchange.reject`.
 */
import {
  FaultAbortError, ForbiddenError, NoRouteError, NotReadyError, PathInvalidError, PeerIdentityError, RateLimitedError
} from '../../errors.ts'
import { normalizeTarget } from '../path/normalize.ts'
import { getHeader, type RequestHead } from '../http1/head-parser.ts'
import { serializeSimple } from '../http1/serialize.ts'
import type { BodySink, Downstream, RequestHandler } from '../listeners/downstream-connection.ts'
import { now } from '../resilience/clock.ts'
import { computeDeadline } from '../resilience/deadline.ts'
import { takeCallerBudget } from '../grpc/deadline.ts'
import { applyHeaderOps, setHeader } from '../router/header-ops.ts'
import { matchesRequest } from '../router/route-match.ts'
import type { RouteRequest, RouteResult } from '../router/types.ts'
import type { FaultDecision } from '../resilience/fault.ts'
import { connectHandler } from './connect.ts'
import { Exchange, type ExchangeObserver, type ForwardPlan } from './exchange.ts'
import { mirror } from './mirror.ts'
import type { ProxyTables } from './tables.ts'
import type { UpstreamCluster } from '../upstream/upstream-cluster.ts'

export interface PipelineContext {
  /** The current tables (null before the first snapshot). Read once per request. */
  tables (): ProxyTables | null
  observer: ExchangeObserver | null
  /** Adds tracing headers etc.; returns extra raw header lines for upstream (or ''). */
  decorate: ((ex: Exchange) => string) | null
}

/** Split an origin-form target into path and query (no `?`). */
function splitTarget (target: string): { path: string, query: string } {
  const q = target.indexOf('?')
  return q === -1 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) }
}

function originTarget (req: RequestHead): string {
  const t = req.target
  if (t.charCodeAt(0) === 47) return t
  if (t === '*') return t
  const s = t.indexOf('://')
  const slash = t.indexOf('/', s + 3)
  const q = t.indexOf('?', s + 3)
  if (slash === -1) return q === -1 ? '/' : '/' + t.slice(q)
  if (q !== -1 && q < slash) return '/' + t.slice(q)
  return t.slice(slash)
}

/**
 * The origin-form target, normalized per the MeshConfig (src/dataplane/path/) before routing and
 * authorization; the same string is sent upstream. Null when the request was refused (fragment, NUL…).
 */
function normalizedTarget (ex: Exchange, t: ProxyTables, req: RequestHead): string | null {
  const n = normalizeTarget(originTarget(req), t.pathNormalization)
  if (typeof n === 'string') return n
  ex.reject(new PathInvalidError(`${n.reject}: refused before routing and authorization`))
  return null
}

export function outboundHandler (ctx: PipelineContext): RequestHandler {
  return (ds, req) => routed(ctx, ds, req, 'outbound')
}

export function gatewayHandler (ctx: PipelineContext): RequestHandler {
  return (ds, req) => routed(ctx, ds, req, 'gateway')
}

function routed (ctx: PipelineContext, ds: Downstream, req: RequestHead, kind: 'outbound' | 'gateway'): BodySink {
  if (req.method === 'CONNECT') return connectHandler(ctx, ds, req, kind)
  const ex = new Exchange(ds, req, kind, ctx.observer)
  const t = ctx.tables()
  if (t === null) { ex.reject(new NotReadyError('the proxy has no configuration yet')); return ex }
  const table = kind === 'outbound' ? t.outbound : t.gateway
  if (table === null) { ex.reject(new NoRouteError('this gateway has no routes')); return ex }
  const target = normalizedTarget(ex, t, req)
  if (target === null) return ex
  const { path, query } = splitTarget(target)
  const rr: RouteRequest = { method: req.method, authority: req.authority, path, query, headers: req.headers, scheme: 'http' }
  let m: RouteResult | null
  try {
    m = table.match(rr)
  } catch (err) {
    ex.reject(err as NoRouteError)
    return ex
  }
  if (m === null) { ex.reject(new NoRouteError(`no route for ${req.authority}${path}`)); return ex }
  ex.service = m.service
  ex.route = m.route
  ex.statsKey = m
  ex.source = ds.peerIdentity ?? ''
  const rule = m.rule
  if (rule.redirect !== null) {
    const r = rule.redirect(rr)
    ex.respond(r.status, serializeSimple(r.status, ['location', r.location], '', ds.closeAfterResponse))
    return ex
  }
  let upstreamTarget = target
  const headers = req.headers
  if (rule.rewrite !== null) {
    const rw = rule.rewrite(rr)
    upstreamTarget = rw.path
    if (rw.authority !== null) setHeader(headers, 'host', rw.authority)
  }
  // absolute-form (HTTP_PROXY style): the upstream gets origin-form with the authority as Host
  if (req.target.charCodeAt(0) !== 47 && getHeader(headers, 'host') !== req.authority) setHeader(headers, 'host', req.authority)
  if (rule.requestHeaders !== null) applyHeaderOps(rule.requestHeaders, headers)
  let cluster: UpstreamCluster | undefined
  try {
    cluster = t.clusters.get(rule.pickBackend().cluster)
  } catch (err) {
    ex.reject(err as NoRouteError)
    return ex
  }
  if (cluster === undefined) { ex.reject(new NoRouteError(`route ${m.route} names an unknown backend`)); return ex }
  const plan = deadlinePlan(t, headers, rule.timeoutMs, req.grpc)
  const fwd: ForwardPlan = {
    cluster,
    path: upstreamTarget,
    headers,
    retry: rule.retry,
    perTryTimeoutMs: rule.perTryTimeoutMs,
    deadlineAt: plan.deadlineAt,
    propagate: plan.propagate,
    responseHeaders: rule.responseHeaders,
    extra: ''
  }
  if (ctx.decorate !== null) fwd.extra = ctx.decorate(ex)
  if (rule.mirrors !== null && !req.upgrade) mirror(ex, t, rule.mirrors, fwd)
  ex.forward(fwd)
  return ex
}

export function inboundHandler (ctx: PipelineContext): RequestHandler {
  return (ds, req) => {
    if (req.method === 'CONNECT') return connectHandler(ctx, ds, req, 'inbound')
    const ex = new Exchange(ds, req, 'inbound', ctx.observer)
    const t = ctx.tables()
    if (t === null) { ex.reject(new NotReadyError('the proxy has no configuration yet')); return ex }
    const local = t.local
    ex.service = t.snapshot.node.service ?? ''
    ex.route = 'inbound'
    ex.source = ds.peerIdentity ?? ''
    ex.statsKey = t
    if (local === null) { ex.reject(new NoRouteError('this proxy fronts no local app')); return ex }
    if (t.mtlsMode === 'STRICT' && ds.peerIdentity === undefined) {
      ex.reject(new PeerIdentityError('mTLS is STRICT: the caller presented no valid mesh certificate'))
      return ex
    }
    const target = normalizedTarget(ex, t, req)
    if (target === null) return ex
    if (t.authorize !== null) {
      const d = t.authorize({ identity: ds.peerIdentity, path: target, method: req.method })
      if (!d.allowed) {
        ex.reject(new ForbiddenError(d.policy !== undefined ? `denied by AuthorizationPolicy ${d.policy}` : 'no AuthorizationPolicy allows this call'))
        return ex
      }
    }
    if (t.rateLimit !== null && !t.rateLimit.tryTake()) {
      ex.reject(new RateLimitedError(`${ex.service}: local rate limit reached`))
      return ex
    }
    const plan = deadlinePlan(t, req.headers, null, req.grpc)
    const fwd: ForwardPlan = {
      cluster: local,
      path: target,
      headers: req.headers,
      retry: null,
      perTryTimeoutMs: null,
      deadlineAt: plan.deadlineAt,
      propagate: plan.propagate,
      responseHeaders: null,
      extra: ''
    }
    if (ctx.decorate !== null) fwd.extra = ctx.decorate(ex)
    if (t.faults !== null) {
      const { path, query } = splitTarget(target)
      const rr: RouteRequest = { method: req.method, authority: req.authority, path, query, headers: req.headers }
      for (const f of t.faults) {
        if (f.matches !== null && !f.matches.some(mm => matchesRequest(mm, rr))) continue
        const d = f.fault.decide()
        if (d.delayMs > 0) {
          setTimeout(() => {
            if (d.abortStatus !== null) ex.reject(faultAbort(d, req.grpc))
            else ex.forward(fwd)
          }, d.delayMs)
          return ex
        }
        if (d.abortStatus !== null) {
          ex.reject(faultAbort(d, req.grpc))
          return ex
        }
        break
      }
    }
    ex.forward(fwd)
    return ex
  }
}

/** The error a FaultInjection abort answers with (a gRPC request: the configured or mapped gRPC status). */
function faultAbort (d: FaultDecision, grpc: boolean): FaultAbortError {
  const status = d.abortStatus!
  if (grpc && d.abortGrpcStatus !== null) return new FaultAbortError(`fault injected (gRPC status ${d.abortGrpcStatus})`, status, d.abortGrpcStatus)
  return new FaultAbortError(`fault injected (HTTP ${status})`, status)
}

/**
 * Deadline of this hop: min(caller's `meshwork-timeout` / `grpc-timeout`, route or default timeout) − 1 ms
 * (grpc/deadline.ts). The caller's headers are removed; the exchange writes the remaining budget for the next hop.
 */
function deadlinePlan (t: ProxyTables, headers: string[], routeTimeoutMs: number | null, grpc: boolean): { deadlineAt: number, propagate: boolean } {
  const headerMs = takeCallerBudget(headers, grpc)
  const limit = routeTimeoutMs ?? t.defaultTimeoutMs
  const deadlineAt = computeDeadline({ receivedAt: now(), headerMs, routeTimeoutMs: limit, offsetMs: headerMs !== null ? 1 : 0 })
  return { deadlineAt, propagate: headerMs !== null && headerMs <= limit }
}
