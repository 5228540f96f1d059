/**
 * Compile a zod v4 schema into the schema IR (`schema-ir.ts`) by walking `schema._zod.def`. Used at build
 * time by `scripts/generate-snapshot-schema.ts` and by the staleness test; never by the proxy process.
 * A zod feature the interpreter does not implement throws here, so a schema change that needs one fails
 * the generator (and the staleness test) instead of being checked differently by the proxy.
 *
 * @example const ir = schemaToIR(ProxySnapshot, namesOf(await import('../index.ts')))
 */
import { isDeepStrictEqual } from 'node:util'
import type { z } from 'zod'
import { ruleNameOf } from '../rule-check.ts'
import type { CheckIR, Json, NodeIR, PropIR, SchemaIR } from './schema-ir.ts'

// zod's internals are typed per class; the walk reads them generically.
type Def = Record<string, any>
interface ZodLike { _zod: { def: Def, optin?: string, optout?: string, values?: Set<unknown> } }

class UnsupportedSchemaError extends Error {}

/** Names for shared sub-schemas: every exported zod schema of a module namespace, by instance. */
export function namesOf (...modules: Record<string, unknown>[]): Map<object, string> {
  const names = new Map<object, string>()
  for (const mod of modules) {
    for (const [name, v] of Object.entries(mod)) {
      if (v !== null && typeof v === 'object' && '_zod' in v && !names.has(v)) names.set(v, name)
    }
  }
  return names
}

/**
 * The IR of `schema`. Sub-schemas that occur more than once with the same IR (structurally: zod makes a
 * new instance per `z.number().int().min(1)…`) are written once in `defs`, named after the exported
 * schema (`names`) when there is one.
 */
export function schemaToIR (schema: z.ZodType, names: Map<object, string> = new Map()): SchemaIR {
  const nameOf = new Map<NodeIR, string>()
  const node = (s: ZodLike, path: string): NodeIR => {
    const n = build(s, path)
    const name = names.get(s)
    if (name !== undefined) nameOf.set(n, name)
    return n
  }

  const build = (s: ZodLike, path: string): NodeIR => {
    const d = s._zod.def
    const fail = (what: string): never => { throw new UnsupportedSchemaError(`${path || '<root>'}: ${what} is not supported by the snapshot schema IR`) }
    if (d.error !== undefined) fail('a schema-level error message')
    if (d.coerce === true) fail('coercion')
    const checks = (d.checks as ZodLike[] | undefined)?.map(c => checkIR(c, fail))
    const withChecks = <T extends object>(n: T): T => (checks !== undefined && checks.length > 0 ? { ...n, checks } : n)
    switch (d.type) {
      case 'string':
        if (d.format === 'url') {
          for (const k of ['hostname', 'protocol', 'normalize']) if (k in d) fail(`z.url({ ${k} })`)
          return withChecks({ type: 'url' as const, ...(d.abort === true ? { abort: true } : {}) })
        }
        if (d.format !== undefined) fail(`string format "${d.format}"`)
        return withChecks({ type: 'string' as const })
      case 'number':
        return withChecks({ type: 'number' as const })
      case 'boolean':
        return withChecks({ type: 'boolean' as const })
      case 'enum':
        return withChecks({ type: 'enum' as const, values: enumValues(d.entries) })
      case 'literal':
        for (const v of d.values) if (!['string', 'number', 'boolean'].includes(typeof v) && v !== null) fail(`literal ${String(v)}`)
        return withChecks({ type: 'literal' as const, values: [...d.values] })
      case 'array':
        return withChecks({ type: 'array' as const, element: node(d.element, `${path}[]`) })
      case 'object': {
        let unknownKeys: 'strict' | 'strip' = 'strip'
        if (d.catchall !== undefined) {
          if (d.catchall._zod.def.type !== 'never') fail('a catchall other than never (.strict())')
          unknownKeys = 'strict'
        }
        if (Object.getOwnPropertySymbols(d.shape).length > 0) fail('symbol keys')
        const shape: PropIR[] = Object.keys(d.shape).map(key => {
          const el = d.shape[key] as ZodLike
          const prop: PropIR = { key, node: node(el, path === '' ? key : `${path}.${key}`) }
          const { optin, optout } = el._zod
          if (optin !== undefined) {
            if (optin !== 'optional' && optin !== 'defaulted') fail(`optin "${optin}"`)
            prop.optin = optin as PropIR['optin']
          }
          if (optout !== undefined) {
            if (optout !== 'optional') fail(`optout "${optout}"`)
            prop.optout = 'optional'
          }
          return prop
        })
        return withChecks({ type: 'object' as const, shape, unknownKeys })
      }
      case 'record':
        if (d.mode === 'loose' || d.partial === true) fail('a loose or partial record')
        if (d.keyType._zod.values !== undefined) fail('a record with enumerable keys')
        return withChecks({ type: 'record' as const, key: node(d.keyType, `${path}<key>`), value: node(d.valueType, `${path}{}`) })
      case 'optional':
        if (d.innerType._zod.optin === 'defaulted') fail('.default().optional()')
        return withChecks({ type: 'optional' as const, inner: node(d.innerType, path) })
      case 'default': {
        const value = d.defaultValue as unknown
        if (typeof value === 'function') fail('a default computed by a function')
        const json = JSON.parse(JSON.stringify(value)) as Json
        if (!isDeepStrictEqual(json, value)) fail('a default that is not plain JSON')
        return withChecks({ type: 'default' as const, inner: node(d.innerType, path), value: json })
      }
      case 'union': {
        const options = (d.options as ZodLike[]).map((o, i) => node(o, `${path}|${i}`))
        if (d.discriminator === undefined) {
          if (d.inclusive === false) fail('z.xor')
          return withChecks({ type: 'union' as const, options })
        }
        if (d.unionFallback === true) fail('unionFallback')
        const cases: [string | number | boolean | null, number][] = []
        ;(d.options as ZodLike[]).forEach((o, i) => {
          const od = o._zod.def
          if (od.type !== 'object') fail('a discriminated union option that is not an object')
          const values = (od.shape[d.discriminator] as ZodLike)._zod.values
          if (values === undefined) fail('a discriminator without literal values')
          for (const v of values!) {
            if (v === undefined || typeof v === 'symbol' || typeof v === 'bigint' || typeof v === 'object' && v !== null) fail('a discriminator value that is not a JSON primitive')
            if (cases.some(c => c[0] === v)) fail(`a duplicate discriminator value ${String(v)}`)
            cases.push([v as string | number | boolean | null, i])
          }
        })
        return withChecks({ type: 'discriminated_union' as const, discriminator: d.discriminator, options, cases })
      }
      default:
        return fail(`zod type "${d.type}"`)
    }
  }

  const built = node(schema as unknown as ZodLike, '')
  return share(built, nameOf)
}

