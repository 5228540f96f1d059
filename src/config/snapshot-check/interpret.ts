/**
 * Validate a value against a schema IR (`schema-ir.ts`) and apply its defaults, without zod, returning
 * what `schema.safeParse` would: the same output value, or the same issues (code, path, message) in the
 * same order. The IR is compiled once into one closure per node.
 *
 * Mirrors zod 4's parse (node_modules/zod/v4/core/schemas.js, checks.js, locales/en.js): a node parses its
 * type, then runs its checks unless an earlier issue aborted (issues with `continue: true` do not abort:
 * size, format and custom checks, unrecognized keys); length checks run even then, unless an issue is
 * explicitly fatal (`continue: false`: a non-integer, an over-long array cut short). `snapshot-check.test.ts`
 * holds the two to the same answers with generated and mutated snapshots.
 *
 * @example const check = compileSchema(SNAPSHOT_SCHEMA); const r = check(raw) // { ok, value } | { ok: false, issues }
 */
import { RULES } from '../rules.ts'
import type { CheckIR, Json, NodeIR, SchemaIR } from './schema-ir.ts'

export interface Issue {
  code: string
  path: PropertyKey[]
  message: string
  /** As zod: true = later checks still run; undefined = aborts them; false = aborts length checks too. */
  continue?: boolean
}

interface Payload { value: unknown, issues: Issue[] }

type Run = (p: Payload) => Payload

interface Compiled { run: Run }

interface Check {
  /** Length checks carry zod's default `when`: they run on anything with a length, unless explicitly aborted. */
  whenHasLength: boolean
  apply (p: Payload): void
  /** For the array size cap (zod `capSize`): the check's maximum, if it is a `max_length`. */
  maximum?: number
  minLength?: boolean
}

export type CheckResult = { ok: true, value: unknown } | { ok: false, issues: Issue[] }

// ---- zod's English messages (locales/en.js) ----

function parsedType (data: unknown): string {
  const t = typeof data
  if (t === 'number') return Number.isNaN(data) ? 'nan' : 'number'
  if (t === 'object') {
    if (data === null) return 'null'
    if (Array.isArray(data)) return 'array'
    const o = data as { constructor?: { name?: string } }
    if (Object.getPrototypeOf(o) !== Object.prototype && 'constructor' in o && o.constructor) return o.constructor.name as string
  }
  return t
}

function typeName (type: string, input?: unknown): string {
  if (type === 'number' && typeof input === 'number' && !Number.isFinite(input)) return String(input)
  return type === 'nan' ? 'NaN' : type
}

function invalidType (expected: string, input: unknown, cont?: boolean): Issue {
  const issue: Issue = { code: 'invalid_type', path: [], message: `Invalid input: expected ${typeName(expected)}, received ${typeName(parsedType(input), input)}` }
  if (cont !== undefined) issue.continue = cont
  return issue
}

function stringifyPrimitive (v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return `"${v}"`
  return `${v as string}`
}

function invalidValue (values: readonly unknown[]): Issue {
  const message = values.length === 1
    ? `Invalid input: expected ${stringifyPrimitive(values[0])}`
    : `Invalid option: expected one of ${values.map(stringifyPrimitive).join('|')}`
  return { code: 'invalid_value', path: [], message }
}

const SIZING: Record<string, string> = { string: 'characters', array: 'items' }

function sizeMessage (big: boolean, origin: string, bound: number, inclusive: boolean): string {
  const adj = big ? (inclusive ? '<=' : '<') : (inclusive ? '>=' : '>')
  const unit = SIZING[origin]
  const head = big ? 'Too big' : 'Too small'
  return unit !== undefined ? `${head}: expected ${origin} to have ${adj}${bound} ${unit}` : `${head}: expected ${origin} to be ${adj}${bound}`
}

// ---- zod's util ----

function isObject (v: unknown): v is Record<PropertyKey, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isPlainObject (o: unknown): o is Record<PropertyKey, unknown> {
  if (!isObject(o)) return false
  const ctor = (o as { constructor?: unknown }).constructor
  if (ctor === undefined || typeof ctor !== 'function') return true
  const prot = (ctor as { prototype?: unknown }).prototype
  if (!isObject(prot)) return false
  return Object.hasOwn(prot, 'isPrototypeOf')
}

function aborted (issues: Issue[], from = 0): boolean {
  for (let i = from; i < issues.length; i++) if (issues[i].continue !== true) return true
  return false
}

function explicitlyAborted (issues: Issue[]): boolean {
  for (let i = 0; i < issues.length; i++) if (issues[i].continue === false) return true
  return false
}

function codePointLength (s: string): number {
  let count = s.length
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { count--; i++ }
  }
  return count
}

