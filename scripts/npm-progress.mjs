#!/usr/bin/env node
// Progress for the `./meshwork` launcher's first-run `npm ci` (issue 19: it sat silent for a minute or
// more). Reads `npm ci --loglevel=info` output on stdin and writes short lines to stderr: packages
// downloaded so far (the first one at once, then at most every 2 s), each install script as it starts,
// a heartbeat every 5 s while nothing else is said, and npm's own warnings, errors and summary.
// Node built-ins only: it runs before node_modules exists.
//
// Usage: npm ci --loglevel=info 2>&1 | node scripts/npm-progress.mjs [expected-packages]
import { createInterface } from 'node:readline'

const expected = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : null
const started = Date.now()
let downloaded = 0
let lastSaid = 0
let lastCount = 0

const seconds = () => `${Math.round((Date.now() - started) / 1000)} s`
const say = line => {
  process.stderr.write(`meshwork: npm ci: ${line}\n`)
  lastSaid = Date.now()
}
const count = () => `${downloaded}${expected !== null ? ` of up to ${expected}` : ''} packages downloaded`

const heartbeat = setInterval(() => {
  if (Date.now() - lastSaid >= 5000) say(`still working, ${count()} (${seconds()})`)
}, 1000)

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', line => {
  if (/^npm http fetch GET \d+ \S+\.tgz/.test(line)) {
    downloaded++
    if (lastCount === 0 || Date.now() - lastSaid >= 2000) {
      lastCount = downloaded
      say(`${count()} (${seconds()})`)
    }
    return
  }
  // `npm info run <pkg>@<version> <event> <path> <command>`; its result line has `{ code… }` for a path
  const script = /^npm info run (\S+) (preinstall|install|postinstall|prepare) (?!\{)\S+ /.exec(line)
  if (script !== null) {
    say(`running the ${script[2]} script of ${script[1]} (${seconds()})`)
    return
  }
  // npm's chatter at this log level: http, timing, verbose and info lines (the ones above excepted)
  if (/^npm (http|timing|verb|info|sill) /.test(line)) return
  if (line.trim() === '') return
  // npm's summary ("added 312 packages in 41s"): the last count comes first
  if (/^(added|removed|changed|up to date) /.test(line)) flushCount()
  process.stderr.write(`${line}\n`)
  lastSaid = Date.now()
})
function flushCount () {
  if (downloaded === lastCount) return
  lastCount = downloaded
  say(`${count()} (${seconds()})`)
}
rl.on('close', () => {
  clearInterval(heartbeat)
  flushCount()
})
