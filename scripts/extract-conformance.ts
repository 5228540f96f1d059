/**
 * Extract the Gateway API conformance cases from a kubernetes-sigs/gateway-api checkout (or bare mirror) into
 * conformance/upstream/: the test manifests (copied as they are), the base manifests, and `cases.json` — every
 * HTTPRoute / GRPCRoute / Gateway / mesh test's ShortName, Description, Features, Manifests and the literal
 * `ExpectedResponse` values of its Go file, parsed from the Go source (no Go toolchain needed). Also
 * `features.json`: the feature names, their sets and the conformance profiles' core features.
 *
 * Usage: node --import tsx scripts/extract-conformance.ts --repo <gateway-api git dir> [--ref v1.3.0] [--out conformance]
 *
 * What the parser reads: composite literals (`T{K: v, …}`, `[]T{…}`, `map[K]V{…}`, `&T{…}`), strings (both
 * quotes), numbers, booleans, `nil`, identifiers bound earlier in the same test function (`ns := "…"`,
 * `var ( x = … )`), constants of apis/v1 and pkg/features, `ptr.To(x)` (→ x) and `+` on strings. Anything else
 * is kept as `{ "$expr": "<Go source>" }`, so the runner sees exactly what it could not read.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { repo: { type: 'string' }, ref: { type: 'string', default: 'v1.3.0' }, out: { type: 'string', default: 'conformance' } } })
if (values.repo === undefined) {
  process.stderr.write('usage: extract-conformance.ts --repo <gateway-api git dir> [--ref v1.3.0] [--out conformance]\n')
  process.exit(2)
}
const repo = values.repo
const ref = values.ref
const out = values.out

const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
const show = (path: string): string => git('show', `${ref}:${path}`)
const list = (dir: string): string[] => git('ls-tree', '--name-only', `${ref}`, `${dir}/`).split('\n').filter(Boolean)

// ---------------------------------------------------------------- tokens
type Tok = { t: 'id' | 'str' | 'num' | 'op', v: string, pos: number }

function tokenize (src: string): Tok[] {
  const toks: Tok[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (src.startsWith('//', i)) { const e = src.indexOf('\n', i); i = e === -1 ? src.length : e; continue }
    if (src.startsWith('/*', i)) { i = src.indexOf('*/', i + 2) + 2; continue }
    if (c === '"') {
      let j = i + 1
      let s = ''
      while (src[j] !== '"') {
        if (src[j] === '\\') {
          const n = src[j + 1]
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n
          j += 2
        } else s += src[j++]
      }
      toks.push({ t: 'str', v: s, pos: i })
      i = j + 1
      continue
    }
    if (c === '`') { const e = src.indexOf('`', i + 1); toks.push({ t: 'str', v: src.slice(i + 1, e), pos: i }); i = e + 1; continue }
    if (c === '\'') { const e = src.indexOf('\'', i + 1); toks.push({ t: 'num', v: String(src.charCodeAt(i + 1)), pos: i }); i = e + 1; continue }
    if (/[A-Za-z_]/.test(c)) { const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))![0]; toks.push({ t: 'id', v: m, pos: i }); i += m.length; continue }
    if (/[0-9]/.test(c)) { const m = /^[0-9][0-9a-fA-FxX_.]*/.exec(src.slice(i))![0]; toks.push({ t: 'num', v: m, pos: i }); i += m.length; continue }
    const op = [':=', '...', '&&', '||', '==', '!=', '<=', '>=', '++', '--', '+=', '<-'].find(o => src.startsWith(o, i)) ?? c
    toks.push({ t: 'op', v: op, pos: i })
    i += op.length
  }
  return toks
}

// ---------------------------------------------------------------- expressions
type Json = string | number | boolean | null | Json[] | { [k: string]: Json }
type Env = Map<string, Json>

class Parser {
  i = 0
  constructor (readonly toks: Tok[], readonly src: string, readonly env: Env, readonly consts: Env) {}
  peek (k = 0): Tok | undefined { return this.toks[this.i + k] }
  is (v: string, k = 0): boolean { const t = this.peek(k); return t !== undefined && t.t === 'op' && t.v === v }
  eat (v: string): void { if (!this.is(v)) throw new Error(`expected ${v} at ${this.peek()?.pos}: ${this.src.slice(this.peek()?.pos ?? 0, (this.peek()?.pos ?? 0) + 40)}`); this.i++ }

