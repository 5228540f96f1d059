import { z } from 'zod'
import { Metadata, Name } from './common.ts'

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
    listeners: z.array(z.object({
      name: Name,
      port: z.number().int().min(1).max(65535),
      protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
      hostname: z.string().optional(),
      tls: z.object({
        certificateRefs: z.array(z.object({ name: z.string(), certFile: z.string().optional(), keyFile: z.string().optional() }).strict()).optional()
      }).strict().optional()
    }).strict()).min(1).max(16)
  }).strict()
}).strict()
export type Gateway = z.infer<typeof Gateway>
