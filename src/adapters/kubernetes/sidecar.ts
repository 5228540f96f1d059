/**
 * The Meshwork sidecar added to a pod template: the same `meshwork proxy` the local runtime starts,
 * registered with the control plane. Two ways the app's traffic reaches it:
 *
 *   nftables (default)  init container meshwork-init loads the pod's capture rules (capture-init.ts), like
 *                       istio-init: the app's TCP ─▶ outbound 127.0.0.1:15001, and peers' calls to
 *                       $(POD_IP):<app port> ─▶ inbound :15006; the proxy runs as uid 1337, exempt. The app is
 *                       unchanged; its HTTP probes of captured ports go through the proxy (probe-rewrite.ts).
 *   env (--capture env) app container ──HTTP_PROXY──▶ outbound 127.0.0.1:15001; peers dial $(POD_IP):15006.
 *                       No NET_ADMIN (for namespaces whose Pod Security forbids it), but only clients that
 *                       honour HTTP_PROXY are on the mesh.
 *
 *   either way          outbound ──mTLS──▶ peer sidecar inbound ──▶ peer app (127.0.0.1:<port>)
 */
import { captureInitContainer, captureOptionsOf, INIT_CONTAINER, PROXY_UID } from './capture-init.ts'
import { REWRITE_PROBES_ANNOTATION, rewriteProbes } from './probe-rewrite.ts'

type Obj = Record<string, any>

export const PROXY_CONTAINER = 'meshwork-proxy'
export const INJECT_ANNOTATION = 'meshwork.dev/inject'
export const STATUS_ANNOTATION = 'meshwork.dev/status'
/** How the app's traffic reaches the proxy: `nftables` or `env` (set by the injector). */
export const CAPTURE_ANNOTATION = 'meshwork.dev/capture'
export const APP_PORT_ANNOTATION = 'meshwork.dev/app-port'
export const HEALTH_PATH_ANNOTATION = 'meshwork.dev/app-health-path'
/** Extra NO_PROXY entries (comma-separated): hosts the app reaches directly, not through the sidecar. */
export const NO_PROXY_ANNOTATION = 'meshwork.dev/no-proxy'
export const PORTS = { outbound: 15001, inbound: 15006, admin: 15000 } as const

export interface SidecarOptions {
  /** Image with the meshwork binary, e.g. `ghcr.io/meshwork/meshwork:0.1.0`. */
  image: string
  /** Control plane URL as seen from pods, e.g. `http://meshwork-control.meshwork.svc:15010`. */
  controlPlane: string
  /**
   * Kubernetes ≥ 1.29 native sidecar (an init container with restartPolicy Always and a startup probe),
   * so the app starts only once the proxy is ready, like the local runtime. `false`: a regular container.
   */
  nativeSidecar?: boolean
  proxyVersion?: string
  /** `nftables` (default): transparent capture by an init container; `env`: HTTP_PROXY, no capability. */
  capture?: 'nftables' | 'env'
}

export type InjectOutcome = 'injected' | 'already-injected' | 'disabled' | 'no-containers'

/**
 * Add the sidecar to a pod template (`{ metadata, spec }`), returning a new object; the input is not
 * changed. Idempotent: a template that already has the sidecar, or says `meshwork.dev/inject: disabled`,
 * is returned as is.
 *
 * @example
 * const { template, outcome } = injectPodTemplate(deploy.spec.template, { image, controlPlane }, { name: 'reviews-v1' })
 */
