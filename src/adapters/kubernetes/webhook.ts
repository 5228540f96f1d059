import { AdmissionReviewInvalidError } from '../../errors.ts'
import { type SidecarOptions, injectPodTemplate } from './sidecar.ts'

type Obj = Record<string, any>

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1'
  kind: 'AdmissionReview'
  response: { uid: string, allowed: true, patchType?: 'JSONPatch', patch?: string, warnings?: string[] }
}

/**
 * The mutating webhook: an `admission.k8s.io/v1` AdmissionReview for a Pod CREATE → a review response
 * whose JSONPatch (RFC 6902, base64) adds the sidecar. Pods that opt out or already have the sidecar are
 * allowed without a patch. The webhook never refuses a pod (failurePolicy Ignore semantics).
 * Throws {@link AdmissionReviewInvalidError} when the body is not an AdmissionReview with a request uid.
 *
 * @example
 * const res = handleAdmissionReview(JSON.parse(body), { image, controlPlane })
 */
export function handleAdmissionReview (review: unknown, opts: SidecarOptions): AdmissionReviewResponse {
  const r = review as Obj
  if (typeof r !== 'object' || r === null || r.kind !== 'AdmissionReview' || typeof r.request?.uid !== 'string') {
    throw new AdmissionReviewInvalidError('expected an admission.k8s.io/v1 AdmissionReview with request.uid')
  }
  const req: Obj = r.request
  const base: AdmissionReviewResponse = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: req.uid, allowed: true } }
  const pod: Obj | undefined = req.object
  if (req.kind?.kind !== 'Pod' || req.operation !== 'CREATE' || typeof pod !== 'object' || pod === null) return base
  try {
    const name = String(pod.metadata?.name ?? pod.metadata?.generateName ?? 'pod')
    const { template, outcome } = injectPodTemplate({ metadata: pod.metadata ?? {}, spec: pod.spec ?? {} }, opts, { name })
    if (outcome !== 'injected') return base
    const patch = podPatch(pod, template as { metadata: Obj, spec: Obj })
    return { ...base, response: { ...base.response, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } }
  } catch (err) {
    // A pod the injector cannot read is admitted unchanged, with the reason shown to the user by kubectl.
    return { ...base, response: { ...base.response, warnings: [`meshwork: sidecar not injected: ${(err as Error).message}`] } }
  }
}

/**
 * JSONPatch from the original pod to the injected one. Whole members are written with `add` (which
 * replaces an existing member, RFC 6902 §4.1), so the patch is correct whatever the pod already had.
 */
export function podPatch (pod: Obj, injected: { metadata: Obj, spec: Obj }): Obj[] {
  const ops: Obj[] = []
  if (pod.metadata === undefined) ops.push({ op: 'add', path: '/metadata', value: {} })
  ops.push({ op: 'add', path: '/metadata/annotations', value: injected.metadata.annotations })
  ops.push({ op: 'add', path: '/metadata/labels', value: injected.metadata.labels })
  ops.push({ op: 'add', path: '/spec/containers', value: injected.spec.containers })
  if (injected.spec.initContainers !== undefined) ops.push({ op: 'add', path: '/spec/initContainers', value: injected.spec.initContainers })
  return ops
}
