export type { HaproxySidecarConfig } from './haproxy-config.ts'
export { haproxyArgs, renderHaproxySidecar } from './haproxy-config.ts'
export type { NginxSidecarConfig, SidecarTls } from './nginx-config.ts'
export { NGINX_TEMP_DIRS, nginxArgs, renderNginxSidecar } from './nginx-config.ts'
