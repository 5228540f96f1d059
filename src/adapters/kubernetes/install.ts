import { stringify } from 'yaml'
import type { MeshConfig, Resource } from '../../config/index.ts'
import { INJECT_ANNOTATION, type SidecarOptions } from './sidecar.ts'
import type { WebhookTls } from './webhook-tls.ts'

type Obj = Record<string, any>

export const CONTROL_PORT = 15010
export const SERVER_PORT = 8088
export const INJECTOR_PORT = 8443

export interface InstallOptions {
  namespace: string
  /** Image with the meshwork binary; its entrypoint is `meshwork`. */
  image: string
  /** Add the sidecar injector (Deployment, Service, TLS Secret, MutatingWebhookConfiguration). */
  webhook?: boolean
  /** Required with `webhook`: serving certificate of the injector Service and the CA for caBundle. */
  webhookTls?: WebhookTls
  /** Mesh resources put in the control plane's ConfigMap; default: a MeshConfig with the defaults. */
  mesh?: readonly Resource[]
  nativeSidecar?: boolean
  /** How injected pods capture traffic (the injector's `--capture`; default nftables). */
  capture?: 'nftables' | 'env'
  /**
   * Name of a Meshwork `Gateway` (gatewayClassName `meshwork`) to run as the ingress gateway: a
   * `meshwork proxy --role ingress` Deployment behind a LoadBalancer Service (port 80 → 8080).
   */
  ingressGateway?: string
}

export const INGRESS_PORT = 8080

/** In-cluster URL of the control plane. */
export function controlPlaneUrl (namespace: string): string {
  return `http://meshwork-control.${namespace}.svc:${CONTROL_PORT}`
}

/**
 * `meshwork install --kubernetes`: the manifests of the control plane and the management plane (and,
 * with `webhook`, the sidecar injector), in apply order.
 *
 * @example
 * const objects = renderInstall({ namespace: 'meshwork', image: 'ghcr.io/meshwork/meshwork:0.1.0' })
 */
export function renderInstall (opts: InstallOptions): Obj[] {
  const ns = opts.namespace
  const labels = (component: string) => ({ 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': component, 'app.kubernetes.io/part-of': 'meshwork' })
  const meta = (name: string, component: string) => ({ name, namespace: ns, labels: labels(component) })
  const mesh = opts.mesh !== undefined && opts.mesh.length > 0
    ? opts.mesh
    : [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'mesh', namespace: 'default' }, spec: {} } as unknown as MeshConfig]
  const out: Obj[] = [
    // The control plane's own pods are never injected.
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...labels('namespace'), [INJECT_ANNOTATION]: 'disabled' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('meshwork-control', 'control-plane') },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('meshwork-server', 'management-plane') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'meshwork-control', labels: labels('control-plane') },
      rules: [
        { apiGroups: [''], resources: ['pods', 'services', 'endpoints', 'namespaces'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }
      ]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'meshwork-control', labels: labels('control-plane') },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshwork-control' },
      subjects: [{ kind: 'ServiceAccount', name: 'meshwork-control', namespace: ns }]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('meshwork-config', 'control-plane'),
      rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['meshwork-mesh'], verbs: ['get', 'watch', 'update', 'patch'] }]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('meshwork-config', 'control-plane'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'meshwork-config' },
      subjects: [
        { kind: 'ServiceAccount', name: 'meshwork-control', namespace: ns },
        { kind: 'ServiceAccount', name: 'meshwork-server', namespace: ns }
      ]
    },
    meshConfigMap(ns, mesh, labels('control-plane')),
    deployment(ns, 'meshwork-control', labels('control-plane'), {
      serviceAccountName: 'meshwork-control',
      containers: [{
        name: 'control',
        image: opts.image,
        args: ['control', '--host', '0.0.0.0', '--port', String(CONTROL_PORT), '--data-dir', '/var/lib/meshwork', '-f', '/etc/meshwork/mesh.yaml'],
        ports: [{ name: 'http', containerPort: CONTROL_PORT }],
        readinessProbe: { httpGet: { path: '/v1/health', port: CONTROL_PORT }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/v1/health', port: CONTROL_PORT }, periodSeconds: 10, failureThreshold: 6 },
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
        volumeMounts: [{ name: 'mesh', mountPath: '/etc/meshwork', readOnly: true }, { name: 'data', mountPath: '/var/lib/meshwork' }],
        securityContext: securityContext()
      }],
      volumes: [{ name: 'mesh', configMap: { name: 'meshwork-mesh' } }, { name: 'data', emptyDir: {} }]
    }),
    service(ns, 'meshwork-control', labels('control-plane'), CONTROL_PORT),
    deployment(ns, 'meshwork-server', labels('management-plane'), {
      serviceAccountName: 'meshwork-server',
      containers: [{
        name: 'server',
        image: opts.image,
        args: ['server', '--host', '0.0.0.0', '--port', String(SERVER_PORT), '--control-plane', controlPlaneUrl(ns), '--data-dir', '/var/lib/meshwork'],
        ports: [{ name: 'http', containerPort: SERVER_PORT }],
        readinessProbe: { tcpSocket: { port: SERVER_PORT }, periodSeconds: 5 },
        resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '1Gi' } },
        volumeMounts: [{ name: 'data', mountPath: '/var/lib/meshwork' }],
        securityContext: securityContext()
      }],
      // The benchmark store (SQLite) lives here; mount a PersistentVolumeClaim to keep it across restarts.
      volumes: [{ name: 'data', emptyDir: {} }]
    }),
    service(ns, 'meshwork-server', labels('management-plane'), SERVER_PORT)
  ]
  if (opts.webhook === true) out.push(...injector(opts, labels('injector')))
  if (opts.ingressGateway !== undefined) out.push(...ingress(opts, opts.ingressGateway, labels('ingress-gateway')))
  return out
}

