import { z } from 'zod'
import { AuthorizationPolicy } from './authorization-policy.ts'
import { DestinationPolicy } from './destination-policy.ts'
import { FaultInjection } from './fault-injection.ts'
import { Gateway } from './gateway.ts'
import { GRPCRoute } from './grpc-route.ts'
import { HTTPRoute } from './http-route.ts'
import { MeshConfig } from './mesh-config.ts'
import { RateLimitPolicy } from './rate-limit-policy.ts'
import { ReferenceGrant } from './reference-grant.ts'
import { Workload } from './workload.ts'

/** One schema per kind; the CLI, the control plane, the API and the UI editor all use this table. */
export const SCHEMAS = {
  Workload,
  HTTPRoute,
  GRPCRoute,
  Gateway,
  DestinationPolicy,
  MeshConfig,
  AuthorizationPolicy,
  FaultInjection,
  RateLimitPolicy,
  ReferenceGrant
} as const
export type Kind = keyof typeof SCHEMAS
export const KINDS = Object.keys(SCHEMAS) as Kind[]

export const Resource = z.discriminatedUnion('kind', [
  Workload, HTTPRoute, GRPCRoute, Gateway, DestinationPolicy, MeshConfig, AuthorizationPolicy, FaultInjection, RateLimitPolicy, ReferenceGrant
])
export type Resource = z.infer<typeof Resource>
export type ResourceOf<K extends Kind> = Extract<Resource, { kind: K }>

/** `Kind/namespace/name`, unique within a mesh. */
export function resourceKey (r: { kind: string, metadata: { name: string, namespace?: string } }): string {
  return `${r.kind}/${r.metadata.namespace ?? 'default'}/${r.metadata.name}`
}
