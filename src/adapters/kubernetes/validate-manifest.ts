import { AuthorizationPolicy as IstioAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy'
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication'
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule'
import { Gateway as IstioGateway } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway'
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService'
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter'
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry'
import { Gateway as ApiGateway } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway'
import { HTTPRoute as ApiHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute'
import { GRPCRoute as ApiGRPCRouteV1alpha2 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/GRPCRoute'
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration'
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { CronJob } from 'kubernetes-models/batch/v1/CronJob'
import { Job } from 'kubernetes-models/batch/v1/Job'
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole'
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding'
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role'
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Pod } from 'kubernetes-models/v1/Pod'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount'
import type { z } from 'zod'
import { CONSUL_SCHEMAS } from '../consul/schemas.ts'
import { LINKERD_SCHEMAS } from '../linkerd/schemas.ts'

interface ModelClass { new (data: any): { validate (): void } }

/**
 * GRPCRoute `gateway.networking.k8s.io/v1` (Gateway API v1.1, where GRPCRoute went GA with the v1alpha2 fields
 * unchanged) checked against the v1alpha2 schema @kubernetes-models/gateway-api 0.5.x ships (its newest release
 * with JSON schemas; 2.x ships compiled validators and needs Node 22): the same object, apiVersion aside.
 */
class ApiGRPCRouteV1 {
  readonly #model: { validate (): void }
  constructor (data: Record<string, unknown>) { this.#model = new ApiGRPCRouteV1alpha2({ ...data, apiVersion: 'gateway.networking.k8s.io/v1alpha2' } as never) }
  validate (): void { this.#model.validate() }
}

/**
 * Published schemas by `apiVersion/kind`: the kubernetes-models packages (Kubernetes OpenAPI, Istio and
 * Gateway API CRDs). Linkerd and Consul publish no model packages: their CRDs are checked with the zod
 * schemas in `../linkerd/schemas.ts` and `../consul/schemas.ts`.
 */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Pod': Pod,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/ReplicaSet': ReplicaSet,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'networking.istio.io/v1beta1/VirtualService': VirtualService,
  'networking.istio.io/v1beta1/DestinationRule': DestinationRule,
  'networking.istio.io/v1beta1/Gateway': IstioGateway,
  'networking.istio.io/v1alpha3/EnvoyFilter': EnvoyFilter,
  'security.istio.io/v1beta1/PeerAuthentication': PeerAuthentication,
  'security.istio.io/v1beta1/AuthorizationPolicy': IstioAuthorizationPolicy,
  'telemetry.istio.io/v1alpha1/Telemetry': Telemetry,
  'gateway.networking.k8s.io/v1/HTTPRoute': ApiHTTPRoute,
  'gateway.networking.k8s.io/v1/GRPCRoute': ApiGRPCRouteV1,
  'gateway.networking.k8s.io/v1/Gateway': ApiGateway
}

const ZOD: Record<string, z.ZodType> = {}
for (const [kind, schema] of Object.entries(LINKERD_SCHEMAS)) ZOD[`policy.linkerd.io/${kind === 'Server' ? 'v1beta3' : 'v1alpha1'}/${kind}`] = schema
for (const [kind, schema] of Object.entries(CONSUL_SCHEMAS)) ZOD[`consul.hashicorp.com/v1alpha1/${kind}`] = schema

/** `apiVersion/kind` pairs {@link validateManifest} knows. */
export function knownManifestKinds (): string[] {
  return [...Object.keys(MODELS), ...Object.keys(ZOD)]
}

/**
 * Check one Kubernetes object against its published schema. Returns the problems (empty when valid);
 * an object of a kind without a schema is a problem too, so nothing passes unchecked.
 *
 * @example
 * validateManifest({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshwork' } }) // []
 */
export function validateManifest (obj: unknown): string[] {
  if (typeof obj !== 'object' || obj === null) return ['not an object']
  const o = obj as { apiVersion?: unknown, kind?: unknown }
  const id = `${String(o.apiVersion)}/${String(o.kind)}`
  const Model = MODELS[id]
  if (Model !== undefined) {
    try {
      new Model(obj).validate()
      return []
    } catch (err) {
      return [(err as Error).message]
    }
  }
  const schema = ZOD[id]
  if (schema === undefined) return [`no published schema known for ${id}`]
  const r = schema.safeParse(obj)
  if (r.success) return []
  return r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`)
}
