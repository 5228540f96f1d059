import type { SidecarTls } from './nginx-config.ts'

export interface HaproxySidecarConfig {
  listen: { host: string, port: number }
  upstream: { host: string, port: number }
  /** Server side: accept mTLS. `pemFile` = certificate chain + private key in one file (HAProxy's `crt`). */
  inboundTls?: SidecarTls & { pemFile: string }
  /** Client side: dial upstream with mTLS. */
  upstreamTls?: SidecarTls & { pemFile: string }
  threads?: number
}

/**
 * haproxy.cfg text for one sidecar (same shape as the nginx sidecar: plain in, mTLS between sidecars).
 * Run with `haproxy -f <file> -db` (foreground).
 * @example renderHaproxySidecar({ listen: { host: '127.0.0.1', port: 15001 }, upstream: { host: '127.0.0.1', port: 8080 } })
 */
export function renderHaproxySidecar (c: HaproxySidecarConfig): string {
  const bindTls = c.inboundTls ? ` ssl crt ${c.inboundTls.pemFile} ca-file ${c.inboundTls.caFile} verify required` : ''
  const serverTls = c.upstreamTls
    ? ` ssl crt ${c.upstreamTls.pemFile} ca-file ${c.upstreamTls.caFile} verify required verifyhost ${c.upstreamTls.peerName}`
    : ''
  return [
    'global',
    '  maxconn 4000',
    `  nbthread ${c.threads ?? 1}`,
    '  tune.ssl.default-dh-param 2048',
    'defaults',
    '  mode http',
    '  option http-keep-alive',
    '  timeout connect 5s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout http-keep-alive 120s',
    '  http-reuse always',
    'frontend sidecar_in',
    `  bind ${c.listen.host}:${c.listen.port}${bindTls}`,
    '  default_backend app',
    'backend app',
    `  server app0 ${c.upstream.host}:${c.upstream.port}${serverTls} pool-max-conn 256`,
    ''
  ].join('\n')
}

export function haproxyArgs (confFile: string): string[] {
  return ['-f', confFile, '-db']
}
