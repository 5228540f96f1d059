import { dirname, isAbsolute, resolve } from 'node:path'
import type { LoadedResource } from '../config/load.ts'
import type { ResourceOf } from '../config/resource.ts'

/** One replica of a Workload: an app process and its sidecar. */
export interface PlannedInstance {
  /** `reviews-v2-0` (`reviews-v2-0.team-a` outside the default namespace); the sidecar is `reviews-v2-0-sidecar`. */
  id: string
  service: string
  version: string
  namespace: string
  replica: number
  /** The Workload's port: what callers address (`reviews:9080`); in a pod, also the port the app listens on. */
  port: number
  /** Position of its Workload among the plan's Workloads (spreads replicas over nodes). */
  workloadIndex: number
  /** Executable and arguments; a leading `node` is the Node.js running meshwork. */
  command: string
  args: string[]
  /** Directory of the mesh file unless the Workload says otherwise. */
  cwd: string
  env: Record<string, string>
  readinessPath: string
}

/** One gateway proxy (ingress or egress) serving one Gateway resource. */
export interface PlannedGateway {
  /** `ingress`, `egress`: the Gateway's name. */
  id: string
  name: string
  namespace: string
  role: 'ingress' | 'egress'
  /** Port of the Gateway's first listener (the runtime may bind another one locally). */
  declaredPort: number
}

export interface MeshPlan {
  instances: PlannedInstance[]
  gateways: PlannedGateway[]
}

/**
 * What `meshwork up` must run for these resources: every replica of every Workload, and a gateway
 * proxy per Gateway. Pure: no process is started here.
 *
 * @example
 * const plan = planMesh(await loadResourceFiles(['samples/bookinfo/mesh.yaml']))
 * plan.instances.map(i => i.id) // ['productpage-v1-0', 'details-v1-0', 'reviews-v1-0', …]
 */
export function planMesh (resources: readonly LoadedResource[], nodePath = process.execPath): MeshPlan {
  const instances: PlannedInstance[] = []
  const gateways: PlannedGateway[] = []
  let workloads = 0
  for (const loaded of resources) {
    const r = loaded.resource
    if (r.kind === 'Workload') instances.push(...planWorkload(r, loaded.file, nodePath, workloads++))
    if (r.kind === 'Gateway') {
      gateways.push({
        id: r.metadata.namespace === 'default' ? r.metadata.name : `${r.metadata.name}.${r.metadata.namespace}`,
        name: r.metadata.name,
        namespace: r.metadata.namespace,
        role: r.spec.gatewayClassName === 'meshwork-egress' ? 'egress' : 'ingress',
        declaredPort: r.spec.listeners[0].port
      })
    }
  }
  return { instances, gateways }
}

function planWorkload (w: ResourceOf<'Workload'>, file: string, nodePath: string, workloadIndex: number): PlannedInstance[] {
  const base = file.startsWith('<') ? process.cwd() : dirname(resolve(file))
  const cwd = w.spec.cwd === undefined ? base : isAbsolute(w.spec.cwd) ? w.spec.cwd : resolve(base, w.spec.cwd)
  const [first, ...args] = w.spec.command
  const command = first === 'node' ? nodePath : first
  const out: PlannedInstance[] = []
  for (let i = 0; i < w.spec.replicas; i++) {
    out.push({
      // Unique across namespaces: `details-v1-0`, `details-v1-0.team-a` (the default namespace keeps the short id).
      id: `${w.spec.service}-${w.spec.version}-${i}${w.metadata.namespace === 'default' ? '' : `.${w.metadata.namespace}`}`,
      service: w.spec.service,
      version: w.spec.version,
      namespace: w.metadata.namespace,
      replica: i,
      port: w.spec.port,
      workloadIndex,
      command,
      args,
      cwd,
      env: { ...w.spec.env },
      readinessPath: w.spec.readinessPath
    })
  }
  return out
}
