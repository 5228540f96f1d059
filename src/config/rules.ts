/**
 * The config rules zod cannot express as a type, as plain functions: one implementation shared by the zod
 * schemas (`ruleCheck` in `rule-check.ts`) and by the zod-free snapshot checker of the proxy
 * (`snapshot-check/`), which refers to them by name from the generated schema IR.
 *
 * A rule gets the value already parsed (defaults applied) and returns the issues it finds, each with a
 * path relative to that value.
 */
import { parseDuration } from './duration.ts'
import type { FaultInjectionSpec } from './fault-injection.ts'
import type { GatewayListener } from './gateway.ts'
import type { GrpcMethodMatch, GrpcRouteRule } from './grpc-route.ts'
import type { RouteRule } from './http-route.ts'

export interface RuleIssue { path: (string | number)[], message: string }

const NONE: RuleIssue[] = []

function duration (s: string): RuleIssue[] {
  return parseDuration(s) >= 0 ? NONE : [{ path: [], message: 'must be a duration' }]
}

function routeRule (rule: RouteRule): RuleIssue[] {
  const issues: RuleIssue[] = []
  const redirect = rule.filters?.some(f => f.type === 'RequestRedirect')
  if (!redirect && rule.backendRefs.length === 0) {
    issues.push({ path: ['backendRefs'], message: 'a rule needs at least one backendRef, or a RequestRedirect filter' })
  }
  if (redirect && rule.backendRefs.length > 0) {
    issues.push({ path: ['filters'], message: 'a rule with a RequestRedirect filter cannot have backendRefs' })
  }
  if (rule.backendRefs.length > 0 && rule.backendRefs.every(b => b.weight === 0)) {
    issues.push({ path: ['backendRefs'], message: 'at least one backendRef needs a weight above 0' })
  }
  return issues
}

/** GRPCMethodMatch validation of the Gateway API CRD (its CEL rules), plus regexes that JavaScript must compile. */
const GRPC_SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/

function grpcMethodMatch (m: GrpcMethodMatch): RuleIssue[] {
  const service = m.service ?? ''
  const method = m.method ?? ''
  if (service === '' && method === '') return [{ path: [], message: 'needs a service, a method or both' }]
  const issues: RuleIssue[] = []
  if (m.type === 'Exact') {
    if (service !== '' && !GRPC_SERVICE.test(service)) issues.push({ path: ['service'], message: 'must be a proto service name such as "bookinfo.stars.v1.Stars"' })
    if (method !== '' && !GRPC_METHOD.test(method)) issues.push({ path: ['method'], message: 'must be a proto method name such as "GetStars"' })
    return issues
  }
  for (const key of ['service', 'method'] as const) {
    const source = m[key]
    if (source === undefined || source === '') continue
    try {
      void new RegExp(`^(?:${source})$`)
    } catch (err) {
      issues.push({ path: [key], message: `invalid regular expression: ${(err as Error).message}` })
    }
  }
  return issues
}

function grpcRouteRule (rule: GrpcRouteRule): RuleIssue[] {
  const issues: RuleIssue[] = []
  if (rule.backendRefs.length === 0) issues.push({ path: ['backendRefs'], message: 'a rule needs at least one backendRef' })
  else if (rule.backendRefs.every(b => b.weight === 0)) issues.push({ path: ['backendRefs'], message: 'at least one backendRef needs a weight above 0' })
  rule.filters?.forEach((f, i) => {
    if (f.type === 'ExtensionRef') issues.push({ path: ['filters', i, 'type'], message: 'Meshwork defines no ExtensionRef filter; use RequestHeaderModifier, ResponseHeaderModifier or RequestMirror' })
  })
  rule.matches.forEach((m, mi) => m.headers?.forEach((h, hi) => {
    if (h.type !== 'RegularExpression') return
    try {
      void new RegExp(`^(?:${h.value})$`)
    } catch (err) {
      issues.push({ path: ['matches', mi, 'headers', hi, 'value'], message: `invalid regular expression: ${(err as Error).message}` })
    }
  }))
  return issues
}

function faultInjection (s: FaultInjectionSpec): RuleIssue[] {
  return s.delay !== undefined || s.abort !== undefined ? NONE : [{ path: ['delay'], message: 'needs a delay or an abort' }]
}

/** An HTTPS listener terminates TLS with a certificate given as PEM files; an HTTP listener has no `tls`. */
function gatewayListener (l: GatewayListener): RuleIssue[] {
  if (l.protocol === 'HTTP') {
    return l.tls === undefined ? NONE : [{ path: ['tls'], message: 'an HTTP listener takes no tls; use protocol: HTTPS to terminate TLS' }]
  }
  if (l.tls === undefined) return [{ path: ['tls'], message: 'an HTTPS listener needs tls: { mode: Terminate, certificateRefs: [{ name, certFile, keyFile }] }' }]
  if (l.tls.mode === 'Passthrough') return [{ path: ['tls', 'mode'], message: 'Passthrough is not supported: the Meshwork gateway terminates TLS (mode: Terminate)' }]
  const refs = l.tls.certificateRefs ?? []
  if (refs.length === 0) return [{ path: ['tls', 'certificateRefs'], message: 'an HTTPS listener needs a certificate: certificateRefs: [{ name, certFile, keyFile }] (PEM files)' }]
  const issues: RuleIssue[] = []
  refs.forEach((r, i) => {
    if (r.certFile === undefined) issues.push({ path: ['tls', 'certificateRefs', i, 'certFile'], message: 'needs certFile: the PEM certificate chain (relative to the mesh file, or absolute)' })
    if (r.keyFile === undefined) issues.push({ path: ['tls', 'certificateRefs', i, 'keyFile'], message: 'needs keyFile: the PEM private key (relative to the mesh file, or absolute)' })
  })
  return issues
}

/** Every named rule; the schema IR names them (`{ check: 'rule', rule: 'route-rule' }`). */
export const RULES = {
  duration: duration as (value: unknown) => RuleIssue[],
  'route-rule': routeRule as (value: unknown) => RuleIssue[],
  'grpc-method-match': grpcMethodMatch as (value: unknown) => RuleIssue[],
  'grpc-route-rule': grpcRouteRule as (value: unknown) => RuleIssue[],
  'fault-injection': faultInjection as (value: unknown) => RuleIssue[],
  'gateway-listener': gatewayListener as (value: unknown) => RuleIssue[]
} as const
export type RuleName = keyof typeof RULES
