/**
 * Schema IR: a serialisable description of a zod schema, generated from `ProxySnapshot` by `from-zod.ts`
 * (`npm run gen:snapshot-schema`) and interpreted by `interpret.ts` without zod. It keeps exactly what
 * zod's parse needs to behave the same: the node kinds, the checks in their order, their custom messages,
 * the optional/default rungs of object properties, and the named rules of `../rules.ts`.
 *
 * Shared sub-schemas (`Name`, `Metadata`, `Duration`…) are written once in `defs` and referred to by name.
 */
import type { RuleName } from '../rules.ts'

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export type CheckIR =
  | { check: 'min_length', minimum: number, message?: string, abort?: boolean }
  | { check: 'max_length', maximum: number, message?: string, abort?: boolean }
  | { check: 'regex', source: string, flags: string, message?: string, abort?: boolean }
  | { check: 'starts_with', prefix: string, message?: string, abort?: boolean }
  /** z.number().int(): an integer within the safe integer range. */
  | { check: 'safeint', message?: string, abort?: boolean }
  | { check: 'greater_than', value: number, inclusive: boolean, message?: string, abort?: boolean }
  | { check: 'less_than', value: number, inclusive: boolean, message?: string, abort?: boolean }
  /** A named rule of `../rules.ts` (zod `ruleCheck`, a superRefine). */
  | { check: 'rule', rule: RuleName }

export interface PropIR {
  key: string
  node: NodeIR
  /** zod's `_zod.optin` / `_zod.optout` of the property's schema: how an absent key is treated. */
  optin?: 'optional' | 'defaulted'
  optout?: 'optional'
}

export type NodeIR =
  | { ref: string }
  | { type: 'string', checks?: CheckIR[] }
  /** z.url(): a string whose own format check runs before `checks`; the value is trimmed. */
  | { type: 'url', abort?: boolean, checks?: CheckIR[] }
  | { type: 'number', checks?: CheckIR[] }
  | { type: 'boolean', checks?: CheckIR[] }
  | { type: 'enum', values: (string | number)[], checks?: CheckIR[] }
  | { type: 'literal', values: (string | number | boolean | null)[], checks?: CheckIR[] }
  | { type: 'array', element: NodeIR, checks?: CheckIR[] }
  /** `unknownKeys`: 'strict' rejects keys not in the shape, 'strip' drops them. */
  | { type: 'object', shape: PropIR[], unknownKeys: 'strict' | 'strip', checks?: CheckIR[] }
  | { type: 'record', key: NodeIR, value: NodeIR, checks?: CheckIR[] }
  | { type: 'optional', inner: NodeIR, checks?: CheckIR[] }
  | { type: 'default', inner: NodeIR, value: Json, checks?: CheckIR[] }
  | { type: 'union', options: NodeIR[], checks?: CheckIR[] }
  /** Options are objects; `cases` maps each discriminator value to its option's index, in zod's order. */
  | { type: 'discriminated_union', discriminator: string, options: NodeIR[], cases: [string | number | boolean | null, number][], checks?: CheckIR[] }

export interface SchemaIR {
  /** Bumped when the IR format changes; the interpreter refuses other versions. */
  format: 1
  root: NodeIR
  defs: Record<string, NodeIR>
}