export function injectPodTemplate (template: Obj, opts: SidecarOptions, owner: { name: string }): { template: Obj, outcome: InjectOutcome } {
  const meta: Obj = template.metadata ?? {}
  const spec: Obj = template.spec ?? {}
  if (meta.annotations?.[INJECT_ANNOTATION] === 'disabled' || meta.labels?.[INJECT_ANNOTATION] === 'disabled') return { template, outcome: 'disabled' }
  const containers: Obj[] = spec.containers ?? []
  const inits: Obj[] = spec.initContainers ?? []
  if (containers.some(c => c.name === PROXY_CONTAINER) || inits.some(c => c.name === PROXY_CONTAINER || c.name === INIT_CONTAINER)) return { template, outcome: 'already-injected' }
  if (containers.length === 0) return { template, outcome: 'no-containers' }

  const labels: Record<string, string> = meta.labels ?? {}
  const service = labels.app ?? labels['app.kubernetes.io/name'] ?? owner.name
  const version = labels.version ?? labels['app.kubernetes.io/version'] ?? 'v1'
  const appPort = Number(meta.annotations?.[APP_PORT_ANNOTATION] ?? containers[0].ports?.[0]?.containerPort ?? 8080)
  const annotations: Record<string, string> = meta.annotations ?? {}
  const readiness = containers[0].readinessProbe?.httpGet
  const healthPath = annotations[HEALTH_PATH_ANNOTATION] ?? (typeof readiness?.path === 'string' ? readiness.path : '/healthz')
  const native = opts.nativeSidecar ?? true
  const capture = opts.capture ?? 'nftables'
  // nftables: which ports are captured, which destinations are not (annotations; checked by the rule generator)
  const rules = capture === 'nftables' ? captureOptionsOf(annotations, containers, appPort) : null
  const probes = rules !== null && annotations[REWRITE_PROBES_ANNOTATION] !== 'false'
    ? rewriteProbes(containers, rules.appPorts, PORTS.admin)
    : { containers, targets: [] }

  const proxy: Obj = {
    name: PROXY_CONTAINER,
    image: opts.image,
    args: [
      'proxy',
      '--control-plane', opts.controlPlane,
      '--id', '$(POD_NAME)',
      '--role', 'sidecar',
      '--service', service,
      '--version', version,
      '--namespace', '$(POD_NAMESPACE)',
      // nftables: peers dial the pod's app port (Kubernetes Endpoints), the rules hand it to :15006
      ...(rules !== null
        ? ['--inbound', `0.0.0.0:${PORTS.inbound}`, '--advertise', `$(POD_IP):${appPort}`]
        : ['--inbound', `$(POD_IP):${PORTS.inbound}`]),
      '--outbound', `127.0.0.1:${PORTS.outbound}`,
      '--admin', `0.0.0.0:${PORTS.admin}`,
      '--app', `127.0.0.1:${appPort}`,
      '--app-health-path', healthPath,
      ...probes.targets.flatMap(t => ['--app-probe', t])
    ],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } }
    ],
    ports: [
      { name: 'mw-inbound', containerPort: PORTS.inbound, protocol: 'TCP' },
      { name: 'mw-admin', containerPort: PORTS.admin, protocol: 'TCP' }
    ],
    readinessProbe: { httpGet: { path: '/ready', port: PORTS.admin }, periodSeconds: 2, failureThreshold: 3 },
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
    // uid 1337: the capture rules leave this uid's traffic alone
    securityContext: { runAsNonRoot: true, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }
  }
  if (native) {
    proxy.restartPolicy = 'Always'
    // The app containers start only after this probe passes: the proxy is ready before the app calls out.
    proxy.startupProbe = { httpGet: { path: '/ready', port: PORTS.admin }, periodSeconds: 1, failureThreshold: 120 }
  }

  const apps = rules !== null ? probes.containers : withProxyEnv(containers, annotations[NO_PROXY_ANNOTATION])
  // the rules are in place before any other container (the native sidecar included) starts
  const init = rules !== null ? [captureInitContainer(opts.image, rules)] : []
  const newSpec: Obj = { ...spec, containers: native ? apps : [proxy, ...apps] }
  if (native || init.length > 0) newSpec.initContainers = [...inits, ...init, ...(native ? [proxy] : [])]
  const newMeta: Obj = {
    ...meta,
    annotations: { ...annotations, [STATUS_ANNOTATION]: 'injected', [CAPTURE_ANNOTATION]: capture, 'meshwork.dev/proxy-version': opts.proxyVersion ?? '0.1.0' },
    labels: { ...labels, 'meshwork.dev/proxy': 'enabled' }
  }
  return { template: { ...template, metadata: newMeta, spec: newSpec }, outcome: 'injected' }
}

/** `--capture env`: every app container gets HTTP_PROXY (values already set are kept) and NO_PROXY. */
function withProxyEnv (containers: readonly Obj[], extra: string | undefined): Obj[] {
  const noProxy = ['127.0.0.1', 'localhost', ...(extra ?? '').split(',').map(h => h.trim()).filter(Boolean)].join(',')
  const proxyEnv = [
    { name: 'HTTP_PROXY', value: `http://127.0.0.1:${PORTS.outbound}` },
    { name: 'http_proxy', value: `http://127.0.0.1:${PORTS.outbound}` },
    { name: 'NO_PROXY', value: noProxy },
    { name: 'no_proxy', value: noProxy }
  ]
  return containers.map(c => {
    const env: Obj[] = c.env ?? []
    const missing = proxyEnv.filter(e => !env.some(x => x.name === e.name))
    return missing.length === 0 ? c : { ...c, env: [...env, ...missing] }
  })
}
