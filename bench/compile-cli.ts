/**
 * The Meshwork CLI compiled to plain JavaScript (esbuild, one chunk per command, packages external), as the
 * `meshwork` launcher runs `dist/`. Benchmarks that measure proxy processes run this build: through the tsx
 * loader a proxy would also carry tsx's loader thread (a second V8 isolate, ~35 MB RSS, with its own heap
 * growth), which is not what ships.
 *
 * @example
 * const main = compileCli('soak-cli')   // → <repo>/test-artifacts/soak-cli/main.js
 */
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..')

export function compileCli (name: string): string {
  const out = join(ROOT, 'test-artifacts', name)
  rmSync(out, { recursive: true, force: true })
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [join(ROOT, 'src/cli/main.ts'), '--bundle', '--splitting', '--platform=node', '--format=esm',
    '--packages=external', '--target=node20', `--outdir=${out}`, '--log-level=warning'], { stdio: 'inherit' })
  return join(out, 'main.js')
}
