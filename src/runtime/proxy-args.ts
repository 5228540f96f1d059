/**
 * Command lines of `meshwork proxy` as the local runtime starts it. Kept in one place: this is the
 * runtime's side of the proxy's flag contract (src/cli/commands/proxy.ts). Addresses are `host:port`.
 */

export interface SidecarArgs {
  controlPlaneUrl: string
  id: string
  service: string
  version: string
  namespace: string
  inbound: string
  outbound: string
  admin: string
  /** Where the app listens (`$PORT`); the sidecar forwards inbound calls there and probes its health. */
  app: string
  /** Where peers dial this sidecar, when not its inbound address (pods: `<pod address>:<app port>`). */
  advertise?: string
  /** Pods: where the sidecar answers the app's DNS queries (catch-all, `127.0.0.1:15053`). */
  dns?: string
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
    '--inbound', a.inbound,
    '--outbound', a.outbound,
    '--admin', a.admin,
    '--app', a.app,
    ...(a.advertise !== undefined ? ['--advertise', a.advertise] : []),
    ...(a.dns !== undefined ? ['--dns', a.dns] : []),
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
  listen: string
  admin: string
}

export function gatewayArgs (a: GatewayArgs): string[] {
  return [
    'proxy',
    '--control-plane', a.controlPlaneUrl,
    '--id', a.id,
    '--role', a.role,
    '--gateway', a.gateway,
    '--namespace', a.namespace,
    '--listen', a.listen,
    '--admin', a.admin
  ]
}
