import { z } from 'zod'
import { ruleCheck } from './rule-check.ts'

export { parseDuration } from './duration.ts'

/** DNS-1123 label, as Kubernetes names. */
export const Name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label: lower case letters, digits and "-", starting and ending with a letter or digit').max(63)

/**
 * The name a reference (backendRef, Service parentRef, policy targetRef) gives a service: a DNS-1123 label. In a
 * compiled snapshot the control plane qualifies a service of another namespace than the proxy's as
 * `<name>.<namespace>` (`details.team-a`), so the schema the proxy checks admits one dot; in a mesh file the
 * namespace is written in `namespace:` and a dotted name is refused (controlplane/conflicts.ts).
 */
export const RefName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, 'must be a DNS-1123 label: lower case letters, digits and "-", starting and ending with a letter or digit').max(127)

export const Metadata = z.object({
  name: Name,
  namespace: Name.default('default'),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional()
}).strict()
export type Metadata = z.infer<typeof Metadata>

/**
 * Gateway API duration ("10s", "500ms", "1m30s"), GEP-2257. Parsed to milliseconds by {@link parseDuration}.
 * @example Duration.parse('1m30s') // '1m30s'
 */
export const Duration = z.string().regex(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/, 'must be a duration such as "250ms", "2s" or "1m30s"')
  .check(ruleCheck<string>('duration'))

/** Reference to a mesh service (or a version subset `service-version`) that a policy applies to. */
export const TargetRef = z.object({
  kind: z.enum(['Service']).default('Service'),
  name: RefName,
  /** Namespace of the target; default: the policy's own. */
  namespace: Name.optional()
}).strict()
export type TargetRef = z.infer<typeof TargetRef>

export const Percentage = z.number().min(0).max(100)

export const HttpMethod = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
