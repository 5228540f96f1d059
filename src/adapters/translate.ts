import type { Resource } from '../config/index.ts'
import { toConsul } from './consul/to-consul.ts'
import { fromIstio } from './istio/from-istio.ts'
import { toIstio } from './istio/to-istio.ts'
import { toLinkerd } from './linkerd/to-linkerd.ts'
import type { Mesh, Unsupported } from './unsupported.ts'

export type { Mesh, Unsupported } from './unsupported.ts'
export { fromIstio }

export const MESHES: readonly Mesh[] = ['istio', 'linkerd', 'consul']

/**
 * The one entry the CLI and the UI's Learn view call: Meshwork resources → the target mesh's resources,
 * with every field the mesh cannot express listed in `unsupported` (never dropped silently).
 *
 * @example
 * const { resources, unsupported } = translate(resources, 'linkerd')
 */
export function translate (resources: readonly Resource[], target: Mesh): { resources: object[], unsupported: Unsupported[] } {
  switch (target) {
    case 'istio': return toIstio(resources)
    case 'linkerd': return toLinkerd(resources)
    case 'consul': return toConsul(resources)
    default: throw new TypeError(`unknown mesh ${String(target)}; expected one of ${MESHES.join(', ')}`)
  }
}
