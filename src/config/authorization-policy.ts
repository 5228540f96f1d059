import { z } from 'zod'
import { HttpMethod, Metadata, TargetRef } from './common.ts'

/**
 * Allow or deny calls to a service by source identity, path and method (Istio semantics): any matching
 * DENY refuses; when ALLOW policies exist for the target, a call must match one of them.
 * Strings may end with `*` (prefix) or be `*`.
 */
export const AuthorizationPolicySpec = z.object({
  targetRef: TargetRef,
  action: z.enum(['ALLOW', 'DENY']).default('ALLOW'),
  rules: z.array(z.object({
    from: z.array(z.object({
      /** SPIFFE IDs, e.g. `spiffe://cluster.local/ns/default/sa/productpage`. */
      identities: z.array(z.string().min(1)).optional(),
      notIdentities: z.array(z.string().min(1)).optional()
    }).strict()).optional(),
    to: z.array(z.object({
      paths: z.array(z.string().startsWith('/').or(z.literal('*'))).optional(),
      notPaths: z.array(z.string().startsWith('/')).optional(),
      methods: z.array(HttpMethod).optional()
    }).strict()).optional()
  }).strict()).max(64).default([])
}).strict()
export type AuthorizationPolicySpec = z.infer<typeof AuthorizationPolicySpec>

export const AuthorizationPolicy = z.object({
  apiVersion: z.literal('meshwork.dev/v1alpha1'),
  kind: z.literal('AuthorizationPolicy'),
  metadata: Metadata,
  spec: AuthorizationPolicySpec
}).strict()
export type AuthorizationPolicy = z.infer<typeof AuthorizationPolicy>
