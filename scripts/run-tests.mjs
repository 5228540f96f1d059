#!/usr/bin/env node
// Node 20's test runner takes no globs: find the *.test.ts files under the given folders and run them.
// Usage: node scripts/run-tests.mjs [--pattern SUBSTR] [dir|file ...]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
let pattern = null
const roots = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--pattern') pattern = args[++i]
  else roots.push(args[i])
}
if (roots.length === 0) roots.push('src', 'test')

function walk (p, out) {
  let st
  try { st = statSync(p) } catch { return }
  if (st.isFile()) { if (p.endsWith('.test.ts')) out.push(p); return }
  for (const name of readdirSync(p)) {
    if (name === 'node_modules' || name === 'dist') continue
    walk(join(p, name), out)
  }
}
const files = []
for (const r of roots) walk(r, files)
const selected = files.filter(f => pattern === null || f.includes(pattern)).sort()
if (selected.length === 0) {
  console.error('run-tests: no test files found')
  process.exit(1)
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000', ...selected], { stdio: 'inherit' })
process.exit(r.status ?? 1)
