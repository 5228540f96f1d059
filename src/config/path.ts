/**
 * `spec.rules[0].backendRefs[1].weight` from a zod issue path.
 * @example formatPath(['spec', 'rules', 0, 'backendRefs']) === 'spec.rules[0].backendRefs'
 */
export function formatPath (parts: readonly (string | number | symbol)[]): string {
  let s = ''
  for (const p of parts) {
    if (typeof p === 'number') s += `[${p}]`
    else s += s === '' ? String(p) : `.${String(p)}`
  }
  return s
}
