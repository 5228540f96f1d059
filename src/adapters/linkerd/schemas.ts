import { z } from 'zod'

/**
 * Linkerd policy CRDs, written from the openAPIV3Schema of the linkerd-crds chart (policy.linkerd.io):
 * no model package is published for them. Strict: unknown keys are rejected, so a misspelt field fails
 * the tests instead of being ignored by the cluster.
 */

const DnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63)
const Group = z.string().max(253).regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
const Kind = z.string().min(1).max(63).regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/)
const RefName = z.string().min(1).max(253)

const ObjectMeta = z.object({
  name: DnsLabel,
  namespace: DnsLabel.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional()
}).strict()

const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({
    key: z.string(),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string()).optional()
  }).strict()).optional()
}).strict()

const TargetRef = z.object({ group: Group.optional(), kind: Kind, name: RefName }).strict()

/** policy.linkerd.io/v1beta3 Server: a port of a set of pods that policies attach to. */
export const LinkerdServer = z.object({
  apiVersion: z.literal('policy.linkerd.io/v1beta3'),
  kind: z.literal('Server'),
  metadata: ObjectMeta,
  spec: z.object({
    podSelector: LabelSelector.optional(),
    externalWorkloadSelector: LabelSelector.optional(),
    port: z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]),
    proxyProtocol: z.enum(['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS']).optional(),
    accessPolicy: z.enum(['deny', 'all-authenticated', 'all-unauthenticated', 'cluster-authenticated', 'cluster-unauthenticated', 'audit']).optional()
  }).strict().refine(s => (s.podSelector === undefined) !== (s.externalWorkloadSelector === undefined), 'exactly one of podSelector, externalWorkloadSelector')
}).strict()

/** policy.linkerd.io/v1alpha1 AuthorizationPolicy. */
export const LinkerdAuthorizationPolicy = z.object({
  apiVersion: z.literal('policy.linkerd.io/v1alpha1'),
  kind: z.literal('AuthorizationPolicy'),
  metadata: ObjectMeta,
  spec: z.object({
    targetRef: TargetRef,
    requiredAuthenticationRefs: z.array(z.object({ group: Group.optional(), kind: Kind, name: RefName, namespace: z.string().max(253).optional() }).strict())
  }).strict()
}).strict()

/** policy.linkerd.io/v1alpha1 MeshTLSAuthentication: client identities (DNS-like, or ServiceAccount refs). */
export const LinkerdMeshTLSAuthentication = z.object({
  apiVersion: z.literal('policy.linkerd.io/v1alpha1'),
  kind: z.literal('MeshTLSAuthentication'),
  metadata: ObjectMeta,
  spec: z.object({
    identities: z.array(z.string().regex(/^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)).optional(),
    identityRefs: z.array(z.object({ group: Group.optional(), kind: Kind, name: RefName.optional(), namespace: z.string().max(253).optional() }).strict()).optional()
  }).strict().refine(s => (s.identities === undefined) !== (s.identityRefs === undefined), 'exactly one of identities, identityRefs')
}).strict()

/** policy.linkerd.io/v1alpha1 HTTPLocalRateLimitPolicy (Linkerd 2.17+). */
export const LinkerdHTTPLocalRateLimitPolicy = z.object({
  apiVersion: z.literal('policy.linkerd.io/v1alpha1'),
  kind: z.literal('HTTPLocalRateLimitPolicy'),
  metadata: ObjectMeta,
  spec: z.object({
    targetRef: TargetRef,
    total: z.object({ requestsPerSecond: z.number().int() }).strict().optional(),
    identity: z.object({ requestsPerSecond: z.number().int() }).strict().optional(),
    overrides: z.array(z.object({
      requestsPerSecond: z.number().int(),
      clientRefs: z.array(z.object({ group: Group.optional(), kind: Kind, namespace: DnsLabel.optional(), name: RefName }).strict())
    }).strict()).optional()
  }).strict()
}).strict()

export const LINKERD_SCHEMAS: Record<string, z.ZodType> = {
  Server: LinkerdServer,
  AuthorizationPolicy: LinkerdAuthorizationPolicy,
  MeshTLSAuthentication: LinkerdMeshTLSAuthentication,
  HTTPLocalRateLimitPolicy: LinkerdHTTPLocalRateLimitPolicy
}
