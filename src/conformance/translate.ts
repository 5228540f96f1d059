/**
 * Upstream conformance manifests → the resources a Meshwork control plane takes. Only what a
 * non-Kubernetes runtime must change is changed; every rule here has an entry in conformance/ADAPTATIONS.md
 * (same id) and is listed in the report when a test used it.
 */
import { parseAllDocuments } from 'yaml'

/** Ids of conformance/ADAPTATIONS.md. */
export type AdaptationId =
  | 'gateway-class' | 'api-version' | 'parent-kind-default' | 'core-group' | 'kubernetes-objects' | 'echo-workloads'
  | 'gateway-address' | 'mesh-client' | 'https-listener'

export const ADAPTATIONS: Record<AdaptationId, string> = {
  'gateway-class': 'gatewayClassName "{GATEWAY_CLASS_NAME}" is written as "meshwork" (the ingress class).',
  'api-version': 'gateway.networking.k8s.io/v1beta1 resources are read as v1 (the same fields; Meshwork accepts v1 only).',
  'parent-kind-default': 'a parentRef without kind gets kind: Gateway, the Gateway API default (Meshwork\'s own default is Service, for GAMMA).',
  'core-group': 'group: "" (the core API group) is dropped from parentRefs and backendRefs: it is what Meshwork assumes.',
  'kubernetes-objects': 'Namespace, Service, Deployment, Secret and ConfigMap objects are not applied: there is no Kubernetes API.',
  'echo-workloads': 'each Deployment of the base manifests runs as a Meshwork Workload of the same name (service = Deployment name, port = Service port) whose app is conformance/echo/echo-server.mjs, reporting what it received as the suite\'s echo-basic does.',
  'gateway-address': 'a Gateway is reached on the host port the runtime allocated to its proxy (one listening socket per Gateway), not on the listener\'s port; the Host header is the one the suite\'s client would send to the listener (127.0.0.1, with :port unless the listener port is 80).',
  'mesh-client': 'mesh cases send their requests from the runner through the outbound listener of the echo-v1 sidecar (HTTP_PROXY, as every app of a loopback mesh does) instead of exec-ing a client in the echo-v1 pod.',
  'https-listener': 'HTTPS listeners name Secrets, which do not exist here; Gateways with them are not started (their tests are unsupported).'
}

const KUBE_KINDS = new Set(['Namespace', 'Service', 'Deployment', 'Secret', 'ConfigMap', 'ServiceAccount', 'Pod'])

export interface Translated {
  /** Gateway API resources, rewritten for Meshwork (Gateways included). */
  resources: Record<string, unknown>[]
  /** Kubernetes objects of the manifests (not applied; the base Deployments become echo Workloads). */
  kubernetes: Record<string, unknown>[]
  used: Set<AdaptationId>
}

type Obj = Record<string, unknown>

/**
 * Parse one upstream manifest file and rewrite it for Meshwork.
 *
 * @example translateManifests(readUpstreamManifest('tests/httproute-matching.yaml')).resources[0].kind // 'HTTPRoute'
 */
export function translateManifests (text: string): Translated {
  const out: Translated = { resources: [], kubernetes: [], used: new Set() }
  for (const doc of parseAllDocuments(text)) {
    const value = doc.toJSON() as Obj | null
    if (value === null || typeof value !== 'object') continue
    const kind = String(value.kind)
    if (KUBE_KINDS.has(kind)) {
      out.used.add('kubernetes-objects')
      out.kubernetes.push(value)
      continue
    }
    if (typeof value.apiVersion === 'string' && value.apiVersion.startsWith('gateway.networking.k8s.io/') && value.apiVersion !== 'gateway.networking.k8s.io/v1') {
      value.apiVersion = 'gateway.networking.k8s.io/v1'
      out.used.add('api-version')
    }
    const spec = (value.spec ?? {}) as Obj
    if (kind === 'Gateway') {
      if (spec.gatewayClassName === '{GATEWAY_CLASS_NAME}') { spec.gatewayClassName = 'meshwork'; out.used.add('gateway-class') }
    }
    if (kind === 'HTTPRoute' || kind === 'GRPCRoute') {
      for (const p of (spec.parentRefs ?? []) as Obj[]) {
        if (p.group === '') { delete p.group; out.used.add('core-group') }
        if (p.kind === undefined && p.group !== '') { p.kind = 'Gateway'; out.used.add('parent-kind-default') }
      }
      for (const rule of (spec.rules ?? []) as Obj[]) {
        for (const b of (rule.backendRefs ?? []) as Obj[]) {
          if (b.group === '') { delete b.group; out.used.add('core-group') }
        }
        for (const f of (rule.filters ?? []) as Obj[]) {
          const mirror = (f.requestMirror as Obj | undefined)?.backendRef as Obj | undefined
          if (mirror?.group === '') { delete mirror.group; out.used.add('core-group') }
        }
      }
    }
    out.resources.push(value)
  }
  return out
}

/** `Kind/namespace/name` of a translated resource (the control plane's delete key). */
export function keyOf (r: Obj): string {
  const m = r.metadata as { name: string, namespace?: string }
  return `${String(r.kind)}/${m.namespace ?? 'default'}/${m.name}`
}
