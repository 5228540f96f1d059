/**
 * Tests only: fast-check arbitraries of values shaped by a schema IR — mostly valid documents (optional
 * and defaulted keys left out at random, strings drawn from their patterns), and the same documents with
 * one node replaced, removed or given an unknown key. The equivalence tests feed both to zod and to the
 * interpreter.
 */
import fc from 'fast-check'
import type { CheckIR, NodeIR, SchemaIR } from './schema-ir.ts'

type Arb = fc.Arbitrary<unknown>

function find<K extends CheckIR['check']> (checks: CheckIR[] | undefined, k: K): Extract<CheckIR, { check: K }> | undefined {
  return checks?.find(c => c.check === k) as Extract<CheckIR, { check: K }> | undefined
}

/** An arbitrary of (mostly) valid values of `ir`; arrays are kept short. */
export function validArbitrary (ir: SchemaIR, maxItems = 2): Arb {
  const memo = new Map<string, Arb>()
  const arb = (n: NodeIR): Arb => {
    if ('ref' in n) {
      let a = memo.get(n.ref)
      if (a === undefined) {
        a = arb(ir.defs[n.ref])
        memo.set(n.ref, a)
      }
      return a
    }
    switch (n.type) {
      case 'string': {
        const min = find(n.checks, 'min_length')?.minimum ?? 0
        const max = find(n.checks, 'max_length')?.maximum ?? 12
        const re = find(n.checks, 'regex')
        const prefix = find(n.checks, 'starts_with')?.prefix
        if (re !== undefined) {
          return fc.stringMatching(new RegExp(re.source, re.flags), { size: 'xsmall' })
            .filter(s => [...s].length >= min && [...s].length <= max)
        }
        const s = fc.string({ minLength: Math.max(0, min - (prefix?.length ?? 0)), maxLength: Math.min(max, 12) })
        return prefix !== undefined ? s.map(x => prefix + x) : s
      }
      case 'url':
        return fc.webUrl()
      case 'number': {
        const gt = find(n.checks, 'greater_than')
        const lt = find(n.checks, 'less_than')
        const min = gt?.value ?? -1e6
        const max = lt?.value ?? 1e6
        if (find(n.checks, 'safeint') !== undefined) return fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
        return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
      }
      case 'boolean': return fc.boolean()
      case 'enum': case 'literal': return fc.constantFrom(...n.values)
      case 'array': {
        const min = find(n.checks, 'min_length')?.minimum ?? 0
        const max = find(n.checks, 'max_length')?.maximum ?? maxItems
        return fc.array(arb(n.element), { minLength: min, maxLength: Math.max(min, Math.min(max, maxItems)) })
      }
      case 'object': {
        const model: Record<string, Arb> = {}
        const required: string[] = []
        for (const p of n.shape) {
          model[p.key] = arb(p.node)
          if (p.optin === undefined) required.push(p.key)
        }
        return fc.record(model, { requiredKeys: required as never[] })
      }
      case 'record': return fc.dictionary(fc.string({ maxLength: 6 }), arb(n.value), { maxKeys: 2 })
      case 'optional': case 'default': return arb(n.inner)
      case 'union': case 'discriminated_union': return fc.oneof(...n.options.map(arb))
    }
  }
  return arb(ir.root)
}

/** Every path to a node of `value` (objects and arrays walked), the root included. */
function paths (value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at)
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out))
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out)
  return out
}

type Edit = { kind: 'replace', value: unknown } | { kind: 'delete' } | { kind: 'unknown-key', key: string, value: unknown }

const strangeValue: Arb = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5, 70000, 2 ** 60, '', ' ', '/', '*', 'x'.repeat(70), [], {}, [[]], 'GET', '1s', 'v1', 'h2'),
  fc.anything({ maxDepth: 1 })
)

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: strangeValue.map(value => ({ kind: 'replace' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', 'type', 'name', '__proto__', 'constructor'), strangeValue).map(([key, value]) => ({ kind: 'unknown-key' as const, key, value })) }
)

function apply (doc: unknown, path: (string | number)[], e: Edit): unknown {
  const copy = structuredClone(doc)
  if (path.length === 0) return e.kind === 'replace' ? e.value : copy
  let o = copy as Record<string | number, unknown>
  for (let i = 0; i < path.length - 1; i++) o = o[path[i]] as Record<string | number, unknown>
  const last = path[path.length - 1]
  if (e.kind === 'replace') o[last] = e.value
  else if (e.kind === 'delete') {
    if (Array.isArray(o)) o.splice(last as number, 1)
    else delete o[last]
  } else {
    const target = o[last]
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, e.key, { value: e.value, enumerable: true, configurable: true, writable: true })
    else o[last] = e.value
  }
  return copy
}

/** Documents of `base` with one to three edits at random paths. */
export function mutatedArbitrary (base: Arb): Arb {
  return base.chain(doc => {
    const all = paths(doc)
    const one = fc.tuple(fc.constantFrom(...all), edit)
    return fc.array(one, { minLength: 1, maxLength: 3 }).map(edits => {
      let d = doc
      for (const [p, e] of edits) {
        try { d = apply(d, p, e) } catch { /* an earlier edit removed the path */ }
      }
      return d
    })
  })
}
