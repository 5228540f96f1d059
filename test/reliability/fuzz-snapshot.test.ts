// Fuzzed snapshots given to a running proxy: through `applySnapshot` (in process) and through the file
// watcher of `meshwork proxy --snapshot` (a real process). Invalid → a clean MESH_ERR_SNAPSHOT_REJECTED,
// the last good snapshot keeps serving traffic, the process never dies.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { checkSnapshot } from '../../src/config/snapshot.ts'
import { parseSnapshotText } from '../../src/dataplane/snapshot-file.ts'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { snapshot, startOrigin, startProxy } from '../dataplane/helpers.ts'
import { getVia } from './load.ts'

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
const dir = mkdtempSync(join(tmpdir(), 'meshwork-fuzz-snap-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A snapshot that exercises most of the schema: a route with filters, retry and timeouts, a policy. */
function goodSnapshot (version: string, port: number): Record<string, unknown> {
  return snapshot(version, { reviews: { endpoints: [{ id: 'r1', port, version: 'v1' }] } }, {
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: {
        parentRefs: [{ kind: 'Service', name: 'reviews' }],
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-fuzz', value: '1' }] } }],
          backendRefs: [{ name: 'reviews-v1', weight: 1 }],
          timeouts: { request: '5s' },
          retry: { attempts: 2 }
        }]
      }
    }],
    destinationPolicies: [{
      apiVersion: 'meshwork.dev/v1alpha1',
      kind: 'DestinationPolicy',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { targetRef: { name: 'reviews' }, loadBalancer: { type: 'RoundRobin' }, outlierDetection: { consecutive5xx: 5 } }
    }]
  } as never) as unknown as Record<string, unknown>
}

const PATHS = [
  ['version'], ['node'], ['node', 'id'], ['node', 'role'], ['mesh'], ['mesh', 'mtls', 'mode'], ['mesh', 'defaultTimeout'],
  ['services'], ['services', '0', 'endpoints'], ['services', '0', 'endpoints', '0', 'port'], ['services', '0', 'endpoints', '0', 'address'],
  ['services', '0', 'name'], ['routes'], ['routes', '0', 'spec', 'rules'], ['routes', '0', 'spec', 'rules', '0', 'matches'],
  ['routes', '0', 'spec', 'rules', '0', 'filters'], ['routes', '0', 'spec', 'rules', '0', 'backendRefs'], ['routes', '0', 'spec', 'parentRefs'],
  ['destinationPolicies', '0', 'spec'], ['destinationPolicies', '0', 'spec', 'outlierDetection'], ['localApp'], ['gateways'],
  ['authorizationPolicies'], ['faultInjections'], ['rateLimitPolicies']
] as const

function mutate (base: Record<string, unknown>, path: readonly string[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, any>
  let o = copy
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof o[path[i]] !== 'object' || o[path[i]] === null) o[path[i]] = {}
    o = o[path[i]]
  }
  o[path[path.length - 1]] = value
  return copy
}

const anyJson = fc.jsonValue({ maxDepth: 4 })
const mutation = fc.tuple(fc.constantFrom(...PATHS), anyJson)

test('fuzzed snapshots applied to a serving proxy: accepted or MESH_ERR_SNAPSHOT_REJECTED, never a throw; the last good one keeps serving', async (t) => {
  const origin = await startOrigin('good')
  const p = await startProxy(null)
  t.after(async () => { await p.close(); await origin.close() })
  let good = 0
  const applyGood = (): string => {
    const v = `good-${++good}`
    const r = p.proxy.applySnapshot(goodSnapshot(v, origin.port))
    assert.equal(r.ok, true)
    return v
  }
  let goodVersion = applyGood()
  let rejected = 0
  let accepted = 0
  await fc.assert(fc.asyncProperty(mutation, async ([path, value]) => {
    const r = p.proxy.applySnapshot(mutate(goodSnapshot('fuzz', origin.port), path, value))
    if (r.ok) {
      accepted++
      goodVersion = applyGood() // back to a known snapshot for the serving check
    } else {
      rejected++
      assert.equal(r.error.code, 'MESH_ERR_SNAPSHOT_REJECTED')
      assert.equal(p.proxy.snapshot?.version, goodVersion)
    }
    const res = await getVia(p.outbound, 'reviews', '/after-fuzz')
    assert.equal(res.status, 200, `after ${JSON.stringify([path, value])}: ${res.status} ${res.body}`)
    assert.equal(JSON.parse(res.body).headers['x-fuzz'], '1')
  }), { numRuns: RUNS })
  console.log(`[reliability] fuzz-snapshot (in process): runs=${RUNS} rejected=${rejected} accepted=${accepted}`)
  assert.ok(rejected > RUNS / 4, `only ${rejected} of ${RUNS} mutations were invalid: the fuzzer is too tame`)
})

