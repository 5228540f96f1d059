// Issue 19: the Config page's forms read the running values and write only the field the user touched,
// keeping every other byte (comments, key order, flow/block style). Checked on the real Bookinfo mesh
// file and on the running-config text the UI loads (`GET /api/v1/config`, block style, defaults filled).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadResourceFiles, parseResources } from '../../src/config/load.ts'
import { currentYaml } from '../../src/management/api/config.ts'
import { diffLines } from '../../src/management/text-diff.ts'
import {
  faultOf, mtlsOf, resourcesOf, routeSettingsOf, serviceRouteOf, splitOf, writeFault, writeMtls, writeRouteSettings, writeSplit
} from '../../ui/src/config/intents.ts'

const MESH_FILE = join(import.meta.dirname, '..', '..', 'samples', 'bookinfo', 'mesh.yaml')
const MESH = readFileSync(MESH_FILE, 'utf8')
const running = async (): Promise<string> => currentYaml((await loadResourceFiles([MESH_FILE])).map(l => l.resource))

/** The lines that differ between two texts, as `-old` / `+new`. */
function changed (before: string, after: string): string[] {
  return diffLines(before, after).filter(l => l.op !== ' ').map(l => `${l.op}${l.line}`)
}

const route = (text: string, service: string): any => serviceRouteOf(resourcesOf(text), service)

test('the timeout form starts from the running values of the route', () => {
  assert.deepEqual(routeSettingsOf(route(MESH, 'reviews')), { request: '5s', backendRequest: '2s', attempts: 2 })
  assert.deepEqual(routeSettingsOf(route(MESH, 'details')), { request: '3s', backendRequest: '', attempts: 2 })
  assert.deepEqual(routeSettingsOf(route(MESH, 'productpage')), { request: '', backendRequest: '', attempts: 0 })
})