/** Small nodes stay inline: a ref would not be shorter. */
const MIN_SHARED_CHARS = 48

function mapChildren (n: NodeIR, f: (c: NodeIR) => NodeIR): NodeIR {
  if ('ref' in n) return n
  switch (n.type) {
    case 'array': return { ...n, element: f(n.element) }
    case 'object': return { ...n, shape: n.shape.map(p => ({ ...p, node: f(p.node) })) }
    case 'record': return { ...n, key: f(n.key), value: f(n.value) }
    case 'optional': case 'default': return { ...n, inner: f(n.inner) }
    case 'union': case 'discriminated_union': return { ...n, options: n.options.map(f) }
    default: return n
  }
}

function share (root: NodeIR, nameOf: Map<NodeIR, string>): SchemaIR {
  const count = new Map<string, number>()
  const firstName = new Map<string, string>()
  const visit = (n: NodeIR): NodeIR => {
    const k = JSON.stringify(n)
    count.set(k, (count.get(k) ?? 0) + 1)
    const name = nameOf.get(n)
    if (name !== undefined && !firstName.has(k)) firstName.set(k, name)
    if ((count.get(k) ?? 0) === 1) mapChildren(n, visit)
    return n
  }
  visit(root)
  const defs: Record<string, NodeIR> = {}
  const refOf = new Map<string, string>()
  const taken = new Set<string>()
  const rewrite = (n: NodeIR): NodeIR => {
    const k = JSON.stringify(n)
    if (n === root || (count.get(k) ?? 0) < 2 || k.length < MIN_SHARED_CHARS) return mapChildren(n, rewrite)
    let ref = refOf.get(k)
    if (ref === undefined) {
      const base = firstName.get(k) ?? ('type' in n ? n.type : 'node')
      ref = base
      for (let i = 2; taken.has(ref); i++) ref = `${base}${i}`
      taken.add(ref)
      refOf.set(k, ref)
      defs[ref] = mapChildren(n, rewrite)
    }
    return { ref }
  }
  const out = rewrite(root)
  return { format: 1, root: out, defs }
}

function enumValues (entries: Record<string, string | number>): (string | number)[] {
  // as zod's util.getEnumValues: a TS numeric enum's reverse mappings are not values
  const numeric = Object.values(entries).filter(v => typeof v === 'number')
  return Object.entries(entries).filter(([k]) => !numeric.includes(+k)).map(([, v]) => v)
}

function checkIR (c: ZodLike, fail: (what: string) => never): CheckIR {
  const d = c._zod.def
  const rule = ruleNameOf(c)
  if (rule !== undefined) return { check: 'rule', rule }
  const extra: { message?: string, abort?: boolean } = {}
  if (d.error !== undefined) {
    const m = d.error({ code: 'custom', input: undefined, path: [] })
    const message = typeof m === 'string' ? m : m?.message
    if (typeof message !== 'string') fail('a check message that depends on the issue')
    extra.message = message
  }
  if (d.abort === true) extra.abort = true
  switch (d.check) {
    case 'min_length': return { check: 'min_length', minimum: d.minimum, ...extra }
    case 'max_length': return { check: 'max_length', maximum: d.maximum, ...extra }
    case 'greater_than': return { check: 'greater_than', value: d.value, inclusive: d.inclusive === true, ...extra }
    case 'less_than': return { check: 'less_than', value: d.value, inclusive: d.inclusive === true, ...extra }
    case 'number_format':
      if (d.format !== 'safeint') fail(`number format "${d.format}"`)
      return { check: 'safeint', ...extra }
    case 'string_format':
      if (d.format === 'regex') return { check: 'regex', source: d.pattern.source, flags: d.pattern.flags, ...extra }
      if (d.format === 'starts_with') return { check: 'starts_with', prefix: d.prefix, ...extra }
      return fail(`string check "${d.format}"`)
    case 'custom':
      return fail('a .refine()/.superRefine() not made with ruleCheck (src/config/rule-check.ts)')
    default:
      return fail(`check "${d.check}"`)
  }
}
