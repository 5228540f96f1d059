import type { AuthorizationPolicy } from '../../config/authorization-policy.ts'

export interface AuthzRequest {
  /** Peer SPIFFE ID from mTLS, or undefined for a plaintext / unauthenticated caller. */
  identity: string | undefined
  /** Request path; a query string (`?…`) is ignored for matching. */
  path: string
  /** Upper-case method. */
  method: string
}

export interface AuthzDecision {
  allowed: boolean
  /** `namespace/name` of the policy that decided (the DENY that matched, or the ALLOW that matched). */
  policy?: string
}

export type Authorizer = (req: AuthzRequest) => AuthzDecision

// --- compiled form -------------------------------------------------------------------------------
// String patterns (Istio): "*" = any non-empty value, "abc*" = prefix, "*abc" = suffix, else exact.
const EXACT = 0
const PREFIX = 1
const SUFFIX = 2
const ANY = 3
interface Pattern { kind: number, value: string }
/** null = field absent (matches everything); [] never happens (schema arrays compile to null when empty). */
type Patterns = Pattern[] | null
interface Source { identities: Patterns, notIdentities: Patterns }
interface Operation { paths: Patterns, notPaths: Patterns, methods: string[] | null }
interface Rule { from: Source[] | null, to: Operation[] | null }
interface CompiledPolicy { rules: Rule[], decision: AuthzDecision }

// Perf: decisions are shared frozen objects, so a call allocates nothing.
const ALLOW_NO_POLICY: AuthzDecision = Object.freeze({ allowed: true })
const DENY_NO_ALLOW_MATCH: AuthzDecision = Object.freeze({ allowed: false })
const ALLOW_ALL: Authorizer = () => ALLOW_NO_POLICY

/**
 * Compiles the AuthorizationPolicies that target `service` (or its version subset `service-version`) into one
 * decision function, with Istio semantics:
 * 1. any matching DENY policy denies;
 * 2. if no ALLOW policy targets the service, the call is allowed;
 * 3. otherwise one ALLOW policy must match.
 * A policy matches when any of its rules matches (a policy with no rules matches nothing, so an ALLOW policy
 * without rules denies everything). A rule matches when one of its `from` and one of its `to` entries match
 * (absent = any). Within an entry, every present field must match; `not*` fields must not match. An absent
 * identity (no mTLS) matches no `identities` pattern, not even `*`, and does match `notIdentities: ['*']`.
 *
 * Compile once per snapshot; the returned function allocates nothing.
 * @example
 * const authorize = compileAuthorization(snapshot.authorizationPolicies, 'reviews', { version: 'v2' })
 * authorize({ identity: peerSpiffeId(sock), path: '/reviews/1', method: 'GET' }) // { allowed: true, policy: 'default/allow-productpage' }
 */
export function compileAuthorization (policies: readonly AuthorizationPolicy[], service: string, opts: { version?: string, namespace?: string } = {}): Authorizer {
  const subset = opts.version !== undefined ? `${service}-${opts.version}` : undefined
  const deny: CompiledPolicy[] = []
  const allow: CompiledPolicy[] = []
  for (const p of policies) {
    const target = p.spec.targetRef
    if (target.name !== service && target.name !== subset) continue
    if (opts.namespace !== undefined && (target.namespace ?? p.metadata.namespace) !== opts.namespace) continue
    const name = `${p.metadata.namespace}/${p.metadata.name}`
    const action = p.spec.action ?? 'ALLOW'
    const compiled: CompiledPolicy = {
      rules: (p.spec.rules ?? []).map(compileRule),
      decision: Object.freeze({ allowed: action === 'ALLOW', policy: name })
    }
    if (action === 'DENY') deny.push(compiled)
    else allow.push(compiled)
  }
  if (deny.length === 0 && allow.length === 0) return ALLOW_ALL
  const hasAllow = allow.length > 0
  return (req) => {
    const identity = req.identity ?? ''
    const path = req.path
    let pathLen = path.indexOf('?')
    if (pathLen === -1) pathLen = path.length
    const method = req.method
    for (let i = 0; i < deny.length; i++) {
      if (policyMatches(deny[i], identity, path, pathLen, method)) return deny[i].decision
    }
    if (!hasAllow) return ALLOW_NO_POLICY
    for (let i = 0; i < allow.length; i++) {
      if (policyMatches(allow[i], identity, path, pathLen, method)) return allow[i].decision
    }
    return DENY_NO_ALLOW_MATCH
  }
}

function compileRule (r: AuthorizationPolicy['spec']['rules'][number]): Rule {
  return {
    from: r.from === undefined || r.from.length === 0
      ? null
      : r.from.map(f => ({ identities: compilePatterns(f.identities), notIdentities: compilePatterns(f.notIdentities) })),
    to: r.to === undefined || r.to.length === 0
      ? null
      : r.to.map(o => ({
        paths: compilePatterns(o.paths),
        notPaths: compilePatterns(o.notPaths),
        methods: o.methods === undefined || o.methods.length === 0 ? null : [...o.methods]
      }))
  }
}

function compilePatterns (list: readonly string[] | undefined): Patterns {
  if (list === undefined || list.length === 0) return null
  return list.map((s): Pattern => {
    if (s === '*') return { kind: ANY, value: '' }
    if (s.endsWith('*')) return { kind: PREFIX, value: s.slice(0, -1) }
    if (s.startsWith('*')) return { kind: SUFFIX, value: s.slice(1) }
    return { kind: EXACT, value: s }
  })
}

function policyMatches (p: CompiledPolicy, identity: string, path: string, pathLen: number, method: string): boolean {
  const rules = p.rules
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]
    if (r.from !== null && !anySourceMatches(r.from, identity)) continue
    if (r.to !== null && !anyOperationMatches(r.to, path, pathLen, method)) continue
    return true
  }
  return false
}

function anySourceMatches (sources: Source[], identity: string): boolean {
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]
    if (s.identities !== null && !anyPattern(s.identities, identity, identity.length)) continue
    if (s.notIdentities !== null && anyPattern(s.notIdentities, identity, identity.length)) continue
    return true
  }
  return false
}

function anyOperationMatches (ops: Operation[], path: string, pathLen: number, method: string): boolean {
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]
    if (o.methods !== null && !o.methods.includes(method)) continue
    if (o.paths !== null && !anyPattern(o.paths, path, pathLen)) continue
    if (o.notPaths !== null && anyPattern(o.notPaths, path, pathLen)) continue
    return true
  }
  return false
}

/** Does `s.slice(0, len)` match one of the patterns? Compares in place: no substring is made. */
function anyPattern (patterns: Pattern[], s: string, len: number): boolean {
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i]
    const v = p.value
    switch (p.kind) {
      case ANY: if (len > 0) return true; break
      case EXACT: if (len === v.length && s.startsWith(v)) return true; break
      case PREFIX: if (len >= v.length && s.startsWith(v)) return true; break
      case SUFFIX: if (len >= v.length && s.startsWith(v, len - v.length)) return true; break
    }
  }
  return false
}
