// Issue 19: a taken port is MESH_ERR_PORT_IN_USE naming the flag that picks another one, for each
// user-facing port of `meshwork up` and for `meshwork control` / `meshwork server`.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { cleanEnv, cli } from './cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-port-in-use-'))
let taken: Server
let port: string

before(async () => {
  taken = createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  port = String((taken.address() as { port: number }).port)
})
after(async () => {
  await new Promise(resolve => taken.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

const cases: Array<{ name: string, args: () => string[], flag: string }> = [
  { name: 'meshwork up --control-port', args: () => ['up', '--control-port', port, '--ui-port', '0', '--ingress-port', '0', '--data-dir', join(dir, 'a'), '-q'], flag: '--control-port' },
  { name: 'meshwork up --ui-port', args: () => ['up', '--control-port', '0', '--ui-port', port, '--ingress-port', '0', '--data-dir', join(dir, 'b'), '-q'], flag: '--ui-port' },
  { name: 'meshwork up --ingress-port', args: () => ['up', '--control-port', '0', '--ingress-port', port, '--no-ui', '--data-dir', join(dir, 'c'), '-q'], flag: '--ingress-port' },
  { name: 'meshwork control --port', args: () => ['control', '-f', join(import.meta.dirname, '..', '..', 'samples', 'bookinfo', 'mesh.yaml'), '--port', port, '--data-dir', join(dir, 'd')], flag: '--port' },
  { name: 'meshwork server --port', args: () => ['server', '--port', port, '--data-dir', join(dir, 'e'), '--control-plane', 'http://127.0.0.1:9'], flag: '--port' }
]

for (const c of cases) {
  test(`${c.name} on a taken port names ${c.flag}`, async () => {
    const r = await cli(c.args(), { env: cleanEnv(), timeoutMs: 90_000 })
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`MESH_ERR_PORT_IN_USE: .*port ${port} on 127\\.0\\.0\\.1 is in use \\(EADDRINUSE\\); choose another with ${c.flag} <port> \\(${c.flag} 0 = any free port\\)`))
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  })
}
