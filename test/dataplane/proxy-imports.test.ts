// What a `meshwork proxy` process loads: never zod (8–12 MB of RSS; the proxy checks snapshots with the
// zod-free src/config/snapshot-check/), and with a JSON --snapshot neither yaml, undici, fastify nor
// @peculiar/x509. Real processes, with a module recorder (record-imports/register.mjs).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { snapshot } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'meshwork-proxy-imports-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const REGISTER = fileURLToPath(new URL('./record-imports/register.mjs', import.meta.url))
const MESH = fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url))

/**
 * Run `meshwork <argv>` with the recorder until `ready(stderr, loaded)` holds (then SIGTERM) or it exits;
 * resolves with the modules it loaded.
 */
async function recordRun (name: string, argv: string[], ready: (stderr: string, loaded: string) => boolean, whenReady?: (stderr: string) => Promise<void>): Promise<string[]> {
  const out = join(dir, `${name}.modules`)
  writeFileSync(out, '')
  const { command, args } = meshworkCommand(argv)
  const main = args.findIndex(a => a.endsWith('main.ts'))
  assert.ok(main > 0, 'runs from the TypeScript sources')
  args.splice(main, 0, '--import', REGISTER)
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MESHWORK_RECORD_IMPORTS: out } })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  let done = false
  void exited.then(() => { done = true })
  const deadline = Date.now() + 60_000
  try {
    while (!done && !ready(stderr, readFileSync(out, 'utf8'))) {
      if (Date.now() > deadline) throw new Error(`${name}: not ready within 60 s; stderr: ${stderr.slice(-1000)}`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    if (!done && whenReady !== undefined) await whenReady(stderr)
  } finally {
    if (!done) child.kill('SIGTERM')
    await exited
  }
  return readFileSync(out, 'utf8').split('\n').filter(l => l !== '')
}

const FORBIDDEN = ['/node_modules/zod/', '/node_modules/yaml/', '/node_modules/undici/', '/node_modules/fastify/', '/node_modules/@peculiar/x509/']

function loadedPackages (modules: string[], needles: string[]): string[] {
  return needles.filter(n => modules.some(m => m.includes(n)))
}

test('`meshwork proxy --snapshot file.json` loads neither zod nor yaml, undici, fastify or @peculiar/x509', async () => {
  const file = join(dir, 'snapshot.json')
  writeFileSync(file, JSON.stringify(snapshot('1', { reviews: { endpoints: [{ id: 'r1', port: 9, version: 'v1' }] } }, {
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'reviews' },
      spec: { parentRefs: [{ name: 'reviews' }], rules: [{ backendRefs: [{ name: 'reviews-v1' }], timeouts: { request: '5s' }, retry: {} }] }
    }]
  } as never)))
  const modules = await recordRun('snapshot-proxy', ['proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
    stderr => /applied snapshot 1/.test(stderr))
  // the recorder saw the proxy's own modules: the absence below means something
  assert.ok(modules.some(m => m.endsWith('/src/dataplane/proxy.ts')), 'recorded the proxy modules')
  assert.ok(modules.some(m => m.endsWith('/src/config/snapshot-check/check-snapshot.ts')), 'the proxy validates with the zod-free checker')
  assert.deepEqual(loadedPackages(modules, FORBIDDEN), [])
})

test('`meshwork proxy --control-plane` loads its control-plane client but not zod', async () => {
  // a port nobody listens on: the client starts, fails to connect and retries
  const srv = createServer()
  await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => srv.close(() => resolve()))
  let seenAt = 0
  const modules = await recordRun('cp-proxy', ['proxy', '--control-plane', `http://127.0.0.1:${port}`, '--id', 'x-0', '--service', 'x', '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
    (_stderr, loaded) => {
      if (seenAt === 0 && loaded.includes('/src/dataplane/config-client.ts')) seenAt = Date.now()
      // a second after the client's module graph was loaded, whatever it loads lazily on a first attempt is in
      return seenAt !== 0 && Date.now() - seenAt > 1500
    })
  assert.ok(modules.some(m => m.endsWith('/src/dataplane/identity-client.ts')), 'recorded the control-plane client modules')
  assert.deepEqual(loadedPackages(modules, ['/node_modules/zod/']), [])
})

/** Loads node:http2 in the test process (the client side), only when a test needs an h2 client. */
const h2connect = async (url: string) => (await import('node:http2')).connect(url)

test('an inbound listener loads the h2 codec only when a peer speaks h2, and never node:http2', async () => {
  const file = join(dir, 'inbound-snapshot.json')
  // the local app's port is closed: the h2 request gets a 503 from the proxy, which is enough
  writeFileSync(file, JSON.stringify(snapshot('1', {}, { node: { id: 'in-0', service: 'echo' }, localApp: { port: 9 } } as never)))
  const args = ['proxy', '--snapshot', file, '--inbound', '127.0.0.1:0', '--admin', '127.0.0.1:0']
  const codec = (modules: string[]): boolean => modules.some(m => m.endsWith('/src/dataplane/http2/connection.ts'))
  const idle = await recordRun('inbound-http1', args, stderr => /applied snapshot 1/.test(stderr))
  assert.ok(idle.includes('node:net') && idle.includes('node:tls'), 'the recorder lists builtins')
  assert.ok(!codec(idle), 'no h2 connection, no codec (src/dataplane/lazy-h2.ts)')

  let status = 0
  const served = await recordRun('inbound-h2c', args, stderr => /applied snapshot 1/.test(stderr), async stderr => {
    const port = /inbound=127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]
    assert.ok(port !== undefined, stderr)
    const session = await h2connect(`http://127.0.0.1:${port}`)
    try {
      status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'echo' })
        req.on('response', h => resolve(Number(h[':status'])))
        req.on('error', reject)
        req.resume()
        req.end()
      })
    } finally {
      session.close()
    }
  })
  assert.equal(status, 503, 'the inbound listener served h2c')
  assert.ok(codec(served), 'the codec loaded on the first h2 connection')
  assert.ok(!served.includes('node:http2'), 'never node:http2')
})

test('the recorder sees zod where it is loaded: `meshwork check` (CLI) validates with the zod schemas', async () => {
  const modules = await recordRun('check', ['check', MESH], () => false)
  assert.deepEqual(loadedPackages(modules, ['/node_modules/zod/']), ['/node_modules/zod/'])
})
