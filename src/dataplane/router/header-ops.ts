import type { HeaderModifier } from '../../config/http-route.ts'

/**
 * Header changes compiled from Gateway API `RequestHeaderModifier` / `ResponseHeaderModifier` filters.
 * Names are lower-cased; `set`/`add` are flat `[name0, value0, …]` like the headers they apply to.
 * An empty list is `null` so {@link applyHeaderOps} skips it.
 */
export interface HeaderOps {
  set: string[] | null
  add: string[] | null
  remove: string[] | null
}

/**
 * Compile one or more header modifiers (several filters of the same type are merged in order).
 * Returns `null` when there is nothing to do.
 *
 * @example
 * compileHeaderOps([{ set: [{ name: 'X-Env', value: 'canary' }] }]) // { set: ['x-env', 'canary'], add: null, remove: null }
 */
export function compileHeaderOps (modifiers: HeaderModifier[]): HeaderOps | null {
  const set: string[] = []
  const add: string[] = []
  const remove: string[] = []
  for (const m of modifiers) {
    for (const h of m.set ?? []) set.push(h.name.toLowerCase(), h.value)
    for (const h of m.add ?? []) add.push(h.name.toLowerCase(), h.value)
    for (const n of m.remove ?? []) remove.push(n.toLowerCase())
  }
  if (set.length === 0 && add.length === 0 && remove.length === 0) return null
  return { set: set.length > 0 ? set : null, add: add.length > 0 ? add : null, remove: remove.length > 0 ? remove : null }
}

/**
 * Apply header ops to a flat header array **in place** and return it. Order: `remove`, then `set`
 * (replaces the first occurrence and drops the others, or appends), then `add` (Gateway API: appends
 * `,value` to an existing header, or appends the header; `set-cookie` is always a separate line because
 * its values cannot be comma-joined, RFC 6265 §3). Names in `headers` must be lower-case (the parser
 * normalises them); names in `ops` are lower-cased at compile time.
 *
 * @example
 * applyHeaderOps({ set: ['x-env', 'canary'], add: null, remove: ['x-debug'] }, ['x-debug', '1']) // ['x-env', 'canary']
 */
export function applyHeaderOps (ops: HeaderOps, headers: string[]): string[] {
  if (ops.remove !== null) {
    for (let i = 0; i < ops.remove.length; i++) removeHeader(headers, ops.remove[i])
  }
  if (ops.set !== null) {
    const set = ops.set
    for (let i = 0; i < set.length; i += 2) setHeader(headers, set[i], set[i + 1])
  }
  if (ops.add !== null) {
    const add = ops.add
    for (let i = 0; i < add.length; i += 2) addHeader(headers, add[i], add[i + 1])
  }
  return headers
}

/** Remove every occurrence of `name` (lower-case) in place. */
export function removeHeader (headers: string[], name: string): void {
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] === name) continue
    if (w !== r) { headers[w] = headers[r]; headers[w + 1] = headers[r + 1] }
    w += 2
  }
  headers.length = w
}

/** Replace the value of the first `name` (lower-case), drop later duplicates, or append. */
export function setHeader (headers: string[], name: string, value: string): void {
  let first = -1
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) { first = i; break }
  }
  if (first === -1) { headers.push(name, value); return }
  headers[first + 1] = value
  // Drop duplicates after the first without disturbing the order of the others.
  let w = first + 2
  for (let r = first + 2; r < headers.length; r += 2) {
    if (headers[r] === name) continue
    if (w !== r) { headers[w] = headers[r]; headers[w + 1] = headers[r + 1] }
    w += 2
  }
  headers.length = w
}

/** Append `value` to the last `name` (lower-case) as `old,value`, or append a new header. */
export function addHeader (headers: string[], name: string, value: string): void {
  if (name !== 'set-cookie') {
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      if (headers[i] === name) { headers[i + 1] = headers[i + 1] === '' ? value : `${headers[i + 1]},${value}`; return }
    }
  }
  headers.push(name, value)
}

/** Value of the first `name` (lower-case), or `undefined`. Linear scan: header lists are short. */
export function getHeader (headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return headers[i + 1]
  }
  return undefined
}