  /** Skip a balanced (), [] or {} group starting at the current token. */
  skipGroup (): void {
    const open = this.peek()!.v
    const close = open === '(' ? ')' : open === '[' ? ']' : '}'
    let depth = 0
    do {
      const t = this.toks[this.i++]
      if (t.t === 'op' && t.v === open) depth++
      else if (t.t === 'op' && t.v === close) depth--
    } while (depth > 0)
  }

  /** A type expression: `[]T`, `map[K]V`, `*T`, `a.B`, `a.B[T]`. Returns its text. */
  type (): string {
    if (this.is('[')) { this.eat('['); const n = this.is(']') ? '' : this.peek()!.v; while (!this.is(']')) this.i++; this.eat(']'); return `[${n}]${this.type()}` }
    if (this.is('*')) { this.eat('*'); return `*${this.type()}` }
    const t = this.peek()!
    if (t.t === 'id' && t.v === 'map') { this.i++; this.eat('['); const k = this.type(); this.eat(']'); return `map[${k}]${this.type()}` }
    if (t.t === 'id' && t.v === 'func') { this.i++; this.skipGroup(); return 'func' }
    let name = this.toks[this.i++].v
    while (this.is('.')) { this.i++; name += `.${this.toks[this.i++].v}` }
    return name
  }

  expr (): Json {
    let left = this.unary()
    while (this.is('+') || this.is('-') || this.is('*') || this.is('/') || this.is('==') || this.is('&&') || this.is('||')) {
      const op = this.toks[this.i++].v
      const right = this.unary()
      left = op === '+' && typeof left === 'string' && typeof right === 'string' ? left + right : { $expr: `${show1(left)} ${op} ${show1(right)}` }
    }
    return left
  }

  unary (): Json {
    if (this.is('&')) { this.i++; return this.unary() }
    if (this.is('-')) { this.i++; const v = this.unary(); return typeof v === 'number' ? -v : { $expr: `-${show1(v)}` } }
    if (this.is('!')) { this.i++; const v = this.unary(); return typeof v === 'boolean' ? !v : { $expr: `!${show1(v)}` } }
    return this.primary()
  }

  primary (): Json {
    const start = this.i
    const t = this.peek()!
    if (t.t === 'str') { this.i++; return t.v }
    if (t.t === 'num') { this.i++; return Number(t.v.replaceAll('_', '')) }
    if (this.is('(')) { this.eat('('); const v = this.expr(); this.eat(')'); return v }
    if (this.is('{')) return this.composite(null)
    if (this.is('[') || (t.t === 'id' && (t.v === 'map' || t.v === 'func'))) {
      const ty = this.type()
      if (ty === 'func') { this.skipGroup(); return { $expr: 'func literal' } }
      return this.composite(ty)
    }
    if (t.t !== 'id') throw new Error(`unexpected ${t.v} at ${t.pos}`)
    // identifier with selectors, maybe generic instantiation, call or composite literal
    let name = this.toks[this.i++].v
    while (this.is('.') && this.peek(1)?.t === 'id') { this.i++; name += `.${this.toks[this.i++].v}` }
    if (this.is('[') && this.isGenericArgs()) this.skipGroup()
    else if (this.is('[')) { this.skipGroup(); return { $expr: this.text(start, this.i) } } // an index expression
    if (this.is('{') && /^[A-Z]|\.[A-Z]/.test(name)) return this.composite(name)
    if (this.is('(')) {
      this.eat('(')
      const args: Json[] = []
      while (!this.is(')')) { args.push(this.expr()); if (this.is(',')) this.i++ }
      this.eat(')')
      if (name === 'ptr.To' || name === 'new') return args[0] ?? null
      // Conversions: `string(v1.RouteConditionAccepted)`, `v1.SectionName("http")`.
      if (args.length === 1 && /^(string|int|int32|int64|(gateway)?v1(beta1|alpha2)?\.[A-Z]\w*)$/.test(name)) return args[0]
      return { $expr: this.text(start, this.i), $call: name, args }
    }
    if (name === 'true') return true
    if (name === 'false') return false
    if (name === 'nil') return null
    if (this.env.has(name)) return this.env.get(name)!
    const short = name.split('.').pop()!
    if (name.includes('.') && this.consts.has(short)) return this.consts.get(short)!
    return { $ref: name }
  }

