// The acceptance test of issue 3: `meshwork up` with Bookinfo (via the runtime API), then traffic through
// the ingress gateway, config changes through the control plane, fault injection hidden by retries, a
// killed app and a killed sidecar restarted, a real Prometheus scraping every proxy, and a clean stop.
// Issue 12: reviews v3 gets its stars over gRPC (grpc-js → sidecars with mTLS STRICT → grpc-js), and a
// GRPCRoute canary routes by method and header.
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type LocalMesh, startLocalMesh } from '../../src/runtime/local-mesh.ts'
import { type PrometheusServer, startPrometheus } from '../../src/runtime/prometheus.ts'
import { probe } from '../../src/runtime/readiness.ts'
import { alive, closeClients, get, type ProductView, productThroughIngress, sumMetric, waitUntil } from './http-client.ts'

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/', import.meta.url))
const EXAMPLES = join(BOOKINFO, 'examples')
const dir = mkdtempSync(join(tmpdir(), 'meshwork-e2e-'))
let mesh: LocalMesh
let prom: PrometheusServer
let ingress = ''

/**
 * The embedded mesh file, or (MESHWORK_E2E_MTLS=PERMISSIVE|DISABLE) a copy of Bookinfo with that mTLS mode,
 * to tell mTLS problems from the rest.
 */
