/**
 * The init container of transparent capture (like istio-init / linkerd-init): Meshwork's own image runs
 * `meshwork netns rules --apply …`, which renders the pod's nftables rules with the same generator as
 * `meshwork up --network pods` (src/runtime/netns/capture-rules.ts) and loads them into the pod's network
 * namespace before any other container starts. It needs NET_ADMIN only (nftables; no NET_RAW), runs as root
 * and exits; the proxy then runs as uid 1337, whose traffic the rules leave alone.
 *
 * Pod annotations:
 *   meshwork.dev/inbound-ports           ports whose inbound traffic goes to the sidecar (default: every TCP
 *                                        containerPort of the app containers, else the app port)
 *   meshwork.dev/exclude-outbound-ports  destination ports the app reaches directly (default 53)
 *   meshwork.dev/exclude-outbound-ip-ranges  destination IPv4 ranges the app reaches directly (e.g. the API server)
 */
import { ConfigInvalidError } from '../../errors.ts'
import { CAPTURE_DEFAULTS, type CaptureRuleOptions, checkCaptureOptions } from '../../runtime/netns/capture-rules.ts'

type Obj = Record<string, any>

export const INIT_CONTAINER = 'meshwork-init'
export const PROXY_UID = CAPTURE_DEFAULTS.proxyUid
export const INBOUND_PORTS_ANNOTATION = 'meshwork.dev/inbound-ports'
export const EXCLUDE_OUTBOUND_PORTS_ANNOTATION = 'meshwork.dev/exclude-outbound-ports'
export const EXCLUDE_OUTBOUND_RANGES_ANNOTATION = 'meshwork.dev/exclude-outbound-ip-ranges'

const list = (v: string | undefined): string[] | undefined => v === undefined ? undefined : v.split(',').map(x => x.trim()).filter(Boolean)

/**
 * The capture rule options of a pod template, from its app containers and annotations. A bad annotation is
 * a ConfigInvalidError naming it (the webhook then admits the pod unchanged, with a warning).
 */
export function captureOptionsOf (annotations: Record<string, string>, apps: readonly Obj[], appPort: number): Required<CaptureRuleOptions> {
  const declared = apps.flatMap(c => (c.ports ?? []) as Obj[]).filter(p => (p.protocol ?? 'TCP') === 'TCP').map(p => Number(p.containerPort))
  const inbound = list(annotations[INBOUND_PORTS_ANNOTATION])?.map(Number) ?? (declared.length > 0 ? declared : [appPort])
  try {
    return checkCaptureOptions({
      appPorts: inbound,
      proxyUid: PROXY_UID,
      excludeOutboundPorts: list(annotations[EXCLUDE_OUTBOUND_PORTS_ANNOTATION])?.map(Number),
      excludeOutboundCidrs: list(annotations[EXCLUDE_OUTBOUND_RANGES_ANNOTATION])
    })
  } catch (err) {
    throw new ConfigInvalidError([{ file: '<pod template>', path: 'metadata.annotations', reason: `meshwork.dev capture annotations: ${(err as Error).message}` }])
  }
}

/** `meshwork netns rules --apply` arguments that render exactly `o`. */
export function rulesArgs (o: Required<CaptureRuleOptions>): string[] {
  return [
    'netns', 'rules', '--apply',
    '--app-ports', o.appPorts.join(','),
    '--proxy-uid', String(o.proxyUid),
    '--inbound-port', String(o.inboundPort),
    '--outbound-port', String(o.outboundPort),
    '--exclude-outbound-ports', o.excludeOutboundPorts.join(','),
    ...(o.excludeOutboundCidrs.length > 0 ? ['--exclude-outbound-ranges', o.excludeOutboundCidrs.join(',')] : [])
    // DNS stays with kube-dns (no --dns-port)
  ]
}

export function captureInitContainer (image: string, o: Required<CaptureRuleOptions>): Obj {
  return {
    name: INIT_CONTAINER,
    image,
    args: rulesArgs(o),
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }
    }
  }
}
