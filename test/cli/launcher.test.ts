// Issue 19: the `./meshwork` launcher's first-run `npm ci` shows progress instead of a silent minute.
// The real launcher and a real `npm ci` (npm's cache, else the registry) in a copy of the launcher's
// layout with a small dependency tree that has an install script (esbuild's); the CLI it then runs is a
// one-line stand-in, since the build is not what this test is about.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

const ROOT = join(import.meta.dirname, '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'meshwork-launcher-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function layout (): void {
  copyFileSync(join(ROOT, 'meshwork'), join(dir, 'meshwork'))
  mkdirSync(join(dir, 'scripts'))
  copyFileSync(join(ROOT, 'scripts', 'npm-progress.mjs'), join(dir, 'scripts', 'npm-progress.mjs'))
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(import.meta.dirname, 'fixtures', 'launcher', f), join(dir, f))
  for (const d of ['src', 'ui/src', 'dist/cli', 'ui/dist']) mkdirSync(join(dir, d), { recursive: true })
  writeFileSync(join(dir, 'ui', 'index.html'), '')
  writeFileSync(join(dir, 'ui', 'styles.css'), '')
  writeFileSync(join(dir, 'dist', 'cli', 'main.js'), 'console.log("cli ran with " + process.argv.slice(2).join(" "))\n')
  writeFileSync(join(dir, 'ui', 'dist', 'index.html'), '')
  // built after the sources: the launcher only installs
  const later = new Date(Date.now() + 60_000)
  utimesSync(join(dir, 'dist', 'cli', 'main.js'), later, later)
  utimesSync(join(dir, 'ui', 'dist', 'index.html'), later, later)
}

test('the first run of ./meshwork reports npm ci progress on stderr, then runs the CLI', async () => {
  layout()
  const child = spawn(join(dir, 'meshwork'), ['--version'], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', c => { stdout += c })
  child.stderr.setEncoding('utf8').on('data', c => { stderr += c })
  const code = await new Promise<number | null>((resolve, reject) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`launcher did not finish:\n${stderr}`)) }, 170_000)
    child.on('exit', c => { clearTimeout(t); resolve(c) })
  })
  assert.equal(code, 0, stderr)
  assert.equal(stdout, 'cli ran with --version\n')
  // the lockfile lists 32 packages, 25 of them esbuild binaries for other platforms
  assert.match(stderr, /^meshwork: installing npm dependencies \(npm ci, up to 32 packages; /)
  // progress while it works: the first download at once, install scripts as they start, the last count
  // just before npm's own summary
  assert.match(stderr, /^meshwork: npm ci: 1 of up to 32 packages downloaded \(\d+ s\)$/m)
  assert.match(stderr, /^meshwork: npm ci: running the postinstall script of esbuild@0\.28\.2 \(\d+ s\)$/m)
  assert.match(stderr, /^meshwork: npm ci: 7 of up to 32 packages downloaded \(\d+ s\)\nadded 7 packages in /m)
  assert.doesNotMatch(stderr, /^npm (http|info|timing) /m, 'npm chatter is summarised, not copied')
  assert.ok(existsSync(join(dir, 'node_modules', 'yaml', 'package.json')))
  assert.ok(existsSync(join(dir, 'node_modules', 'hdr-histogram-js', 'package.json')))

  // the second run installs nothing and says nothing about npm
  const again = spawn(join(dir, 'meshwork'), ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let againErr = ''
  again.stderr.setEncoding('utf8').on('data', c => { againErr += c })
  await new Promise(resolve => again.on('exit', resolve))
  assert.equal(againErr, '')
})