function meshFiles (): string[] | undefined {
  const mode = process.env.MESHWORK_E2E_MTLS
  if (mode === undefined || mode === 'STRICT') return undefined
  const copy = join(dir, 'bookinfo')
  cpSync(BOOKINFO, copy, { recursive: true })
  const file = join(copy, 'mesh.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replace('mode: STRICT', `mode: ${mode}`))
  return [file]
}

before(async () => {
  mesh = await startLocalMesh({ files: meshFiles(), dataDir: join(dir, 'data'), ingressPort: 0, controlPort: 0, echo: null, restartBackoffMs: 2500 })
  ingress = mesh.ingressUrl!
  prom = await startPrometheus({ dir: join(dir, 'prometheus'), targets: mesh.scrapeTargets(), scrapeIntervalMs: 1000 })
})

after(async () => {
  await prom?.stop()
  await mesh?.stop()
  closeClients()
  rmSync(dir, { recursive: true, force: true })
})

/** The reviews endpoint `id` as the productpage sidecar's current snapshot has it. */
async function reviewsEndpoint (id: string): Promise<{ id: string, healthy: boolean } | undefined> {
  const admin = mesh.proxies.find(p => p.id === 'productpage-v1-0')!.adminUrl
  type Snap = { services: { name: string, endpoints: { id: string, healthy: boolean }[] }[] }
  const body = JSON.parse((await get(`${admin}/config`)).body) as Snap & { snapshot?: Snap }
  return (body.snapshot ?? body).services.find(s => s.name === 'reviews')?.endpoints.find(e => e.id === id)
}

async function many (n: number): Promise<ProductView[]> {
  const out: ProductView[] = []
  for (let i = 0; i < n; i++) out.push(await productThroughIngress(ingress))
  return out
}

function failures (views: ProductView[]): string[] {
  return views.filter(v => v.status !== 200 || v.errors.length > 0).map(v => `${v.status} ${v.errors.join('; ')}`)
}

async function applyFile (file: string): Promise<number> {
  const started = Date.now()
  // the file's path as its source: a Workload's command runs relative to the file it came from
  const r = await mesh.controlPlane.apply(readFileSync(join(EXAMPLES, file), 'utf8'), join(EXAMPLES, file))
  assert.equal(r.ok, true, JSON.stringify(r.problems))
  const sync = await mesh.controlPlane.waitForSync(10_000)
  for (const s of sync) assert.equal(s.status, 'SYNCED', `${s.id}: ${s.status} ${s.error ?? ''}`)
  return Date.now() - started
}

test('meshwork up starts a sidecar before each app, both gateways, and every proxy registers', async () => {
  assert.equal(mesh.apps.length, 7)
  assert.equal(mesh.proxies.length, 9)
  assert.deepEqual(mesh.proxies.filter(p => p.role !== 'sidecar').map(p => p.role).sort(), ['egress', 'ingress'])
  for (const app of mesh.apps) {
    // The app was spawned only once its sidecar answered /ready.
    assert.ok(app.sidecar.process.readyAt > 0 && app.process.firstSpawnAt >= app.sidecar.process.readyAt, app.id)
  }
  const proxies = await (await fetch(`${mesh.controlPlaneUrl}/v1/proxies`)).json() as { id: string, connected: boolean }[]
  assert.deepEqual(proxies.filter(p => p.connected).map(p => p.id).sort(), mesh.proxies.map(p => p.id).sort())
  assert.match(mesh.summary(), /\/productpage/)
})

test('requests through the ingress reach all three reviews versions', async () => {
  const page = await get(`${ingress}/productpage`)
  assert.equal(page.status, 200)
  assert.match(page.body, /<!-- reviews-version: v[123] -->/)
  assert.equal((await get(`${ingress}/static/style.css`)).status, 200)
  const views = await many(30)
  assert.deepEqual(failures(views), [])
  assert.deepEqual([...new Set(views.map(v => v.reviewsVersion))].sort(), ['v1', 'v2', 'v3'])
})

test('a killed app and a killed sidecar are restarted, and clients see no errors', async () => {
  const app = mesh.app('reviews-v2-0')!
  const firstPid = app.process.pid!
  let running = true
  const seen: ProductView[] = []
  const load = (async () => {
    while (running) seen.push(await productThroughIngress(ingress))
  })()
  try {
    await waitUntil(() => seen.length >= 5, 'traffic before the kill')
    process.kill(firstPid, 'SIGKILL')
    // While it is down (the first restart waits restartBackoffMs), its sidecar reports it unhealthy and
    // the endpoint is marked down in the callers' snapshots: it has left their load balancers.
    await waitUntil(async () => (await reviewsEndpoint('reviews-v2-0'))?.healthy === false, 'reviews-v2-0 endpoint marked down in productpage\'s snapshot', 20_000, 50)
    await waitUntil(() => app.process.restarts >= 1 && app.process.pid !== undefined, 'app restart')
    await waitUntil(async () => await probe(`http://127.0.0.1:${app.port}/healthz`) === 200, 'restarted app healthy')
    const after = seen.length
    await waitUntil(async () => (await reviewsEndpoint('reviews-v2-0'))?.healthy === true, 'reviews-v2-0 endpoint back', 20_000, 50)
    await waitUntil(() => seen.slice(after).some(v => v.reviewsVersion === 'v2'), 'v2 serving again', 30_000)
  } finally {
    running = false
    await load
  }
  assert.deepEqual(failures(seen), [])
  assert.equal(alive(firstPid), false)

  // A sidecar killed: restarted on the same ports, it registers again and serves.
  const details = mesh.proxies.find(p => p.id === 'details-v1-0')!
  const sidecarPid = details.process.pid!
  process.kill(sidecarPid, 'SIGKILL')
  await waitUntil(() => details.process.restarts >= 1, 'sidecar restart')
  await waitUntil(async () => await probe(`${details.adminUrl}/ready`) === 200, 'restarted sidecar ready', 60_000)
  await waitUntil(async () => failures(await many(3)).length === 0, 'details served again', 30_000, 200)
  assert.equal(alive(sidecarPid), false)
})

test('a 100% reviews-v3 route is pushed to every proxy and only v3 answers after the ACK', async t => {
  assert.doesNotMatch(mesh.summary(), /applied on top of the mesh files/)
  const ms = await applyFile('reviews-v3.yaml')
  assert.match(mesh.summary(), /1 resource\(s\) applied on top of the mesh files/)
  t.diagnostic(`apply → every proxy ACKed in ${ms} ms`)
  assert.ok(ms < 5000, `config took ${ms} ms to reach every proxy`)
  const views = await many(20)
  assert.deepEqual(failures(views), [])
  assert.deepEqual([...new Set(views.map(v => v.reviewsVersion))], ['v3'])
  for (const v of views) assert.deepEqual(v.stars, [{ stars: 5, color: 'red' }, { stars: 4, color: 'red' }])
  // v3's stars came over gRPC through both sidecars, routed by the GRPCRoute `stars`
  assert.deepEqual([...new Set(views.map(v => v.ratingsFrom))], ['stars v1 (stars-v1-0)'])
  const v3 = mesh.proxies.find(p => p.id === 'reviews-v3-0')!.metricsUrl
  assert.ok(sumMetric((await get(v3)).body, 'meshwork_requests_total', { direction: 'outbound', destination: 'stars', route: 'stars', code: '200' }) >= 20)
})

test('gRPC canary: a GRPCRoute sends jason\'s GetStars calls to a new stars v2 and splits the rest', async () => {
  await applyFile('stars-canary.yaml')
  const r = await mesh.reconcile()
  assert.deepEqual(r.failed, [])
  await waitUntil(async () => (await productThroughIngress(ingress, { 'end-user': 'jason' })).ratingsFrom === 'stars v2 (stars-v2-0)', 'jason served by stars v2', 30_000, 200)
  const jason: ProductView[] = []
  for (let i = 0; i < 5; i++) jason.push(await productThroughIngress(ingress, { 'end-user': 'jason' }))
  assert.deepEqual(failures(jason), [])
  assert.deepEqual([...new Set(jason.map(v => v.ratingsFrom))], ['stars v2 (stars-v2-0)'])
  const others = await many(20)
  assert.deepEqual(failures(others), [])
  assert.ok(others.filter(v => v.ratingsFrom === 'stars v1 (stars-v1-0)').length >= 12, JSON.stringify(others.map(v => v.ratingsFrom)))
  // back to one version: the route first, then stars v2 stops (the runtime follows the Workloads)
  await applyFile('stars-all.yaml')
  assert.equal((await mesh.controlPlane.delete(['Workload/default/stars-v2'])).ok, true)
  assert.deepEqual((await mesh.reconcile()).stopped, ['stars-v2-0'])
  assert.deepEqual(failures(await many(5)), [])
})

test('a 50% abort on ratings is injected and retries hide it from the client', async () => {
  const ratingsAdmin = mesh.proxies.find(p => p.id === 'ratings-v1-0')!.metricsUrl
  const before503 = sumMetric((await get(ratingsAdmin)).body, 'meshwork_requests_total', { code: '503' })
  // reviews v2 is the version that calls ratings (v3 calls stars over gRPC)
  const toV2 = readFileSync(join(EXAMPLES, 'reviews-v3.yaml'), 'utf8').replaceAll('reviews-v3', 'reviews-v2')
  assert.equal((await mesh.controlPlane.apply(toV2, 'reviews-v2.yaml')).ok, true)
  await applyFile('ratings-fault.yaml')
  // 11 tries per call (10 retries): a call fails only if all 11 are aborted, p = 0.5^11 ≈ 0.05%, so 20
  // calls pass with ≈ 99% probability; the aborts themselves (≈ 20 expected) are counted below.
  const views = await many(20)
  // Every call went to v2 (black stars: ratings answered), and none saw the aborts.
  assert.deepEqual(failures(views), [])
  for (const v of views) assert.deepEqual(v.stars, [{ stars: 5, color: 'black' }, { stars: 4, color: 'black' }])
  const after503 = sumMetric((await get(ratingsAdmin)).body, 'meshwork_requests_total', { code: '503' })
  assert.ok(after503 - before503 >= 5, `the fault aborted only ${after503 - before503} calls (≈ 20 expected)`)
})

test('a real Prometheus scrapes every proxy and PromQL returns the request rate per service', async () => {
  await many(10)
  let rates = new Map<string, number>()
  await waitUntil(async () => {
    const result = await prom.query('sum by (destination) (rate(meshwork_requests_total[30s]))')
    rates = new Map(result.map(r => [r.metric.destination, r.value]))
    return ['productpage', 'details', 'reviews', 'ratings'].every(s => (rates.get(s) ?? 0) > 0)
  }, `request rates of every service (have ${JSON.stringify(Object.fromEntries(rates))})`, 60_000, 500)
  // Every target up at one scrape round (a single scrape can time out on a loaded machine: wait for a
  // round where all are up rather than judging one snapshot).
  let health = new Map<string, string>()
  await waitUntil(async () => {
    health = await prom.targetHealth()
    return mesh.scrapeTargets().every(t => health.get(t.address) === 'up')
  }, 'every proxy scraped', 30_000, 500).catch(() => {})
  for (const t of mesh.scrapeTargets()) assert.equal(health.get(t.address), 'up', `${t.labels?.proxy} not scraped`)
})

test('stop ends every process in reverse order and leaves none behind', async () => {
  const pids = mesh.pids()
  assert.ok(pids.length >= 18) // 9 proxies + 7 apps + stars v2 and its sidecar + the restarted ones
  await mesh.stop()
  assert.deepEqual(mesh.livePids(), [])
  for (const pid of pids) assert.equal(alive(pid), false)
  for (const p of mesh.supervisor.all()) assert.equal(p.state, 'stopped')
})