  /** `x[int32](…)` vs an index expression `x[0]`: generic args start with a type name. */
  isGenericArgs (): boolean {
    const n = this.peek(1)
    if (n === undefined || n.t !== 'id') return false
    return (this.is(']', 2) && this.is('(', 3)) || (this.is('.', 2) && this.is(']', 4) && this.is('(', 5))
  }

  composite (type: string | null): Json {
    this.eat('{')
    const keyed: Record<string, Json> = {}
    const items: Json[] = []
    let isKeyed = false
    // `[]T{ {…} }` and `map[K]T{ k: {…} }`: elided element types are T.
    const elem = type === null ? null : type.startsWith('[]') ? type.slice(2) : type.startsWith('map[') ? type.slice(type.indexOf(']') + 1) : null
    const value = (): Json => this.is('{') ? this.composite(elem) : this.expr()
    while (!this.is('}')) {
      if (this.peek()!.t === 'id' && this.is(':', 1)) {
        isKeyed = true
        const k = this.toks[this.i].v
        this.i += 2
        keyed[k] = this.expr()
      } else {
        const v = value()
        if (this.is(':')) { this.i++; isKeyed = true; keyed[String(v)] = value() } else items.push(v)
      }
      if (this.is(',')) this.i++
    }
    this.eat('}')
    if (!isKeyed) return items
    return type !== null && !type.startsWith('map[') && !type.startsWith('[]') ? { $type: type.replace(/^\*/, ''), ...keyed } : keyed
  }

  text (from: number, to: number): string {
    const a = this.toks[from].pos
    const last = this.toks[to - 1]
    return this.src.slice(a, last.pos + last.v.length + (last.t === 'str' ? 2 : 0)).replace(/\s+/g, ' ')
  }
}

function show1 (v: Json): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.$expr === 'string') return v.$expr
  return JSON.stringify(v)
}

// ---------------------------------------------------------------- constants (apis/v1, pkg/features)
/** `Name Type = "value"` and `Name = "value"` declarations, plus `XFeature = Feature{Name: Y}` and feature sets. */
function readConsts (files: string[]): { consts: Env, sets: Record<string, string[]> } {
  const consts: Env = new Map()
  const features = new Map<string, string>()
  const sets: Record<string, string[]> = {}
  for (const f of files) {
    const src = show(f)
    for (const m of src.matchAll(/^\s*([A-Z][A-Za-z0-9_]*)\s+(?:[A-Za-z.]+\s+)?=\s+"([^"]*)"/gm)) consts.set(m[1], m[2])
    for (const m of src.matchAll(/^\s*(?:var\s+)?([A-Z][A-Za-z0-9_]*Feature)\s*=\s*Feature\{\s*Name:\s*([A-Za-z0-9_]+)/gm)) features.set(m[1], m[2])
  }
  for (const f of files.filter(f => f.includes('pkg/features/'))) {
    const src = show(f)
    for (const m of src.matchAll(/^\s*(?:var\s+)?([A-Z][A-Za-z0-9_]*Features)\s*=\s*sets\.New\(([^)]*)\)/gm)) {
      sets[m[1]] = m[2].split(',').map(s => s.trim()).filter(Boolean).map(id => String(consts.get(features.get(id) ?? id) ?? id))
    }
  }
  return { consts, sets }
}

// ---------------------------------------------------------------- tests
interface ExtractedTest {
  shortName: string
  description: string
  file: string
  features: string[]
  manifests: string[]
  slow?: boolean
  /** Variable name of the test whose `Test` function this one reuses (`Test: OtherTest.Test`). */
  testOf?: string
  /** `types.NamespacedName` values the test binds (`routeNN`, `gwNN`…), by variable name. */
  names: Record<string, Json>
  /** Every `ExpectedResponse` literal, in source order (lists flattened), with the variable it was bound to. */
  expectedResponses: { binding: string | null, line: number, value: Json }[]
  /** Calls into the suite's `kubernetes.` helpers (status assertions), with their literal arguments. */
  assertions: { call: string, line: number, args: Json[] }[]
}

