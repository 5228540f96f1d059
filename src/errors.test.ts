import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import * as errors from './errors.ts'

test('every error code has an entry in docs/errors.md and codes are unique', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const seen = new Map<string, string>()
  for (const [name, Cls] of Object.entries(errors)) {
    if (typeof Cls !== 'function' || !(Cls.prototype instanceof Error || Cls === errors.MeshError)) continue
    const e = name === 'ConfigInvalidError' || name === 'ConfigConflictError'
      ? new (Cls as any)([])
      : name === 'FaultAbortError' ? new (Cls as any)('x', 503) : new (Cls as any)('x')
    assert.ok(doc.includes(`\`${e.code}\``), `${e.code} (${name}) is missing from docs/errors.md`)
    assert.ok(!seen.has(e.code), `${e.code} is used by ${name} and ${seen.get(e.code)}`)
    seen.set(e.code, name)
    assert.equal(e.name, name)
  }
  assert.ok(seen.size >= 15)
})
