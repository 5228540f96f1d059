/**
 * A named rule of `rules.ts` as a zod check, so the zod schemas and the zod-free snapshot checker run the
 * same function. `ruleNameOf` lets the schema IR generator (`snapshot-check/from-zod.ts`) name the check.
 */
import { z } from 'zod'
import { RULES, type RuleName } from './rules.ts'

const NAMES = new WeakMap<object, RuleName>()

/**
 * @example const Rule = z.object({ … }).check(ruleCheck('route-rule'))
 */
export function ruleCheck<T> (name: RuleName): z.core.$ZodCheck<T> {
  const rule = RULES[name]
  const check = z.superRefine<T>((value, ctx) => {
    const issues = rule(value)
    for (let i = 0; i < issues.length; i++) ctx.addIssue({ code: 'custom', path: issues[i].path, message: issues[i].message })
  })
  NAMES.set(check, name)
  return check as unknown as z.core.$ZodCheck<T>
}

/** The rule a check was made from by `ruleCheck`, if any. */
export function ruleNameOf (check: object): RuleName | undefined {
  return NAMES.get(check)
}
