/**
 * Counting and logging the connections the outbound listener refuses as not HTTP (non-http.ts):
 * `meshwork_outbound_refused_total{reason}` and at most one log line per reason every 10 s (a chatty
 * non-HTTP client must not flood the sidecar's log).
 */
import type { Socket } from 'node:net'
import type { Registry } from '../telemetry/metrics.ts'
import type { NonHttpGuard, NonHttpReason } from './non-http.ts'

const EXPLAIN: Record<NonHttpReason, string> = {
  tls: 'a TLS ClientHello (TLS to a captured port is not terminated or passed through)',
  not_http: 'bytes that are not an HTTP request line',
  silent: 'no request within the time limit (a protocol where the server speaks first?)'
}

export function refusalGuard (registry: Registry, log: (line: string) => void, intervalMs = 10_000): NonHttpGuard {
  const counter = registry.counter('meshwork_outbound_refused_total', 'Connections the outbound listener closed because they were not HTTP, by reason (tls, not_http, silent).', ['reason'])
  const children = { tls: counter.labels('tls'), not_http: counter.labels('not_http'), silent: counter.labels('silent') }
  const last: Record<NonHttpReason, { at: number, skipped: number }> = { tls: { at: 0, skipped: 0 }, not_http: { at: 0, skipped: 0 }, silent: { at: 0, skipped: 0 } }
  return {
    onRefused (reason: NonHttpReason, socket: Socket): void {
      children[reason].inc()
      const l = last[reason]
      const t = Date.now()
      if (t - l.at < intervalMs) { l.skipped++; return }
      const more = l.skipped > 0 ? ` (and ${l.skipped} more since the last line)` : ''
      l.at = t
      l.skipped = 0
      log(`meshwork proxy: MESH_ERR_NOT_HTTP: outbound: refused a connection from ${socket.remoteAddress}:${socket.remotePort} to ${socket.localAddress}:${socket.localPort}: ${EXPLAIN[reason]}${more}; meshwork_outbound_refused_total{reason="${reason}"}`)
    }
  }
}