const EXPECTED = /^(http|grpc|echo)\.ExpectedResponse$/

function extractTest (file: string, src: string, consts: Env): ExtractedTest[] {
  const toks = tokenize(src)
  const lineOf = (pos: number): number => src.slice(0, pos).split('\n').length
  const outTests: ExtractedTest[] = []
  // file-level `var X = suite.ConformanceTest{`
  for (let i = 0; i < toks.length; i++) {
    if (!(toks[i].v === 'suite' && toks[i + 1]?.v === '.' && toks[i + 2]?.v === 'ConformanceTest' && toks[i + 3]?.v === '{' && toks[i - 1]?.v === '=')) continue
    const env: Env = new Map()
    const p = new Parser(toks, src, env, consts)
    p.i = i + 3
    // Parse the struct by hand so that `Test: func…{ body }` is scanned, not evaluated.
    p.eat('{')
    const fields: Record<string, Json> = {}
    let body: [number, number] | null = null
    while (!p.is('}')) {
      const key = toks[p.i].v
      p.i += 2
      if (key === 'Test' && toks[p.i].v !== 'func') {
        // `Test: OtherTest.Test`: the same checks as another test, against other manifests.
        fields.TestOf = String((p.expr() as { $ref: string }).$ref).replace(/\.Test$/, '')
      } else if (key === 'Test') {
        p.i++ // func
        p.skipGroup() // params
        const from = p.i
        p.skipGroup()
        body = [from + 1, p.i - 1]
      } else fields[key] = p.expr()
      if (p.is(',')) p.i++
    }
    const test: ExtractedTest = {
      shortName: String(fields.ShortName),
      description: String(fields.Description ?? ''),
      file,
      features: ((fields.Features ?? []) as Json[]).map(String),
      manifests: ((fields.Manifests ?? []) as Json[]).map(String),
      names: {},
      expectedResponses: [],
      assertions: []
    }
    if (fields.Slow === true) test.slow = true
    if (typeof fields.TestOf === 'string') test.testOf = fields.TestOf
    if (body !== null) scanBody(toks, body, src, env, consts, test, lineOf)
    outTests.push(test)
  }
  return outTests
}

function scanBody (toks: Tok[], [from, to]: [number, number], src: string, env: Env, consts: Env, test: ExtractedTest, lineOf: (pos: number) => number): void {
  const p = new Parser(toks, src, env, consts)
  const collect = (v: Json, binding: string | null, line: number): void => {
    if (Array.isArray(v)) { for (const x of v) collect(x, binding, line); return }
    if (v === null || typeof v !== 'object') return
    if (typeof v.$type === 'string' && EXPECTED.test(v.$type)) { test.expectedResponses.push({ binding, line, value: v }); return }
    if (typeof v.$type === 'string' && v.$type === 'types.NamespacedName' && binding !== null) test.names[binding] = v
    if (typeof v.$call === 'string' && v.$call.startsWith('kubernetes.')) test.assertions.push({ call: v.$call, line, args: (v.args as Json[]).slice(1) })
  }
  let i = from
  while (i < to) {
    const t = toks[i]
    const tryParse = (start: number): { v: Json, end: number } | null => {
      p.i = start
      try { return { v: p.expr(), end: p.i } } catch { return null }
    }
    // `name := expr` / `name = expr` (also inside `var ( … )`)
    // `for _, routeNN := range routes`: routeNN stands for each element ({ $each: [...] }).
    if (t.t === 'id' && toks[i + 1]?.v === ':=' && toks[i + 2]?.v === 'range') {
      const r = tryParse(i + 3)
      if (r !== null) { env.set(t.v, { $each: r.v }); i = r.end; continue }
    }
    if (t.t === 'id' && (toks[i + 1]?.v === ':=' || (toks[i + 1]?.v === '=' && toks[i - 1]?.v !== '.'))) {
      const r = tryParse(i + 2)
      if (r !== null) {
        env.set(t.v, r.v)
        collect(r.v, t.v, lineOf(t.pos))
        i = r.end
        continue
      }
    }
    if (t.v === 'kubernetes' && toks[i + 1]?.v === '.' && toks[i + 3]?.v === '(') {
      const r = tryParse(i)
      if (r !== null && r.v !== null && typeof r.v === 'object' && !Array.isArray(r.v)) {
        test.assertions.push({ call: String(r.v.$call), line: lineOf(t.pos), args: (r.v.args as Json[]).slice(1) })
        i = r.end
        continue
      }
    }
    // a bare ExpectedResponse literal (a call argument, an append…)
    if ((t.v === 'http' || t.v === 'grpc') && toks[i + 2]?.v === 'ExpectedResponse' && toks[i + 3]?.v === '{') {
      const r = tryParse(i)
      if (r !== null) { collect(r.v, null, lineOf(t.pos)); i = r.end; continue }
    }
    i++
  }
}

