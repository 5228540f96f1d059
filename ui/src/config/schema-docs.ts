import { z } from 'zod'
import { KINDS, SCHEMAS } from '../../../src/config/resource.ts'
import type { YamlPath } from './yaml-context.ts'

/**
 * Completion and hover documentation generated from the zod schemas the CLI validates with
 * (src/config): zod v4 turns each kind's schema into a JSON Schema (`z.toJSONSchema`, input side, so
 * defaults count as optional), and this module walks it — keys, required ones, enums, literals,
 * defaults, bounds, patterns and any `.describe()` / `.meta()` text. Nothing here is written by hand,
 * so a field added to a schema shows up in the editor the next build.
 */
export interface SchemaNode {
  type?: string | string[]
  properties?: Record<string, SchemaNode>
  required?: string[]
  additionalProperties?: SchemaNode | boolean
  items?: SchemaNode
  anyOf?: SchemaNode[]
  oneOf?: SchemaNode[]
  allOf?: SchemaNode[]
  enum?: unknown[]
  const?: unknown
  default?: unknown
  description?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  format?: string
  $ref?: string
  $defs?: Record<string, SchemaNode>
}

export interface KeyDoc { key: string, required: boolean, node: SchemaNode }

const cache = new Map<string, SchemaNode | null>()

/** The JSON Schema of a kind (null for an unknown kind). */
export function schemaOf (kind: string | undefined): SchemaNode | null {
  if (kind === undefined || !(KINDS as string[]).includes(kind)) return null
  let s = cache.get(kind)
  if (s === undefined) {
    s = z.toJSONSchema(SCHEMAS[kind as keyof typeof SCHEMAS] as z.ZodType, { io: 'input', unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as SchemaNode
    cache.set(kind, s)
  }
  return s
}

/** The alternatives a node stands for (a union's members, a ref's target). */
function alternatives (root: SchemaNode, n: SchemaNode): SchemaNode[] {
  if (n.$ref !== undefined) {
    const name = n.$ref.replace(/^#\/\$defs\//, '')
    const target = root.$defs?.[name]
    return target === undefined ? [] : alternatives(root, target)
  }
  const list = n.anyOf ?? n.oneOf
  if (list !== undefined) return list.flatMap(x => alternatives(root, x))
  if (n.allOf !== undefined) return n.allOf.flatMap(x => alternatives(root, x))
  return [n]
}

/** The schema of the value at a path of a kind's document (undefined where the schema knows no such path). */
export function nodeAt (kind: string | undefined, path: YamlPath): SchemaNode | undefined {
  const root = schemaOf(kind)
  if (root === null) return undefined
  let here: SchemaNode[] = [root]
  for (const seg of path) {
    const next: SchemaNode[] = []
    for (const n of here.flatMap(x => alternatives(root, x))) {
      if (typeof seg === 'number') { if (n.items !== undefined) next.push(n.items) } else if (n.properties?.[seg] !== undefined) next.push(n.properties[seg])
      else if (typeof n.additionalProperties === 'object') next.push(n.additionalProperties)
    }
    if (next.length === 0) return undefined
    here = next
  }
  return here.length === 1 ? here[0] : { anyOf: here }
}

/** The keys a mapping at this path may have, required ones first. */
export function keysAt (kind: string | undefined, path: YamlPath): KeyDoc[] {
  const root = schemaOf(kind)
  if (root === null) return path.length === 0 ? [{ key: 'kind', required: true, node: { enum: KINDS } }] : []
  const n = nodeAt(kind, path)
  if (n === undefined) return []
  const out = new Map<string, KeyDoc>()
  for (const alt of alternatives(root, n)) {
    for (const [key, node] of Object.entries(alt.properties ?? {})) {
      if (!out.has(key)) out.set(key, { key, required: alt.required?.includes(key) ?? false, node })
    }
  }
  return [...out.values()].sort((a, b) => Number(b.required) - Number(a.required))
}

/** The values a scalar at this path may take, when the schema lists them (enum, literal, boolean). */
export function valuesAt (kind: string | undefined, path: YamlPath): unknown[] {
  if (path.length === 1 && path[0] === 'kind') return KINDS
  const root = schemaOf(kind)
  const n = nodeAt(kind, path)
  if (root === null || n === undefined) return []
  const out: unknown[] = []
  for (const alt of alternatives(root, n)) {
    if (alt.enum !== undefined) out.push(...alt.enum)
    if (alt.const !== undefined) out.push(alt.const)
    if (alt.type === 'boolean') out.push(true, false)
  }
  return [...new Set(out)]
}

/** One line naming the type of a node: `integer 1–65535`, `"Exact" | "PathPrefix"`, `list of object`. */
export function typeOf (root: SchemaNode | null, n: SchemaNode): string {
  const alts = root === null ? [n] : alternatives(root, n)
  return [...new Set(alts.map(a => {
    if (a.const !== undefined) return JSON.stringify(a.const)
    if (a.enum !== undefined) return a.enum.map(v => JSON.stringify(v)).join(' | ')
    if (a.type === 'array') return `list of ${a.items !== undefined ? typeOf(root, a.items) : 'any'}${a.minItems !== undefined || a.maxItems !== undefined ? ` (${a.minItems ?? 0}–${a.maxItems ?? '∞'} items)` : ''}`
    if (a.type === 'object') return a.properties !== undefined ? 'mapping' : 'mapping of string'
    const t = Array.isArray(a.type) ? a.type.join(' | ') : a.type ?? 'any'
    const lo = a.minimum ?? a.exclusiveMinimum
    const range = lo !== undefined || a.maximum !== undefined ? ` ${lo ?? ''}${a.exclusiveMinimum !== undefined ? ' (exclusive)' : ''}–${a.maximum ?? ''}` : ''
    const len = a.maxLength !== undefined ? ` ≤ ${a.maxLength} chars` : ''
    return `${t}${range}${len}`
  }))].join(' | ')
}

/** Hover text of a key: its path, type, whether it is required, its default, pattern and description. */
export function docOf (kind: string | undefined, path: YamlPath): string | null {
  if (path.length === 1 && path[0] === 'kind') return `kind — one of ${KINDS.join(', ')}`
  const root = schemaOf(kind)
  const n = nodeAt(kind, path)
  if (root === null || n === undefined) return null
  const parent = nodeAt(kind, path.slice(0, -1))
  const key = path[path.length - 1]
  const required = parent !== undefined && typeof key === 'string' && alternatives(root, parent).some(a => a.required?.includes(key))
  const alts = alternatives(root, n)
  const lines = [`${kind}: ${path.map(p => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[')}`, `${typeOf(root, n)}${required ? ' — required' : ' — optional'}`]
  const def = n.default ?? alts.find(a => a.default !== undefined)?.default
  if (def !== undefined) lines.push(`default: ${JSON.stringify(def)}`)
  const pattern = alts.find(a => a.pattern !== undefined)?.pattern
  if (pattern !== undefined) lines.push(`pattern: ${pattern}`)
  const keys = alts.flatMap(a => Object.keys(a.properties ?? {}))
  if (keys.length > 0) lines.push(`keys: ${[...new Set(keys)].join(', ')}`)
  const description = n.description ?? alts.find(a => a.description !== undefined)?.description
  if (description !== undefined) lines.push(description)
  return lines.join('\n')
}