/** `meshwork proxy --snapshot <file>`; resolves with its ports and a way to wait for the next load result. */
async function startSnapshotProxy (file: string): Promise<{ child: ChildProcess, ports: Record<string, number>, nextResult: () => Promise<string>, close: () => Promise<void> }> {
  const { command, args } = meshworkCommand(['proxy', '--snapshot', file, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0'])
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  const results: string[] = []
  let waiter: ((line: string) => void) | null = null
  child.stderr!.on('data', (d: Buffer) => {
    const before = err.length
    err += d.toString()
    for (const line of err.slice(before).split('\n')) {
      if (!/applied snapshot|MESH_ERR_/.test(line)) continue
      if (waiter !== null) { const w = waiter; waiter = null; w(line) } else results.push(line)
    }
  })
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 60_000)
    const check = (): void => {
      const m = /listening (.*)\n/.exec(err)
      if (m && err.includes('applied snapshot')) {
        clearTimeout(timer)
        child.stderr!.off('data', check)
        resolve(Object.fromEntries(m[1].split(' ').map(kv => { const [k, v] = kv.split('='); return [k, Number(v.split(':').pop())] })))
      }
    }
    child.stderr!.on('data', check)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`proxy exited ${code}: ${err}`)) })
  })
  results.length = 0
  return {
    child,
    ports,
    nextResult: () => results.length > 0
      ? Promise.resolve(results.shift()!)
      : new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiter = null; reject(new Error(`no load result within 15 s; stderr: ${err.slice(-500)}`)) }, 15_000)
        waiter = line => { clearTimeout(timer); resolve(line) }
      }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}

test('`meshwork proxy --snapshot`: fuzzed, truncated and unparsable files are refused by the file watcher; the last good file keeps serving', async (t) => {
  const origin = await startOrigin('file')
  t.after(() => origin.close())
  const file = join(dir, 'snapshot.yaml')
  const writeAtomic = (text: string): void => { writeFileSync(`${file}.tmp`, text); renameSync(`${file}.tmp`, file) }
  writeAtomic(stringify(goodSnapshot('file-good', origin.port)))
  const proxy = await startSnapshotProxy(file)
  t.after(() => proxy.close())
  const isInvalid = async (text: string): Promise<boolean> => {
    try { checkSnapshot(await parseSnapshotText(text, file)); return false } catch { return true }
  }
  // Invalid inputs only (a valid one would become the new last good): arbitrary text, arbitrary YAML/JSON,
  // mutated snapshots, and a good snapshot cut in half (what a non-atomic writer leaves for a moment).
  const good = stringify(goodSnapshot('file-good-2', origin.port))
  const candidates = [
    ...fc.sample(fc.string({ maxLength: 300 }), 8),
    ...fc.sample(anyJson.map(v => stringify(v)), 6),
    ...fc.sample(anyJson.map(v => JSON.stringify(v)), 4),
    ...fc.sample(mutation.map(([path, value]) => stringify(mutate(goodSnapshot('file-fuzz', origin.port), path, value))), 14),
    good.slice(0, Math.floor(good.length / 2)),
    'version: [unclosed\n',
    '\u0000\u0001\u0002'
  ]
  const inputs: string[] = []
  for (const c of candidates) if (await isInvalid(c)) inputs.push(c)
  assert.ok(inputs.length >= 20, `only ${inputs.length} invalid inputs`)
  let refused = 0
  for (const text of inputs) {
    writeAtomic(text)
    const line = await proxy.nextResult()
    assert.match(line, /MESH_ERR_SNAPSHOT_REJECTED/, `input ${JSON.stringify(text.slice(0, 200))} → ${line}`)
    refused++
    assert.equal(proxy.child.exitCode, null, 'the proxy process died')
    const res = await getVia(proxy.ports.outbound, 'reviews', '/still-serving')
    assert.equal(res.status, 200, `after ${JSON.stringify(text.slice(0, 200))}: ${res.status} ${res.body}`)
  }
  const config = JSON.parse((await getVia(proxy.ports.admin, 'admin', '/config')).body) as { version: string }
  assert.equal(config.version, 'file-good')
  // And a good file after all that is applied.
  writeAtomic(good)
  assert.match(await proxy.nextResult(), /applied snapshot file-good-2/)
  console.log(`[reliability] fuzz-snapshot (meshwork proxy --snapshot): files=${inputs.length} refused=${refused} still serving, then file-good-2 applied`)
})