function ingress (opts: InstallOptions, gateway: string, labels: Record<string, string>): Obj[] {
  const ns = opts.namespace
  return [
    deployment(ns, 'meshwork-ingress', labels, {
      containers: [{
        name: 'proxy',
        image: opts.image,
        args: ['proxy', '--control-plane', controlPlaneUrl(ns), '--id', '$(POD_NAME)', '--role', 'ingress', '--gateway', gateway, '--namespace', '$(POD_NAMESPACE)', '--listen', `0.0.0.0:${INGRESS_PORT}`, '--admin', '0.0.0.0:15000'],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }
        ],
        ports: [{ name: 'http', containerPort: INGRESS_PORT }, { name: 'mw-admin', containerPort: 15000 }],
        readinessProbe: { httpGet: { path: '/ready', port: 15000 }, periodSeconds: 2 },
        resources: { requests: { cpu: '50m', memory: '48Mi' }, limits: { memory: '512Mi' } },
        securityContext: securityContext()
      }]
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'meshwork-ingress', namespace: ns, labels },
      spec: {
        type: 'LoadBalancer',
        selector: { 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': 'ingress-gateway' },
        ports: [{ name: 'http', port: 80, targetPort: INGRESS_PORT }]
      }
    }
  ]
}

function injector (opts: InstallOptions, labels: Record<string, string>): Obj[] {
  const ns = opts.namespace
  const tls = opts.webhookTls
  if (tls === undefined) throw new TypeError('renderInstall: webhook needs webhookTls (see createWebhookTls)')
  const sidecar: SidecarOptions = { image: opts.image, controlPlane: controlPlaneUrl(ns), nativeSidecar: opts.nativeSidecar, capture: opts.capture }
  const args = ['inject', '--serve', '--host', '0.0.0.0', '--port', String(INJECTOR_PORT), '--tls-cert', '/etc/meshwork/tls/tls.crt', '--tls-key', '/etc/meshwork/tls/tls.key', '--image', sidecar.image, '--control-plane', sidecar.controlPlane]
  if (opts.nativeSidecar === false) args.push('--no-native-sidecar')
  if (opts.capture === 'env') args.push('--capture', 'env')
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshwork-injector', namespace: ns, labels } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'meshwork-injector-tls', namespace: ns, labels },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(tls.certPem), 'tls.key': b64(tls.keyPem), 'ca.crt': b64(tls.caPem) }
    },
    deployment(ns, 'meshwork-injector', labels, {
      serviceAccountName: 'meshwork-injector',
      containers: [{
        name: 'injector',
        image: opts.image,
        args,
        ports: [{ name: 'https', containerPort: INJECTOR_PORT }],
        readinessProbe: { httpGet: { path: '/ready', port: INJECTOR_PORT, scheme: 'HTTPS' }, periodSeconds: 5 },
        resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '256Mi' } },
        volumeMounts: [{ name: 'tls', mountPath: '/etc/meshwork/tls', readOnly: true }],
        securityContext: securityContext()
      }],
      volumes: [{ name: 'tls', secret: { secretName: 'meshwork-injector-tls' } }]
    }),
    { ...service(ns, 'meshwork-injector', labels, INJECTOR_PORT), spec: { selector: { 'app.kubernetes.io/name': 'meshwork', 'app.kubernetes.io/component': 'injector' }, ports: [{ name: 'https', port: 443, targetPort: INJECTOR_PORT }] } },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'meshwork-sidecar-injector', labels },
      webhooks: [{
        name: 'sidecar-injector.meshwork.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        // A broken injector must not stop pods from starting: they start without the sidecar.
        failurePolicy: 'Ignore',
        timeoutSeconds: 10,
        reinvocationPolicy: 'Never',
        clientConfig: { service: { name: 'meshwork-injector', namespace: ns, path: '/inject', port: 443 }, caBundle: b64(tls.caPem) },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
        // Namespaces opt in with the label meshwork.dev/inject=enabled; pods opt out with =disabled.
        namespaceSelector: { matchLabels: { [INJECT_ANNOTATION]: 'enabled' } },
        objectSelector: { matchExpressions: [{ key: INJECT_ANNOTATION, operator: 'NotIn', values: ['disabled'] }] }
      }]
    }
  ]
}

function meshConfigMap (ns: string, mesh: readonly Resource[], labels: Record<string, string>): Obj {
  const text = mesh.map(r => stringify(r, { aliasDuplicateObjects: false })).join('---\n')
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'meshwork-mesh', namespace: ns, labels }, data: { 'mesh.yaml': text } }
}

function deployment (ns: string, name: string, labels: Record<string, string>, podSpec: Obj): Obj {
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'], 'app.kubernetes.io/component': labels['app.kubernetes.io/component'] }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations: { [INJECT_ANNOTATION]: 'disabled' } },
        spec: { ...podSpec, securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 } }
      }
    }
  }
}

function service (ns: string, name: string, labels: Record<string, string>, port: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels },
    spec: {
      selector: { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'], 'app.kubernetes.io/component': labels['app.kubernetes.io/component'] },
      ports: [{ name: 'http', port, targetPort: port }]
    }
  }
}

function securityContext (): Obj {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }
}

function b64 (s: string): string {
  return Buffer.from(s).toString('base64')
}
