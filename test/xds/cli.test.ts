import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startControlPlane, type ControlPlane } from '../../src/controlplane/index.ts'
import { TYPE_URL } from '../../src/controlplane/xds/protos.ts'
import { jsonToStruct } from '../../src/controlplane/xds/xds-node.ts'
import { adsServiceDefinition } from '../../src/controlplane/xds/xds-server.ts'
import { AdsClient, XDS_MESH } from './helpers.ts'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
function cli (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { timeout: 60_000, env: { ...process.env, MESHWORK_CONTROL_PLANE: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

let cp: ControlPlane
before(async () => { cp = await startControlPlane({ files: [XDS_MESH], port: 0, xdsPort: 0 }) })
after(async () => { await cp?.close() })

test('meshwork xds bootstrap asks the control plane for its xDS address; --envoy renders a checked Envoy bootstrap', async () => {
  const g = await cli(['xds', 'bootstrap', '--control-plane', cp.url, '--service', 'productpage'])
  assert.equal(g.code, 0, g.stderr)
  const grpcDoc = JSON.parse(g.stdout)
  assert.equal(grpcDoc.xds_servers[0].server_uri, cp.xdsAddress)
  assert.equal(grpcDoc.node.metadata.MESHWORK_CLIENT, 'grpc')
  const e = await cli(['xds', 'bootstrap', '--xds', '127.0.0.1:15012', '--service', 'reviews', '--version', 'v2', '--envoy', '--outbound-port', '16001'])
  assert.equal(e.code, 0, e.stderr)
  assert.equal(JSON.parse(e.stdout).node.metadata.MESHWORK_OUTBOUND_PORT, '16001')
  const bad = await cli(['xds', 'bootstrap', '--xds', '127.0.0.1:15012', '--service', 'reviews', '--endpoints', 'sideways'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /MESH_ERR_CONFIG_INVALID: <flags>: --endpoints/)
  const help = await cli(['control', '--help'])
  assert.match(help.stdout, /--xds-port/)
})

test('meshwork get xds-clients lists a connected client with its subscriptions and sync state', async () => {
  const c = new AdsClient(cp.xdsAddress!, 'sotw', adsServiceDefinition())
  try {
    c.send({ node: { id: 'cli-envoy', user_agent_name: 'envoy', metadata: jsonToStruct({ MESHWORK_SERVICE: 'productpage' }) }, type_url: TYPE_URL.cluster, resource_names: [] })
    const r = await c.next()
    c.send({ type_url: TYPE_URL.cluster, resource_names: [], version_info: r.version_info, response_nonce: r.nonce })
    await new Promise(resolve => setTimeout(resolve, 100))
    const json = await cli(['get', 'xds-clients', '--control-plane', cp.url, '-o', 'json'])
    assert.equal(json.code, 0, json.stderr)
    const listed = JSON.parse(json.stdout).find((x: any) => x.id === 'cli-envoy')
    assert.equal(listed.client, 'envoy')
    assert.equal(listed.types.CDS.sync, 'SYNCED')
    assert.deepEqual(listed.types.CDS.subscribed, ['*'])
    const table = await cli(['get', 'xds-clients', '--control-plane', cp.url])
    assert.match(table.stdout, /^ID\s+CLIENT\s+ENDPOINTS/m)
    assert.match(table.stdout, /cli-envoy\s+envoy\s+inbound\s+sotw\s+productpage\s+SYNCED/)
  } finally { c.close() }
})

test('meshwork control --xds-port 0 serves xDS and says where', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshwork-xds-control-'))
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'control', '-f', XDS_MESH, '--port', '0', '--xds-port', '0', '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    let out = ''
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no xDS line: ${out}`)), 30_000)
      child.stdout.on('data', d => { out += d; if (/xDS v3 .* on 127\.0\.0\.1:\d+/.test(out)) { clearTimeout(t); resolve() } })
    })
    const address = /on (127\.0\.0\.1:\d+)/.exec(out.split('\n').find(l => l.startsWith('xDS'))!)![1]
    const c = new AdsClient(address, 'delta', adsServiceDefinition())
    c.send({ node: { id: 'probe' }, type_url: TYPE_URL.cluster, resource_names_subscribe: ['reviews'] })
    const r = await c.next(5000)
    c.close()
    assert.deepEqual(r.resources.map((x: any) => x.name), ['reviews'])
  } finally {
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
    await rm(dir, { recursive: true, force: true })
  }
})
