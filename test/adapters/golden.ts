import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden')

/**
 * Compare `text` with `test/adapters/golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
 * A missing golden file fails (run once with UPDATE_GOLDEN=1 and review the diff).
 */
export function assertGolden (name: string, text: string): void {
  const file = join(DIR, name)
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(DIR, { recursive: true })
    writeFileSync(file, text)
    return
  }
  assert.ok(existsSync(file), `golden file ${name} is missing: run with UPDATE_GOLDEN=1 and review it`)
  assert.equal(text, readFileSync(file, 'utf8'), `output differs from golden/${name} (UPDATE_GOLDEN=1 to accept a deliberate change)`)
}

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')