test('a request-timeout edit changes that one value: the per-try 2s, the comments and the style stay', () => {
  const next = writeRouteSettings(MESH, 'reviews', { request: '7s' })
  assert.deepEqual(changed(MESH, next), ['-      timeouts: { request: 5s, backendRequest: 2s }', '+      timeouts: { request: 7s, backendRequest: 2s }'])
  assert.match(next, /^# East-west \(GAMMA\): routes attached to a Service apply to every call to it\.$/m)
  parseResources(next, 'mesh.yaml')
})

test('a key the rule lacks is added in place, a cleared one removed, retries set or dropped', () => {
  assert.deepEqual(changed(MESH, writeRouteSettings(MESH, 'details', { backendRequest: '1s' })), ['-      timeouts: { request: 3s }', '+      timeouts: { request: 3s, backendRequest: 1s }'])
  assert.deepEqual(changed(MESH, writeRouteSettings(MESH, 'reviews', { backendRequest: '' })), ['-      timeouts: { request: 5s, backendRequest: 2s }', '+      timeouts: { request: 5s }'])
  assert.deepEqual(changed(MESH, writeRouteSettings(MESH, 'ratings', { attempts: 0 })), ['-      retry: { attempts: 3, backoff: 10ms, codes: [500, 502, 503, 504] }'])
  assert.deepEqual(changed(MESH, writeRouteSettings(MESH, 'ratings', { attempts: 5 })), ['-      retry: { attempts: 3, backoff: 10ms, codes: [500, 502, 503, 504] }', '+      retry: { attempts: 5, backoff: 10ms, codes: [500, 502, 503, 504] }'])
  for (const t of [writeRouteSettings(MESH, 'details', { backendRequest: '1s' }), writeRouteSettings(MESH, 'ratings', { attempts: 0 })]) parseResources(t, 'mesh.yaml')
})

test('on the running config (block style, defaults filled in) a timeout edit is one line too', async () => {
  const text = await running()
  const next = writeRouteSettings(text, 'reviews', { request: '7s' })
  assert.deepEqual(changed(text, next), ['-        request: 5s', '+        request: 7s'])
  const r = parseResources(next, '<editor>').find(l => l.resource.kind === 'HTTPRoute' && l.resource.metadata.name === 'reviews')!.resource as any
  assert.deepEqual(r.spec.rules[0].timeouts, { request: '7s', backendRequest: '2s' })
  assert.equal(r.spec.rules[0].retry.attempts, 2)
})

test('the traffic split starts from the route and writes version backends with the route\'s port', async () => {
  assert.deepEqual(splitOf(route(MESH, 'reviews'), 'reviews', ['v1', 'v2', 'v3']), { weights: { v1: 33, v2: 33, v3: 33 }, whole: true })
  const flow = writeSplit(MESH, 'reviews', { v1: 0, v2: 20, v3: 80 })
  assert.deepEqual(changed(MESH, flow), ['-    - backendRefs: [{ name: reviews, port: 9080 }]', '+    - backendRefs: [{ name: reviews-v2, port: 9080, weight: 20 }, { name: reviews-v3, port: 9080, weight: 80 }]'])
  assert.deepEqual(splitOf(route(flow, 'reviews'), 'reviews', ['v1', 'v2', 'v3']), { weights: { v1: 0, v2: 20, v3: 80 }, whole: false })
  const text = await running()
  const block = writeSplit(text, 'reviews', { v3: 100 })
  const r = parseResources(block, '<editor>').find(l => l.resource.kind === 'HTTPRoute' && l.resource.metadata.name === 'reviews')!.resource as any
  assert.deepEqual(r.spec.rules[0].backendRefs, [{ kind: 'Service', name: 'reviews-v3', port: 9080, weight: 100 }])
  assert.deepEqual(r.spec.rules[0].timeouts, { request: '5s', backendRequest: '2s' })
  assert.ok(changed(text, block).every(l => /backendRefs|- kind: Service|name: reviews|port: 9080|weight: \d+/.test(l)), changed(text, block).join('\n'))
})

test('a fault is added as its own resource, its touched fields changed in place, removed at 0%', () => {
  assert.deepEqual(faultOf(resourcesOf(MESH), 'ratings'), { abortPercent: 0, status: 503, delayPercent: 0, delay: '1s' })
  const added = writeFault(MESH, 'ratings', { abortPercent: 50 })
  assert.ok(added.startsWith(MESH), 'the rest of the text is untouched')
  assert.equal(added.slice(MESH.length), '---\napiVersion: meshwork.dev/v1alpha1\nkind: FaultInjection\nmetadata:\n  name: ratings-fault\nspec:\n  targetRef:\n    name: ratings\n  abort:\n    httpStatus: 503\n    percentage: 50\n')
  assert.deepEqual(faultOf(resourcesOf(added), 'ratings'), { abortPercent: 50, status: 503, delayPercent: 0, delay: '1s' })
  assert.deepEqual(changed(added, writeFault(added, 'ratings', { status: 500 })), ['-    httpStatus: 503', '+    httpStatus: 500'])
  const delayed = writeFault(added, 'ratings', { delayPercent: 10 })
  assert.deepEqual(changed(added, delayed), ['+  delay: { fixedDelay: 1s, percentage: 10 }'])
  assert.deepEqual(changed(delayed, writeFault(delayed, 'ratings', { abortPercent: 0 })), ['-  abort:', '-    httpStatus: 503', '-    percentage: 50'])
  assert.equal(writeFault(added, 'ratings', { abortPercent: 0 }), MESH)
  parseResources(delayed, 'mesh.yaml')
})

test('the mTLS mode changes that one value', () => {
  assert.equal(mtlsOf(resourcesOf(MESH)), 'STRICT')
  assert.deepEqual(changed(MESH, writeMtls(MESH, 'PERMISSIVE')), ['-  mtls: { mode: STRICT }', '+  mtls: { mode: PERMISSIVE }'])
})
