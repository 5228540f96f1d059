import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { z } from 'zod'
import { ruleCheck } from '../rule-check.ts'
import { schemaToIR } from './from-zod.ts'
import { GENERATED_FILE, renderSnapshotSchemaModule } from './render-module.ts'

test('snapshot-schema.generated.ts is what the zod schemas compile to now (else: npm run gen:snapshot-schema)', () => {
  assert.equal(readFileSync(GENERATED_FILE, 'utf8'), renderSnapshotSchemaModule(), 'stale: run `npm run gen:snapshot-schema` and commit the result')
})

test('zod features the interpreter does not implement fail the generator instead of being skipped', () => {
  const unsupported: z.ZodType[] = [
    z.object({ a: z.string().refine(s => s.length > 1) }),
    z.object({ a: z.date() }),
    z.object({ a: z.string().email() }),
    z.object({ a: z.string().transform(s => s.length) }),
    z.object({ a: z.object({}).loose() }),
    z.string().endsWith('x'),
    z.number().multipleOf(2)
  ]
  for (const s of unsupported) assert.throws(() => schemaToIR(s), (err: Error) => /not supported by the snapshot schema IR/.test(err.message))
})

test('a ruleCheck is compiled to the rule it names; shared sub-schemas to one def', () => {
  const Part = z.object({ x: z.number().int().min(1).max(9) }).strict()
  const ir = schemaToIR(z.object({ a: Part, b: Part, d: z.string().check(ruleCheck<string>('duration')) }), new Map([[Part, 'Part']]))
  assert.deepEqual(ir.defs.Part, { type: 'object', shape: [{ key: 'x', node: { type: 'number', checks: [{ check: 'safeint' }, { check: 'greater_than', value: 1, inclusive: true }, { check: 'less_than', value: 9, inclusive: true }] } }], unknownKeys: 'strict' })
  assert.deepEqual(ir.root, { type: 'object', shape: [{ key: 'a', node: { ref: 'Part' } }, { key: 'b', node: { ref: 'Part' } }, { key: 'd', node: { type: 'string', checks: [{ check: 'rule', rule: 'duration' }] } }], unknownKeys: 'strip' })
})
