/**
 * The mesh the conformance cases run against: a real `meshwork up`-style local mesh (control plane, a
 * sidecar + echo app per base Deployment, a gateway proxy per Gateway the selected tests use), started once;
 * each test then applies its routes through the control plane and deletes them afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { type LocalMesh, startLocalMesh } from '../runtime/local-mesh.ts'
import { CONFORMANCE_DIR, readUpstreamManifest } from './cases.ts'
import { type AdaptationId, translateManifests } from './translate.ts'

type Obj = Record<string, unknown>

/** Deployments of the base manifests the HTTP cases use (TLS, gRPC and DNS backends are not started). */
const HTTP_BACKENDS = /^(infra-backend-v[123]|app-backend-v[12]|web-backend)$/

export interface ConformanceMeshOptions {
  dataDir: string
  /** Gateways (translated) the selected tests need, besides those of the base manifests. */
  gateways: Obj[]
  /** Also run the GAMMA echo services (conformance/upstream/mesh/manifests.yaml). */
  meshEcho: boolean
  echo?: NodeJS.WritableStream | null
}

export interface ConformanceMesh {
  mesh: LocalMesh
  used: Set<AdaptationId>
  /** `host:port` of a Gateway's proxy. */
  gatewayPort (name: string): number | undefined
  /** The port of a Gateway's first listener (what the suite's client would dial; adaptation gateway-address). */
  listenerPort (name: string): number | undefined
  /** The app port of an echo instance (its log endpoint), by service. */
  appPorts (service: string): number[]
  /** The outbound listener of the sidecar of `service` (the mesh client). */
  outboundPort (service: string, version: string): number | undefined
  stop (): Promise<void>
}

function echoWorkload (name: string, namespace: string, service: string, version: string, port: number): Obj {
  return {
    apiVersion: 'meshwork.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: { service, version, port, command: ['node', join(CONFORMANCE_DIR, 'echo', 'echo-server.mjs')], env: { NAMESPACE: namespace } }
  }
}

/** Port of the Service named like the Deployment (first port), from the Kubernetes objects of a manifest. */
function servicePort (objects: Obj[], name: string, namespace: string): number {
  const svc = objects.find(o => o.kind === 'Service' && (o.metadata as Obj).name === name && (o.metadata as Obj).namespace === namespace)
  const ports = ((svc?.spec as Obj | undefined)?.ports ?? []) as { port: number }[]
  return ports[0]?.port ?? 8080
}

/** The mesh file: echo Workloads, the Gateways, a MeshConfig. Returned as objects (written as YAML). */
export function conformanceMeshResources (opts: Pick<ConformanceMeshOptions, 'gateways' | 'meshEcho'>): { resources: Obj[], used: Set<AdaptationId> } {
  const base = translateManifests(readUpstreamManifest('base/manifests.yaml'))
  const used = new Set<AdaptationId>([...base.used, 'echo-workloads'])
  const resources: Obj[] = [{ apiVersion: 'meshwork.dev/v1alpha1', kind: 'MeshConfig', metadata: { name: 'mesh' }, spec: { mtls: { mode: 'STRICT' } } }]
  for (const d of base.kubernetes.filter(o => o.kind === 'Deployment')) {
    const m = d.metadata as { name: string, namespace: string }
    if (!HTTP_BACKENDS.test(m.name)) continue
    resources.push(echoWorkload(m.name, m.namespace, m.name, 'v1', servicePort(base.kubernetes, m.name, m.namespace)))
  }
  const gateways = new Map<string, Obj>()
  for (const g of [...base.resources.filter(r => r.kind === 'Gateway'), ...opts.gateways]) {
    const listeners = ((g.spec as Obj).listeners ?? []) as Obj[]
    // Listeners naming Secrets cannot start here (adaptation https-listener).
    if (listeners.some(l => l.protocol !== 'HTTP')) { used.add('https-listener'); continue }
    gateways.set((g.metadata as Obj).name as string, g)
  }
  resources.push(...gateways.values())
  if (opts.meshEcho) {
    const mesh = translateManifests(readUpstreamManifest('mesh/manifests.yaml'))
    for (const d of mesh.kubernetes.filter(o => o.kind === 'Deployment')) {
      const m = d.metadata as { name: string, namespace: string }
      const version = /-(v[0-9]+)$/.exec(m.name)?.[1]
      // The producer side only; the consumer namespace's echo is for MeshConsumerRoute (unsupported).
      if (version === undefined || !m.name.startsWith('echo-') || m.namespace !== 'gateway-conformance-mesh') continue
      resources.push(echoWorkload(m.name, m.namespace, 'echo', version, servicePort(mesh.kubernetes, 'echo', m.namespace)))
    }
  }
  return { resources, used }
}

/**
 * Start the conformance mesh (loopback network, every port chosen by the runtime).
 *
 * @example const cm = await startConformanceMesh({ dataDir, gateways: [], meshEcho: true }); await cm.stop()
 */
export async function startConformanceMesh (opts: ConformanceMeshOptions): Promise<ConformanceMesh> {
  mkdirSync(opts.dataDir, { recursive: true })
  const { resources, used } = conformanceMeshResources(opts)
  const file = join(opts.dataDir, 'conformance-mesh.yaml')
  writeFileSync(file, resources.map(r => stringify(r)).join('---\n'))
  const mesh = await startLocalMesh({
    files: [file], dataDir: join(opts.dataDir, 'mesh'), ingressPort: 0, controlPort: 0, network: 'loopback', echo: opts.echo ?? null, readyTimeoutMs: 90_000
  })
  return {
    mesh,
    used,
    gatewayPort: name => mesh.proxies.find(p => p.role !== 'sidecar' && p.id === name)?.gatewayPort,
    listenerPort: name => {
      const gw = resources.find(r => r.kind === 'Gateway' && (r.metadata as Obj).name === name)
      return ((gw?.spec as Obj | undefined)?.listeners as { port: number }[] | undefined)?.[0]?.port
    },
    appPorts: service => mesh.apps.filter(a => a.service === service).map(a => a.port),
    outboundPort: (service, version) => mesh.apps.find(a => a.service === service && a.version === version)?.sidecar.outboundPort,
    stop: () => mesh.stop()
  }
}
