/**
 * Regenerate src/config/snapshot-check/snapshot-schema.generated.ts from the zod schemas (ProxySnapshot).
 * `--check`: exit 1 when the committed file is stale, write nothing.
 *
 *   npm run gen:snapshot-schema            # node --import tsx scripts/generate-snapshot-schema.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { GENERATED_FILE, renderSnapshotSchemaModule } from '../src/config/snapshot-check/render-module.ts'

const text = renderSnapshotSchemaModule()
const file = fileURLToPath(GENERATED_FILE)
let current = ''
try { current = readFileSync(file, 'utf8') } catch {}
if (process.argv.includes('--check')) {
  if (current !== text) {
    process.stderr.write(`${file} is stale: run npm run gen:snapshot-schema\n`)
    process.exitCode = 1
  }
} else if (current !== text) {
  writeFileSync(file, text)
  process.stdout.write(`wrote ${file} (${text.length} bytes)\n`)
} else {
  process.stdout.write(`${file} is up to date\n`)
}
