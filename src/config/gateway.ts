import { z } from 'zod'
import { Metadata, Name } from './common.ts'
import { ruleCheck } from './rule-check.ts'

/**
 * A certificate for an HTTPS listener. Gateway API names a Secret; locally Meshwork names PEM files instead:
 * `certFile` (the certificate chain) and `keyFile` (its private key), relative to the mesh file they are written in
 * (resolved when the file is loaded: config/gateway-files.ts) or absolute.
 */
export const CertificateRef = z.object({
  name: z.string(),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional()
}).strict()

/**
 * Which routes may attach to a listener (Gateway API `AllowedRoutes`): by the route's namespace (`Same`, the
 * default: the Gateway's own; `All`; `Selector`: namespaces whose labels match) and by kind (default: the kinds
 * of the listener's protocol, HTTPRoute and GRPCRoute). Applied by the control plane
 * (controlplane/gateway-attachment.ts).
 */
export const AllowedRoutes = z.object({
  namespaces: z.object({
    from: z.enum(['Same', 'All', 'Selector']).default('Same'),
    selector: z.object({
      matchLabels: z.record(z.string(), z.string()).optional(),
      matchExpressions: z.array(z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }).strict()).optional()
    }).strict().optional()
  }).strict().optional(),
  kinds: z.array(z.object({ group: z.string().optional(), kind: z.string().min(1) }).strict()).max(8).optional()
}).strict()
export type AllowedRoutes = z.infer<typeof AllowedRoutes>

/**
 * One listener of a Gateway. `protocol: HTTPS` terminates TLS (`tls.mode: Terminate`, the only mode served) with the
 * certificate of `tls.certificateRefs` and offers ALPN `h2` and `http/1.1`, so gRPC clients reach the gateway over h2
 * with TLS; `protocol: HTTP` serves HTTP/1.1 and h2c (prior knowledge) in cleartext.
 */
export const GatewayListener = z.object({
  name: Name,
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
  hostname: z.string().optional(),
  allowedRoutes: AllowedRoutes.optional(),
  tls: z.object({
    mode: z.enum(['Terminate', 'Passthrough']).default('Terminate'),
    certificateRefs: z.array(CertificateRef).max(8).optional()
  }).strict().optional()
}).strict().check(ruleCheck('gateway-listener'))

/**
 * Gateway API Gateway. `gatewayClassName: meshwork` is the ingress gateway; `meshwork-egress` is the
 * egress gateway (calls leaving the mesh go through it).
 */
export const Gateway = z.object({
  apiVersion: z.literal('gateway.networking.k8s.io/v1'),
  kind: z.literal('Gateway'),
  metadata: Metadata,
  spec: z.object({
    gatewayClassName: z.enum(['meshwork', 'meshwork-egress']).default('meshwork'),
    listeners: z.array(GatewayListener).min(1).max(16)
  }).strict()
}).strict()
export type Gateway = z.infer<typeof Gateway>
export type GatewayListener = z.infer<typeof GatewayListener>
