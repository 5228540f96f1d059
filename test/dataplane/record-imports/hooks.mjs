// Resolve hook of register.mjs: appends each resolved URL to the record file.
import { appendFileSync } from 'node:fs'

let out = null

export function initialize (data) {
  out = data.out
}

export async function resolve (specifier, context, next) {
  const r = await next(specifier, context)
  if (out !== null) appendFileSync(out, `${r.url}\n`)
  return r
}
