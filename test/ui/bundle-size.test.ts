// Issue 17: the built UI's first load (index.html, its stylesheets, app.js and the chunks app.js imports statically)
// stays under 300 KB gzipped; the other pages load on demand. Measured on ui/dist (npm run build).
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'

const DIST = join(import.meta.dirname, '..', '..', 'ui', 'dist')
const BUDGET = 300 * 1024

/** Static imports of an ES module as esbuild writes them (`import{a}from"./chunks/x.js"`, `import"./x.js"`), not `import("…")`. */
function staticImports (code: string): string[] {
  return [...code.matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+\.js)["']/g)].map(m => m[1])
}

test('the first load of the built UI is under 300 KB gzipped', () => {
  assert.ok(existsSync(join(DIST, 'index.html')), 'ui/dist is built (npm run build)')
  const html = readFileSync(join(DIST, 'index.html'), 'utf8')
  const files = new Set<string>(['index.html'])
  for (const m of html.matchAll(/(?:href|src)="\/([^"]+)"/g)) files.add(m[1])
  const queue = [...files].filter(f => f.endsWith('.js'))
  while (queue.length > 0) {
    const f = queue.shift()!
    for (const imp of staticImports(readFileSync(join(DIST, f), 'utf8'))) {
      const p = normalize(join(dirname(f), imp))
      if (!files.has(p)) { files.add(p); queue.push(p) }
    }
  }
  const sizes = [...files].map(f => {
    const raw = readFileSync(join(DIST, f))
    return { f, raw: raw.length, gz: gzipSync(raw, { level: 9 }).length }
  })
  const total = sizes.reduce((s, x) => s + x.gz, 0)
  const lazy = readdirSync(join(DIST, 'chunks')).filter(f => f.endsWith('.js') && !files.has(`chunks/${f}`))
  const lazyGz = lazy.reduce((s, f) => s + gzipSync(readFileSync(join(DIST, 'chunks', f)), { level: 9 }).length, 0)
  for (const s of sizes) process.stdout.write(`${s.f}: ${(s.raw / 1024).toFixed(1)} KB, ${(s.gz / 1024).toFixed(1)} KB gzipped\n`)
  process.stdout.write(`first load: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB); ${lazy.length} chunks on demand: ${(lazyGz / 1024).toFixed(1)} KB gzipped\n`)
  assert.ok(files.has('app.js') && files.has('styles.css'))
  assert.ok(total < BUDGET, `first load ${total} bytes gzipped`)
})