function lengthOrigin (input: unknown): string {
  return Array.isArray(input) ? 'array' : typeof input === 'string' ? 'string' : 'unknown'
}

function hasLength (v: unknown): boolean {
  return v !== null && v !== undefined && (v as { length?: unknown }).length !== undefined
}

/** Prefix child issues with `key` and append them to `into` (zod `prefixIssues`: paths grow at the front). */
function pushPrefixed (into: Issue[], key: PropertyKey, issues: Issue[]): void {
  for (let i = 0; i < issues.length; i++) {
    issues[i].path.unshift(key)
    into.push(issues[i])
  }
}

function cloneJson (v: Json): Json {
  return v === null || typeof v !== 'object' ? v : structuredClone(v)
}

// ---- checks ----

function compileCheck (c: CheckIR): Check {
  if (c.check === 'rule') {
    const rule = RULES[c.rule]
    return {
      whenHasLength: false,
      apply (p) {
        const found = rule(p.value)
        for (let i = 0; i < found.length; i++) p.issues.push({ code: 'custom', path: [...found[i].path], message: found[i].message, continue: true })
      }
    }
  }
  const cont = c.abort !== true
  const own = c.message
  switch (c.check) {
    case 'min_length': {
      const min = c.minimum
      return {
        whenHasLength: true,
        minLength: true,
        apply (p) {
          const input = p.value as string | unknown[]
          const units = input.length
          const length = typeof input === 'string' && units >= min && units < min * 2 ? codePointLength(input) : units
          if (length >= min) return
          const origin = lengthOrigin(input)
          p.issues.push({ code: 'too_small', path: [], message: own ?? sizeMessage(false, origin, min, true), continue: cont })
        }
      }
    }
    case 'max_length': {
      const max = c.maximum
      return {
        whenHasLength: true,
        maximum: max,
        apply (p) {
          const input = p.value as string | unknown[]
          const units = input.length
          const length = typeof input === 'string' && units > max ? codePointLength(input) : units
          if (length <= max) return
          const origin = lengthOrigin(input)
          p.issues.push({ code: 'too_big', path: [], message: own ?? sizeMessage(true, origin, max, true), continue: cont })
        }
      }
    }
    case 'regex': {
      const re = new RegExp(c.source, c.flags)
      return {
        whenHasLength: false,
        apply (p) {
          re.lastIndex = 0
          if (re.test(p.value as string)) return
          p.issues.push({ code: 'invalid_format', path: [], message: own ?? `Invalid string: must match pattern ${re.toString()}`, continue: cont })
        }
      }
    }
    case 'starts_with': {
      const prefix = c.prefix
      return {
        whenHasLength: false,
        apply (p) {
          if ((p.value as string).startsWith(prefix)) return
          p.issues.push({ code: 'invalid_format', path: [], message: own ?? `Invalid string: must start with "${prefix}"`, continue: cont })
        }
      }
    }
    case 'safeint':
      return {
        whenHasLength: false,
        apply (p) {
          const input = p.value as number
          if (!Number.isInteger(input)) {
            const issue = invalidType('int', input, false)
            if (own !== undefined) issue.message = own
            p.issues.push(issue)
            return
          }
          if (!Number.isSafeInteger(input)) {
            const big = input > 0
            const bound = big ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER
            p.issues.push({ code: big ? 'too_big' : 'too_small', path: [], message: own ?? sizeMessage(big, 'int', bound, true), continue: cont })
          }
        }
      }
    case 'greater_than': {
      const { value, inclusive } = c
      return {
        whenHasLength: false,
        apply (p) {
          const v = p.value as number
          if (inclusive ? v >= value : v > value) return
          p.issues.push({ code: 'too_small', path: [], message: own ?? sizeMessage(false, 'number', value, inclusive), continue: cont })
        }
      }
    }
    case 'less_than': {
      const { value, inclusive } = c
      return {
        whenHasLength: false,
        apply (p) {
          const v = p.value as number
          if (inclusive ? v <= value : v < value) return
          p.issues.push({ code: 'too_big', path: [], message: own ?? sizeMessage(true, 'number', value, inclusive), continue: cont })
        }
      }
    }
  }
}

/** zod `runChecks`: after the type parse, in order; see the module comment for when a check is skipped. */
function runChecks (p: Payload, checks: Check[]): Payload {
  let isAborted = aborted(p.issues)
  for (let i = 0; i < checks.length; i++) {
    const ch = checks[i]
    if (ch.whenHasLength) {
      if (explicitlyAborted(p.issues) || !hasLength(p.value)) continue
    } else if (isAborted) continue
    const before = p.issues.length
    ch.apply(p)
    if (p.issues.length !== before && !isAborted) isAborted = aborted(p.issues, before)
  }
  return p
}