// ---------------------------------------------------------------- main
const commit = git('rev-parse', `${ref}^{commit}`).trim()
const { consts, sets } = readConsts([
  ...list('apis/v1').filter(f => f.endsWith('_types.go')),
  ...list('pkg/features').filter(f => f.endsWith('.go') && !f.endsWith('_test.go'))
])
const testFiles = list('conformance/tests').filter(f => /\/(httproute|grpcroute|gateway|mesh)-[^/]*\.go$/.test(f))
const tests: ExtractedTest[] = []
const manifests = new Set<string>()
for (const f of testFiles) {
  let found: ExtractedTest[]
  try {
    found = extractTest(f.replace(/^conformance\//, ''), show(f), consts)
  } catch (err) {
    throw new Error(`${f}: ${(err as Error).message}`, { cause: err })
  }
  for (const t of found) {
    tests.push(t)
    for (const m of t.manifests) manifests.add(m)
  }
}
// `Test: OtherTest.Test` → that test's checks (its variable name is its ShortName in every upstream file).
for (const t of tests) {
  const of = t.testOf === undefined ? undefined : tests.find(o => o.shortName === t.testOf)
  if (of === undefined) continue
  t.names = of.names
  t.expectedResponses = of.expectedResponses
  t.assertions = of.assertions
}
tests.sort((a, b) => a.shortName.localeCompare(b.shortName))
const upstream = join(out, 'upstream')
mkdirSync(join(upstream, 'tests'), { recursive: true })
for (const m of [...manifests].sort()) {
  const dest = join(upstream, m)
  mkdirSync(dirname(dest), { recursive: true })
  writeFileSync(dest, show(`conformance/${m}`))
}
for (const base of ['conformance/base/manifests.yaml', 'conformance/mesh/manifests.yaml']) {
  const dest = join(upstream, base.replace(/^conformance\//, ''))
  mkdirSync(dirname(dest), { recursive: true })
  writeFileSync(dest, show(base))
}
writeFileSync(join(upstream, 'LICENSE'), show('LICENSE'))
const unread = tests.reduce((n, t) => n + JSON.stringify(t.expectedResponses).split('"$expr"').length - 1, 0)
writeFileSync(join(upstream, 'cases.json'), JSON.stringify({ source: 'https://github.com/kubernetes-sigs/gateway-api', ref, commit, tests }, null, 1) + '\n')
writeFileSync(join(upstream, 'features.json'), JSON.stringify({ ref, commit, sets }, null, 1) + '\n')
writeFileSync(join(upstream, 'NOTICE'), `Files in this directory (except cases.json and features.json, which scripts/extract-conformance.ts
derives from them) are copied unchanged from the Gateway API project:

  repository: https://github.com/kubernetes-sigs/gateway-api
  tag:        ${ref}
  commit:     ${commit}
  paths:      conformance/tests/*.yaml, conformance/base/manifests.yaml, conformance/mesh/manifests.yaml, LICENSE

cases.json holds the ShortName, Description, Features, Manifests and the literal ExpectedResponse values of
conformance/tests/{httproute,grpcroute,gateway,mesh}-*.go, read from the Go source; features.json the feature
sets of pkg/features. Copyright The Kubernetes Authors, licensed under the Apache License 2.0 (LICENSE).
Regenerate with: node --import tsx scripts/extract-conformance.ts --repo <gateway-api checkout> --ref ${ref}
`)
process.stdout.write(`${tests.length} tests, ${tests.reduce((n, t) => n + t.expectedResponses.length, 0)} expected responses (${unread} values kept as Go source), ${manifests.size} manifests from ${ref} (${commit.slice(0, 12)})\n`)
