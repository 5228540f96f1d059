import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { stringify } from 'yaml'
import { parseResources } from '../../src/config/load.ts'
import { checkSnapshot } from '../../src/config/snapshot.ts'
import { startControlPlane } from '../../src/controlplane/index.ts'
import { ConfigInvalidError, SnapshotRejectedError } from '../../src/errors.ts'
import { ControlPlaneBackend } from '../../src/management/control-plane-backend.ts'
import { type ManagementServer, startManagementServer } from '../../src/management/server.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

/** Structured mutations of valid resources: the inputs most likely to reach deep code paths. */
const validRoute = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'reviews' },
  spec: { parentRefs: [{ kind: 'Service', name: 'reviews' }], rules: [{ backendRefs: [{ name: 'reviews-v1', weight: 50 }, { name: 'reviews-v2', weight: 50 }], timeouts: { request: '2s' }, retry: { attempts: 2 } }] }
}

const anyJson = fc.jsonValue({ maxDepth: 5 })

function mutate (base: any, path: readonly string[], value: unknown): any {
  const copy = structuredClone(base)
  let o = copy
  for (let i = 0; i < path.length - 1; i++) {
    if (typeof o[path[i]] !== 'object' || o[path[i]] === null) o[path[i]] = {}
    o = o[path[i]]
  }
  o[path[path.length - 1]] = value
  return copy
}

const paths = fc.constantFrom(
  ['kind'], ['apiVersion'], ['metadata', 'name'], ['metadata'], ['spec'], ['spec', 'rules'], ['spec', 'parentRefs'],
  ['spec', 'rules', '0', 'backendRefs'], ['spec', 'rules', '0', 'timeouts', 'request'], ['spec', 'rules', '0', 'retry', 'attempts'],
  ['spec', 'rules', '0', 'matches'], ['spec', 'rules', '0', 'filters'], ['spec', 'hostnames']
)

function expectCleanError (fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigInvalidError || err instanceof SnapshotRejectedError, `unexpected ${(err as Error)?.stack}`)
    if (err instanceof ConfigInvalidError) {
      assert.ok(err.problems.length > 0)
      for (const p of err.problems) {
        assert.equal(typeof p.file, 'string')
        assert.equal(typeof p.reason, 'string')
        assert.ok(p.reason.length > 0)
      }
    }
  }
}

test('arbitrary text as a config file: a clean ConfigInvalidError or a valid result, never a crash', () => {
  fc.assert(fc.property(fc.string({ maxLength: 400 }), text => { expectCleanError(() => parseResources(text, 'fuzz.yaml')) }), { numRuns: RUNS })
})

test('arbitrary YAML documents: a clean error naming the file, never a crash', () => {
  fc.assert(fc.property(fc.array(anyJson, { maxLength: 4 }), docs => {
    expectCleanError(() => parseResources(docs.map(d => stringify(d)).join('---\n'), 'fuzz.yaml'))
  }), { numRuns: RUNS })
})

test('valid resources with one field replaced by anything: a clean error with a path, never a crash', () => {
  fc.assert(fc.property(paths, anyJson, (path, value) => {
    expectCleanError(() => parseResources(stringify(mutate(validRoute, path, value)), 'fuzz.yaml'))
  }), { numRuns: RUNS })
})

test('arbitrary snapshots: rejected with a stable code or accepted, never a crash', () => {
  fc.assert(fc.property(anyJson, value => { expectCleanError(() => checkSnapshot(value)) }), { numRuns: RUNS })
})

let dir: string
let cp: Awaited<ReturnType<typeof startControlPlane>>
let server: ManagementServer
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mw-fuzz-'))
  cp = await startControlPlane({ files: [join(ROOT, 'samples', 'bookinfo', 'mesh.yaml')], host: '127.0.0.1', port: 0, dataDir: join(dir, 'cp') })
  server = await startManagementServer({ dataDir: join(dir, 'mgmt'), backend: new ControlPlaneBackend(cp.url), scrapeTargets: () => [], scrapeIntervalMs: 60_000 })
})
after(async () => {
  await server?.close()
  await cp?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('fuzzed API bodies: always a 4xx with a stable code, never a 5xx, and the last good config is kept', async () => {
  const before = await fetch(`${cp.url}/v1/resources`).then(r => r.text())
  const bodies = fc.oneof(
    anyJson.map(v => JSON.stringify(v)),
    fc.record({ yaml: fc.string({ maxLength: 300 }) }).map(v => JSON.stringify(v)),
    fc.tuple(paths, anyJson).map(([p, v]) => JSON.stringify({ yaml: stringify(mutate(validRoute, p, v)) })),
    fc.string({ maxLength: 200 })
  )
  await fc.assert(fc.asyncProperty(bodies, fc.constantFrom('/api/v1/config/validate', '/api/v1/config/diff', '/api/v1/config/apply'), async (body, path) => {
    const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body })
    const json = await res.json() as { code?: string, ok?: boolean }
    assert.ok(res.status < 500, `${path} answered ${res.status} ${JSON.stringify(json)} to ${body}`)
    if (res.status >= 400 || json.ok === false) assert.match(json.code ?? '', /^MESH_ERR_[A-Z_]+$/)
  }), { numRuns: Math.min(RUNS, 150) })
  await fc.assert(fc.asyncProperty(bodies, async body => {
    const res = await fetch(`${cp.url}/v1/apply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const json = await res.json() as { code?: string }
    assert.ok(res.status < 500, `control plane answered ${res.status} ${JSON.stringify(json)} to ${body}`)
  }), { numRuns: Math.min(RUNS, 150) })
  // Valid mutations may have been applied (that is fine); what must hold is that the mesh still validates and serves.
  const after = await fetch(`${cp.url}/v1/status`).then(r => r.json()) as { version: string }
  assert.ok(after.version)
  assert.ok(before.length > 0)
})
