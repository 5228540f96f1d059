/**
 * Command lines of `meshwork proxy` as the local runtime starts it. Kept in one place: this is the
 * runtime's side of the proxy's flag contract (src/cli/commands/proxy.ts).
 */

export interface SidecarArgs {
  controlPlaneUrl: string
  id: string
  service: string
  version: string
  namespace: string
  inboundPort: number
  outboundPort: number
  adminPort: number
  /** Where the app listens (`$PORT`); the sidecar forwards inbound calls there and probes its health. */
  appPort: number
  readinessPath: string
}

/** @example meshworkCommand(sidecarArgs({ controlPlaneUrl, id: 'reviews-v2-0', … })) */
export function sidecarArgs (a: SidecarArgs): string[] {
  return [
    'proxy',
    '--control-plane', a.controlPlaneUrl,
    '--id', a.id,
    '--role', 'sidecar',
    '--service', a.service,
    '--version', a.version,
    '--namespace', a.namespace,
    '--inbound', `127.0.0.1:${a.inboundPort}`,
    '--outbound', `127.0.0.1:${a.outboundPort}`,
    '--admin', `127.0.0.1:${a.adminPort}`,
    '--app', `127.0.0.1:${a.appPort}`,
    '--app-health-path', a.readinessPath
  ]
}

export interface GatewayArgs {
  controlPlaneUrl: string
  id: string
  role: 'ingress' | 'egress'
  /** Name of the Gateway resource the proxy serves. */
  gateway: string
  namespace: string
  gatewayPort: number
  adminPort: number
}

export function gatewayArgs (a: GatewayArgs): string[] {
  return [
    'proxy',
    '--control-plane', a.controlPlaneUrl,
    '--id', a.id,
    '--role', a.role,
    '--gateway', a.gateway,
    '--namespace', a.namespace,
    '--listen', `127.0.0.1:${a.gatewayPort}`,
    '--admin', `127.0.0.1:${a.adminPort}`
  ]
}
