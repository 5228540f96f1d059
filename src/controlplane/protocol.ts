import { z } from 'zod'
import { Name } from '../config/common.ts'

/**
 * Messages of the control plane ↔ proxy protocol (see docs/control-plane.md). Everything a proxy sends
 * is validated here, at the control plane's edge.
 */

const HostPort = z.object({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(1).max(65535) }).strict()

/** First message of a stream: who the proxy is and where it listens. */
export const ProxyHello = z.object({
  id: z.string().min(1).max(253),
  role: z.enum(['sidecar', 'ingress', 'egress']).default('sidecar'),
  service: Name.optional(),
  version: Name.optional(),
  namespace: Name.default('default'),
  /** The sidecar's inbound listener: what callers dial (the endpoint address). */
  inbound: HostPort.optional(),
  /** The local app behind the sidecar (becomes the snapshot's localApp). */
  app: HostPort.optional(),
  gateway: z.object({ name: Name }).strict().optional(),
  /** Version of the snapshot the proxy is serving, if any (informational, after a reconnect). */
  lastVersion: z.string().optional()
}).strict().superRefine((h, ctx) => {
  if (h.role === 'sidecar' && h.service === undefined) ctx.addIssue({ code: 'custom', path: ['service'], message: 'a sidecar must name its service' })
})
export type ProxyHello = z.infer<typeof ProxyHello>
export type ProxyHelloInput = z.input<typeof ProxyHello>

export const AckMessage = z.object({
  streamId: z.string().min(1),
  /**
   * `snapshot` (default), `trust` (a trust bundle installed; version = trust version) or `certificate`
   * (a certificate installed; version = its issuer generation).
   */
  type: z.enum(['snapshot', 'trust', 'certificate']).default('snapshot'),
  version: z.string().min(1),
  ok: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).strict().optional()
}).strict()
export type AckMessage = z.infer<typeof AckMessage>

export const HealthMessage = z.object({
  streamId: z.string().min(1),
  healthy: z.boolean(),
  reason: z.string().max(500).optional()
}).strict()
export type HealthMessage = z.infer<typeof HealthMessage>

export const CertificateRequest = z.object({
  streamId: z.string().min(1),
  csrPem: z.string().min(1).max(16_384)
}).strict()
export type CertificateRequest = z.infer<typeof CertificateRequest>

/** What the control plane writes on a stream, one JSON object per line. */
export type StreamMessage =
  | { type: 'hello', streamId: string, proxyId: string, identity: string | null, trustBundlePem: string, trustVersion: string, issuer: number }
  | { type: 'snapshot', version: string, snapshot: unknown }
  | { type: 'trust', version: string, trustBundlePem: string, reissue: boolean }
  | { type: 'ping' }

export interface IssuedCertificate {
  /** Leaf followed by the intermediate. */
  certPem: string
  trustBundlePem: string
  trustVersion: string
  identity: string
  notAfter: string
  notBefore: string
  /** Root generation of the issuing CA (changes with each root rotation). */
  issuer: number
}

/** `POST /v1/tokens` (operators; `meshwork token create`): a one-time join token for a proxy started by hand. */
export const JoinTokenRequest = z.object({
  role: z.enum(['sidecar', 'ingress', 'egress']).default('sidecar'),
  namespace: Name.default('default'),
  service: Name.optional(),
  version: Name.optional(),
  gateway: Name.optional(),
  /** The proxy id (`meshwork proxy --id`) the token is for; unset = any id of that service. */
  instance: z.string().min(1).max(253).optional(),
  ttlSeconds: z.number().int().min(1).max(86_400).default(300)
}).strict().superRefine((t, ctx) => {
  if (t.role === 'sidecar' && t.service === undefined) ctx.addIssue({ code: 'custom', path: ['service'], message: 'a sidecar token must name its service' })
  if (t.role !== 'sidecar' && t.gateway === undefined) ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'a gateway token must name its Gateway' })
})
export type JoinTokenRequest = z.infer<typeof JoinTokenRequest>
