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
}

/**
 * nginx.conf text for one sidecar. Run with `nginx -p <workDir> -e <workDir>/error.log -c <file>`.
 * @example renderNginxSidecar({ workDir, listen: { host: '127.0.0.1', port: 15001 }, upstream: { host: '127.0.0.1', port: 8080 } })
 */
export function renderNginxSidecar (c: NginxSidecarConfig): string {
  const d = c.workDir
  const scheme = c.upstreamTls ? 'https' : 'http'
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
    `    listen ${c.listen.host}:${c.listen.port}${c.inboundTls ? ' ssl' : ''} reuseport;`
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
  lines.push(
    '    location / {',
    `      proxy_pass ${scheme}://app;`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $host;',
    '      proxy_buffering on;'
  )
  if (c.upstreamTls) {
    lines.push(
      `      proxy_ssl_certificate ${c.upstreamTls.certFile};`,
      `      proxy_ssl_certificate_key ${c.upstreamTls.keyFile};`,
      `      proxy_ssl_trusted_certificate ${c.upstreamTls.caFile};`,
      '      proxy_ssl_verify on;',
      '      proxy_ssl_verify_depth 3;',
      `      proxy_ssl_name ${c.upstreamTls.peerName};`,
      '      proxy_ssl_server_name off;',
      '      proxy_ssl_session_reuse on;',
      '      proxy_ssl_protocols TLSv1.2 TLSv1.3;'
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
