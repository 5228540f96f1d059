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

function faultInjection (s: FaultInjectionSpec): RuleIssue[] {
  return s.delay !== undefined || s.abort !== undefined ? NONE : [{ path: ['delay'], message: 'needs a delay or an abort' }]
}

/** Every named rule; the schema IR names them (`{ check: 'rule', rule: 'route-rule' }`). */
export const RULES = {
  duration: duration as (value: unknown) => RuleIssue[],
  'route-rule': routeRule as (value: unknown) => RuleIssue[],
  'fault-injection': faultInjection as (value: unknown) => RuleIssue[]
} as const
export type RuleName = keyof typeof RULES
