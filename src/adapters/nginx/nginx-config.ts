/**
 * nginx as a peer sidecar data plane (the benchmark's reference point). Two roles, exactly the mesh
 * shape: a client-side sidecar the app calls in plain HTTP, which forwards over mTLS to the server-side
 * sidecar, which forwards to the app. Upstream keep-alive on every hop, access log off, one worker
 * (like one Meshwork proxy process).
 */

export interface SidecarTls {
  certFile: string
  keyFile: string
  /** Trust bundle (root CA) used to verify the peer. */
  caFile: string
  /**
   * Name the server certificate is checked against: nginx checks the certificate's CN when it has no
   * DNS SAN (mesh certificates carry a SPIFFE URI SAN and CN = service account).
   */
  peerName: string
}

export interface NginxSidecarConfig {
  /** Directory for the pid file, logs and temp files (must exist, writable). */
  workDir: string
  listen: { host: string, port: number }
  upstream: { host: string, port: number }
  /** Server side: accept mTLS on `listen`. Client side: dial `upstream` with mTLS. */
  inboundTls?: SidecarTls
  upstreamTls?: SidecarTls
  workerProcesses?: number
  /** Idle upstream connections kept per worker. */
  keepalive?: number
  /**
   * gRPC sidecar: the listener speaks HTTP/2 (h2c, or h2 over TLS with ALPN) and forwards with `grpc_pass`
   * (h2 to the upstream, `grpcs://` with the upstream TLS settings as `grpc_ssl_*`).
   */
  grpc?: boolean
}

/**
 * nginx.conf text for one sidecar. Run with `nginx -p <workDir> -e <workDir>/error.log -c <file>`.
 * @example renderNginxSidecar({ workDir, listen: { host: '127.0.0.1', port: 15001 }, upstream: { host: '127.0.0.1', port: 8080 } })
 */
export function renderNginxSidecar (c: NginxSidecarConfig): string {
  const d = c.workDir
  const grpc = c.grpc === true
  const scheme = grpc ? (c.upstreamTls ? 'grpcs' : 'grpc') : c.upstreamTls ? 'https' : 'http'
  const px = grpc ? 'grpc' : 'proxy'
  const lines = [
    'daemon off;',
    'master_process on;',
    `worker_processes ${c.workerProcesses ?? 1};`,
    `pid ${d}/nginx.pid;`,
    `error_log ${d}/error.log warn;`,
    'events { worker_connections 4096; multi_accept on; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${d}/client_body;`,
    `  proxy_temp_path ${d}/proxy;`,
    `  fastcgi_temp_path ${d}/fastcgi;`,
    `  uwsgi_temp_path ${d}/uwsgi;`,
    `  scgi_temp_path ${d}/scgi;`,
    '  keepalive_requests 1000000;',
    '  keepalive_timeout 120s;',
    '  upstream app {',
    `    server ${c.upstream.host}:${c.upstream.port};`,
    `    keepalive ${c.keepalive ?? 256};`,
    '    keepalive_requests 1000000;',
    '  }',
    '  server {',
    `    listen ${c.listen.host}:${c.listen.port}${c.inboundTls ? ' ssl' : ''}${grpc ? ' http2' : ''} reuseport;`
  ]
  if (c.inboundTls) {
    lines.push(
      `    ssl_certificate ${c.inboundTls.certFile};`,
      `    ssl_certificate_key ${c.inboundTls.keyFile};`,
      `    ssl_client_certificate ${c.inboundTls.caFile};`,
      '    ssl_verify_client on;',
      '    ssl_protocols TLSv1.2 TLSv1.3;',
      '    ssl_session_cache shared:SSL:1m;'
    )
  }
  lines.push('    location / {')
  if (grpc) lines.push(`      grpc_pass ${scheme}://app;`, '      grpc_set_header Host $host;')
  else {
    lines.push(
      `      proxy_pass ${scheme}://app;`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_set_header Host $host;',
      '      proxy_buffering on;'
    )
  }
  if (c.upstreamTls) {
    lines.push(
      `      ${px}_ssl_certificate ${c.upstreamTls.certFile};`,
      `      ${px}_ssl_certificate_key ${c.upstreamTls.keyFile};`,
      `      ${px}_ssl_trusted_certificate ${c.upstreamTls.caFile};`,
      `      ${px}_ssl_verify on;`,
      `      ${px}_ssl_verify_depth 3;`,
      `      ${px}_ssl_name ${c.upstreamTls.peerName};`,
      `      ${px}_ssl_server_name off;`,
      `      ${px}_ssl_session_reuse on;`,
      `      ${px}_ssl_protocols TLSv1.2 TLSv1.3;`
    )
  }
  lines.push('    }', '  }', '}', '')
  return lines.join('\n')
}

/** Temp directories nginx needs under its work dir. */
export const NGINX_TEMP_DIRS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']

/** Command line for one nginx sidecar in the foreground. */
export function nginxArgs (workDir: string, confFile: string): string[] {
  return ['-p', workDir, '-e', `${workDir}/error.log`, '-c', confFile]
}