function withChecks (parse: Run, checks: Check[]): Run {
  if (checks.length === 0) return parse
  return p => runChecks(parse(p), checks)
}

/**
 * zod `capSize`: an array longer than a leading `max` is reported as too big at once, with its elements
 * left unparsed and the issue made fatal for the checks after it.
 */
function capArraySize (parse: Run, checks: Check[]): Run {
  const caps: Check[] = []
  for (const ch of checks) {
    if (ch.maximum === undefined && ch.minLength !== true) break
    if (ch.maximum !== undefined) caps.push(ch)
  }
  if (caps.length === 0) return parse
  const cap = Math.min(...caps.map(c => c.maximum as number))
  return p => {
    const n = Array.isArray(p.value) ? p.value.length : -1
    if (n > cap) {
      for (const ch of caps) {
        if (n > (ch.maximum as number)) {
          const start = p.issues.length
          ch.apply(p)
          p.issues[start].continue = false
          return p
        }
      }
    }
    return parse(p)
  }
}

// ---- nodes ----

const NUMERIC_KEY = /^-?\d+(?:\.\d+)?$/
const TAB_OR_NEWLINE = /[\t\n\r]/g

/** Compile a schema IR into a checker. Throws on an IR of another format version. */
export function compileSchema (ir: SchemaIR): (value: unknown) => CheckResult {
  if (ir.format !== 1) throw new Error(`schema IR format ${String(ir.format)} is not supported`)
  const defs = new Map<string, Compiled>()
  const compileRef = (name: string): Compiled => {
    let c = defs.get(name)
    if (c === undefined) {
      const def = ir.defs[name]
      if (def === undefined) throw new Error(`schema IR: unknown ref "${name}"`)
      c = compile(def)
      defs.set(name, c)
    }
    return c
  }

  const compile = (n: NodeIR): Compiled => {
    if ('ref' in n) return compileRef(n.ref)
    const checks = (n.checks ?? []).map(compileCheck)
    switch (n.type) {
      case 'string':
        return {
          run: withChecks(p => {
            if (typeof p.value !== 'string') p.issues.push(invalidType('string', p.value))
            return p
          }, checks)
        }
      case 'url': {
        const cont = n.abort !== true
        const format: Check = {
          whenHasLength: false,
          apply (p) {
            try {
              const trimmed = (p.value as string).trim()
              if (URL.canParse(trimmed)) {
                p.value = trimmed.replace(TAB_OR_NEWLINE, '')
                return
              }
            } catch {}
            p.issues.push({ code: 'invalid_format', path: [], message: 'Invalid URL', continue: cont })
          }
        }
        return {
          run: withChecks(p => {
            if (typeof p.value !== 'string') p.issues.push(invalidType('string', p.value))
            return p
          }, [format, ...checks])
        }
      }
      case 'number':
        return {
          run: withChecks(p => {
            const v = p.value
            if (typeof v !== 'number' || Number.isNaN(v) || !Number.isFinite(v)) p.issues.push(invalidType('number', v))
            return p
          }, checks)
        }
      case 'boolean':
        return {
          run: withChecks(p => {
            if (typeof p.value !== 'boolean') p.issues.push(invalidType('boolean', p.value))
            return p
          }, checks)
        }
      case 'enum':
      case 'literal': {
        const values = n.values
        const set = new Set<unknown>(values)
        return {
          run: withChecks(p => {
            if (!set.has(p.value)) p.issues.push(invalidValue(values))
            return p
          }, checks)
        }
      }
      case 'array': {
        const element = compile(n.element)
        const parse: Run = p => {
          const input = p.value
          if (!Array.isArray(input)) {
            p.issues.push(invalidType('array', input))
            return p
          }
          const out = new Array(input.length)
          for (let i = 0; i < input.length; i++) {
            const r = element.run({ value: input[i], issues: [] })
            if (r.issues.length > 0) pushPrefixed(p.issues, i, r.issues)
            out[i] = r.value
          }
          p.value = out
          return p
        }
        return { run: withChecks(capArraySize(parse, checks), checks) }
      }
      case 'object': {
        const props = n.shape.map(prop => ({ key: prop.key, el: compile(prop.node), optin: prop.optin, optout: prop.optout }))
        const keySet = new Set(n.shape.map(p => p.key))
        const strict = n.unknownKeys === 'strict'
        const parse: Run = p => {
          const input = p.value
          if (!isObject(input)) {
            p.issues.push(invalidType('object', input))
            return p
          }
          const out: Record<string, unknown> = {}
          for (let i = 0; i < props.length; i++) {
            const { key, el, optin, optout } = props[i]
            if (key === '__proto__') continue
            const r = el.run({ value: input[key], issues: [] })
            const present = key in input
            // zod's object parser (the JIT one safeParse uses): how a property's result lands in the output
            if (optin !== undefined && optout === 'optional') {
              if (r.issues.length === 0 || present) {
                if (r.issues.length > 0) pushPrefixed(p.issues, key, r.issues)
                if (optin === 'optional' ? present : r.value !== undefined || present) out[key] = r.value
              }
            } else if (optin === undefined) {
              if (r.issues.length > 0) pushPrefixed(p.issues, key, r.issues)
              if (!present && r.issues.length === 0) {
                p.issues.push({ code: 'invalid_type', path: [key], message: 'Invalid input: expected nonoptional, received undefined' })
              }
              if (present) out[key] = r.value
            } else {
              if (r.issues.length > 0) pushPrefixed(p.issues, key, r.issues)
              if (optin === 'defaulted' || r.value !== undefined || present) out[key] = r.value
            }
          }
          p.value = out
          if (strict) {
            let unrecognized: string[] | undefined
            for (const key in input) {
              if (keySet.has(key)) continue
              unrecognized ??= []
              unrecognized.push(key)
            }
            if (unrecognized !== undefined) {
              const s = unrecognized.length > 1 ? 's' : ''
              p.issues.push({ code: 'unrecognized_keys', path: [], message: `Unrecognized key${s}: ${unrecognized.map(stringifyPrimitive).join(', ')}`, continue: true })
            }
          }
          return p
        }
        return { run: withChecks(parse, checks) }
      }
      case 'record': {
        const keyNode = compile(n.key)
        const valueNode = compile(n.value)
        const parse: Run = p => {
          const input = p.value
          if (!isPlainObject(input)) {
            p.issues.push(invalidType('record', input))
            return p
          }
          const out: Record<PropertyKey, unknown> = {}
          for (const key of Reflect.ownKeys(input)) {
            if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(input, key)) continue
            let k = keyNode.run({ value: key, issues: [] })
            if (typeof key === 'string' && NUMERIC_KEY.test(key) && k.issues.length > 0) {
              const retry = keyNode.run({ value: Number(key), issues: [] })
              if (retry.issues.length === 0) k = retry
            }
            if (k.issues.length > 0) {
              p.issues.push({ code: 'invalid_key', path: [key], message: 'Invalid key in record' })
              continue
            }
            const outKey = k.value as PropertyKey
            if (outKey === '__proto__') continue
            const r = valueNode.run({ value: input[key], issues: [] })
            if (r.issues.length > 0) pushPrefixed(p.issues, key, r.issues)
            out[outKey] = r.value
          }
          p.value = out
          return p
        }
        return { run: withChecks(parse, checks) }
      }
      case 'optional': {
        const inner = compile(n.inner)
        // the generator refuses `.default().optional()`, the one case where zod's optional runs its inner on undefined
        return { run: withChecks(p => (p.value === undefined ? p : inner.run(p)), checks) }
      }
      case 'default': {
        const inner = compile(n.inner)
        const value = n.value
        return {
          run: withChecks(p => {
            if (p.value === undefined) {
              p.value = cloneJson(value)
              return p
            }
            const r = inner.run(p)
            if (r.value === undefined) r.value = cloneJson(value)
            return r
          }, checks)
        }
      }
      case 'union': {
        const options = n.options.map(compile)
        const parse: Run = options.length === 1
          ? options[0].run
          : p => {
            const results: Payload[] = []
            for (let i = 0; i < options.length; i++) {
              const r = options[i].run({ value: p.value, issues: [] })
              if (r.issues.length === 0) return r
              results.push(r)
            }
            const nonaborted = results.filter(r => !aborted(r.issues))
            if (nonaborted.length === 1) return nonaborted[0]
            p.issues.push({ code: 'invalid_union', path: [], message: 'Invalid input' })
            return p
          }
        return { run: withChecks(parse, checks) }
      }
      case 'discriminated_union': {
        const options = n.options.map(compile)
        const byValue = new Map<unknown, Compiled>(n.cases.map(([v, i]) => [v, options[i]]))
        const expected = n.cases.map(([v]) => `'${String(v)}'`).join(' | ')
        const disc = n.discriminator
        const parse: Run = p => {
          const input = p.value
          if (!isObject(input)) {
            p.issues.push(invalidType('object', input))
            return p
          }
          const opt = byValue.get(input[disc])
          if (opt !== undefined) return opt.run(p)
          p.issues.push({ code: 'invalid_union', path: [disc], message: `Invalid discriminator value. Expected ${expected}` })
          return p
        }
        return { run: withChecks(parse, checks) }
      }
    }
  }

  const root = compile(ir.root)
  return (value: unknown): CheckResult => {
    const r = root.run({ value, issues: [] })
    return r.issues.length === 0 ? { ok: true, value: r.value } : { ok: false, issues: r.issues }
  }
}
