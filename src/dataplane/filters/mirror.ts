/**
 * Request mirroring (Gateway API `RequestMirror`): a fire-and-forget copy of the request to another
 * cluster once the request body is complete; the copy's response is read and dropped, its failures
 * ignored. Only requests whose body was small enough to keep (≤ MAX_REPLAY_BYTES) are mirrored. Connections a
 * copy opens count against the mirror cluster's `maxConnections`; at the limit the copy is dropped.
 */
import { FastTimer, now } from '../resilience/clock.ts'
import type { MirrorTarget } from '../router/types.ts'
import { usesH2 } from '../upstream/pool.ts'
import type { UpstreamCluster } from '../upstream/upstream-cluster.ts'
import type { OutgoingRequest, ResponseListener, UpstreamLike } from '../upstream/upstream-connection.ts'
import type { Exchange, ForwardPlan } from './exchange.ts'
import type { ProxyTables } from './tables.ts'

/** A mirrored request that does not finish within this time is dropped. */
const MIRROR_TIMEOUT_MS = 10_000

export function mirror (ex: Exchange, t: ProxyTables, targets: readonly MirrorTarget[], plan: ForwardPlan): void {
  const chosen: UpstreamCluster[] = []
  for (const m of targets) {
    if (m.percent < 100 && Math.random() * 100 >= m.percent) continue
    const c = t.clusters.get(m.cluster)
    if (c !== undefined) chosen.push(c)
  }
  if (chosen.length === 0) return
  const req = ex.req
  // Copy now: the primary exchange may change its header list later (deadline, tracing).
  const head: OutgoingRequest = {
    method: req.method,
    path: plan.path,
    headers: plan.headers.slice(),
    contentLength: req.chunked ? -1 : req.contentLength,
    chunked: req.chunked,
    connectionTokens: req.connectionTokens,
    extra: plan.extra,
    acceptsTrailers: false,
    captureTrailers: false
  }
  ex.afterBody = (chunks) => {
    const body = chunks.slice()
    for (const c of chosen) sendCopy(c, head, body, req.method === 'HEAD')
  }
}

function sendCopy (cluster: UpstreamCluster, head: OutgoingRequest, body: Buffer[], isHead: boolean): void {
  const ep = cluster.pick(null, now())
  if (ep === null) return
  const pool = cluster.poolOf(ep)
  const start = (conn: UpstreamLike): void => {
    const l = new DiscardListener(conn)
    conn.send(l, head, body, true, isHead)
  }
  // the copy goes as HTTP/1.1 unless the endpoint speaks only h2 (or the policy says h2 between sidecars)
  const h2 = usesH2(ep.endpoint, false, cluster.protocol)
  const idle = pool.acquireIdle(h2)
  if (idle !== null) { start(idle); return }
  if (h2) { pool.connect((err, conn) => { if (err === null && conn !== null) start(conn) }, true); return }
  // a copy is best effort: at the cluster's connections limit it is dropped, never queued
  const breaker = cluster.breaker
  if (!breaker.tryAcquireConnection()) return
  pool.connect((err, conn) => {
    if (err !== null || conn === null) { breaker.releaseConnection(); return }
    conn.socket.once('close', () => breaker.releaseConnection())
    start(conn)
  })
}

class DiscardListener implements ResponseListener {
  private readonly timer: FastTimer<UpstreamLike>
  constructor (conn: UpstreamLike) {
    this.timer = new FastTimer<UpstreamLike>(c => c.destroy(), conn)
    this.timer.arm(MIRROR_TIMEOUT_MS)
  }

  onInformational (): boolean { return false }
  onResponseHead (): boolean { return false }
  onResponseBody (): boolean { return false }
  onResponseEnd (): void { this.timer.disarm() }
  onUpstreamError (): void { this.timer.disarm() }
}
