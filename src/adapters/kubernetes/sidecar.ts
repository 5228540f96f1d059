/**
 * The Meshwork sidecar added to a pod template: the same `meshwork proxy` the local runtime starts,
 * registered with the control plane, with the app's outbound calls sent through it by `HTTP_PROXY`.
 *
 *   app container ──HTTP_PROXY──▶ meshwork-proxy outbound 127.0.0.1:15001 ──mTLS──▶ peer inbound :15006 ──▶ peer app
 *
 * Inbound needs no traffic capture: callers' sidecars learn this pod's inbound address ($(POD_IP):15006)
 * from the control plane, where the proxy registers itself.
 */

type Obj = Record<string, any>

export const PROXY_CONTAINER = 'meshwork-proxy'
export const INJECT_ANNOTATION = 'meshwork.dev/inject'
export const STATUS_ANNOTATION = 'meshwork.dev/status'
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
  if (containers.some(c => c.name === PROXY_CONTAINER) || inits.some(c => c.name === PROXY_CONTAINER)) return { template, outcome: 'already-injected' }
  if (containers.length === 0) return { template, outcome: 'no-containers' }

  const labels: Record<string, string> = meta.labels ?? {}
  const service = labels.app ?? labels['app.kubernetes.io/name'] ?? owner.name
  const version = labels.version ?? labels['app.kubernetes.io/version'] ?? 'v1'
  const appPort = Number(meta.annotations?.[APP_PORT_ANNOTATION] ?? containers[0].ports?.[0]?.containerPort ?? 8080)
  const healthPath = meta.annotations?.[HEALTH_PATH_ANNOTATION] ?? '/healthz'
  const native = opts.nativeSidecar ?? true

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
      '--inbound', `$(POD_IP):${PORTS.inbound}`,
      '--outbound', `127.0.0.1:${PORTS.outbound}`,
      '--admin', `0.0.0.0:${PORTS.admin}`,
      '--app', `127.0.0.1:${appPort}`,
      '--app-health-path', healthPath
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
    securityContext: { runAsNonRoot: true, runAsUser: 1337, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }
  }
  if (native) {
    proxy.restartPolicy = 'Always'
    // The app containers start only after this probe passes: the proxy is ready before the app calls out.
    proxy.startupProbe = { httpGet: { path: '/ready', port: PORTS.admin }, periodSeconds: 1, failureThreshold: 120 }
  }

  const extra: string | undefined = meta.annotations?.[NO_PROXY_ANNOTATION]
  const noProxy = ['127.0.0.1', 'localhost', ...(extra ?? '').split(',').map(h => h.trim()).filter(Boolean)].join(',')
  const proxyEnv = [
    { name: 'HTTP_PROXY', value: `http://127.0.0.1:${PORTS.outbound}` },
    { name: 'http_proxy', value: `http://127.0.0.1:${PORTS.outbound}` },
    { name: 'NO_PROXY', value: noProxy },
    { name: 'no_proxy', value: noProxy }
  ]
  const apps = containers.map(c => {
    const env: Obj[] = c.env ?? []
    const missing = proxyEnv.filter(e => !env.some(x => x.name === e.name))
    return missing.length === 0 ? c : { ...c, env: [...env, ...missing] }
  })

  const newSpec: Obj = { ...spec, containers: native ? apps : [proxy, ...apps] }
  if (native) newSpec.initContainers = [...inits, proxy]
  const newMeta: Obj = {
    ...meta,
    annotations: { ...(meta.annotations ?? {}), [STATUS_ANNOTATION]: 'injected', 'meshwork.dev/proxy-version': opts.proxyVersion ?? '0.1.0' },
    labels: { ...labels, 'meshwork.dev/proxy': 'enabled' }
  }
  return { template: { ...template, metadata: newMeta, spec: newSpec }, outcome: 'injected' }
}
