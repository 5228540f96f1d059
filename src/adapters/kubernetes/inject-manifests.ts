import { type InjectOutcome, type SidecarOptions, injectPodTemplate } from './sidecar.ts'

type Obj = Record<string, any>

export interface InjectReport { kind: string, name: string, outcome: InjectOutcome | 'not-a-workload' }

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'])

/**
 * `meshwork inject`: add the sidecar to every workload among Kubernetes objects (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job, CronJob, Pod, and the items of a List). Other objects pass through
 * unchanged. Injecting twice changes nothing.
 *
 * @example
 * const { objects, report } = injectManifests(docs, { image: 'meshwork:0.1.0', controlPlane: 'http://meshwork-control.meshwork.svc:15010' })
 */
export function injectManifests (objects: readonly unknown[], opts: SidecarOptions): { objects: unknown[], report: InjectReport[] } {
  const report: InjectReport[] = []
  const out = objects.map(o => injectOne(o, opts, report))
  return { objects: out, report }
}

function injectOne (o: unknown, opts: SidecarOptions, report: InjectReport[]): unknown {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return o
  const obj = o as Obj
  const kind = String(obj.kind ?? '')
  const name = String(obj.metadata?.name ?? '?')
  if (kind === 'List' && Array.isArray(obj.items)) return { ...obj, items: obj.items.map((i: unknown) => injectOne(i, opts, report)) }
  if (TEMPLATE_KINDS.has(kind) && obj.spec?.template !== undefined) {
    const { template, outcome } = injectPodTemplate(obj.spec.template, opts, { name })
    report.push({ kind, name, outcome })
    return outcome === 'injected' ? { ...obj, spec: { ...obj.spec, template } } : obj
  }
  if (kind === 'CronJob' && obj.spec?.jobTemplate?.spec?.template !== undefined) {
    const { template, outcome } = injectPodTemplate(obj.spec.jobTemplate.spec.template, opts, { name })
    report.push({ kind, name, outcome })
    if (outcome !== 'injected') return obj
    return { ...obj, spec: { ...obj.spec, jobTemplate: { ...obj.spec.jobTemplate, spec: { ...obj.spec.jobTemplate.spec, template } } } }
  }
  if (kind === 'Pod' && obj.spec !== undefined) {
    const { template, outcome } = injectPodTemplate({ metadata: obj.metadata, spec: obj.spec }, opts, { name })
    report.push({ kind, name, outcome })
    return outcome === 'injected' ? { ...obj, metadata: template.metadata, spec: template.spec } : obj
  }
  report.push({ kind, name, outcome: 'not-a-workload' })
  return obj
}
