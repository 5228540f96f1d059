/**
 * Hot config reload under load: an HTTPRoute is re-applied every 100 ms through the control plane (route
 * weights flip between echo-v1 and echo-v2, and a header modifier stamps the generation), while clients
 * call `echo` through a sidecar pair with mTLS STRICT. Nothing may fail, and the changes must be seen by
 * the traffic (both versions answer, many generations are stamped).
 */
import assert from 'node:assert/strict'
import { getVia, runLoad, summaryLine, type LoadResult } from '../load.ts'
import { echoWorkload, startReliabilityMesh, until } from '../mesh.ts'

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT } }
---
${echoWorkload('echo-v1', 'echo', 'v1')}---
${echoWorkload('echo-v2', 'echo', 'v2')}---
${route(0)}`

function route (gen: number): string {
  const toV1 = gen % 2 === 0
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo }
spec:
  parentRefs: [{ kind: Service, name: echo }]
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: x-gen, value: "${gen}" }] } }]
      backendRefs: [{ name: echo-v1, weight: ${toV1 ? 100 : 0} }, { name: echo-v2, weight: ${toV1 ? 0 : 100} }]
`
}

export interface HotReloadReport { load: LoadResult, applies: number, generationsSeen: number, versionsSeen: string[], nacks: number, line: string }

export async function runHotReload (seconds: number, intervalMs = 100): Promise<HotReloadReport> {
  const rm = await startReliabilityMesh('reload', MESH)
  try {
    const cp = rm.mesh.controlPlane
    await rm.waitHealthy('echo', 2)
    let nacks = 0
    cp.on('nack', () => { nacks++ })
    let loadStart = Date.now()
    const health = new Map<string, boolean>()
    const flips: string[] = []
    cp.registry.on('proxy', (rec: { id: string, healthy: boolean }) => {
      const was = health.get(rec.id)
      if (was !== undefined && was !== rec.healthy) flips.push(`${rec.id}→${rec.healthy ? 'up' : 'down'}@${Date.now() - loadStart}ms`)
      health.set(rec.id, rec.healthy)
    })
    const gens = new Set<string>()
    const versions = new Set<string>()
    const controller = new AbortController()
    let applies = 0
    const applyErrors: string[] = []
    const reload = (async () => {
      let gen = 0
      while (!controller.signal.aborted) {
        const t0 = Date.now()
        gen++
        const r = await cp.apply(route(gen), 'reload.yaml')
        if (r.ok) applies++
        else applyErrors.push(`${r.code}: ${JSON.stringify(r.problems)}`)
        const wait = intervalMs - (Date.now() - t0)
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
      }
      return gen
    })()
    loadStart = Date.now()
    const load = await runLoad({
      name: 'hot-reload',
      port: rm.entryPort,
      host: 'echo',
      durationMs: seconds * 1000,
      concurrency: 8,
      onReply: r => {
        const b = JSON.parse(r.body) as { version: string, gen: string | null }
        versions.add(b.version)
        if (b.gen !== null) gens.add(b.gen)
      }
    })
    controller.abort()
    const lastGen = await reload
    // The last change reaches the proxies too.
    await cp.waitForSync(10_000)
    await until(async () => {
      const r = await getVia(rm.entryPort, 'echo', '/final')
      return r.status === 200 && (JSON.parse(r.body) as { gen: string | null }).gen === String(lastGen)
    }, 10_000, `generation ${lastGen} to be served`)
    const line = summaryLine(load, `applies=${applies} (every ${((seconds * 1000) / Math.max(1, applies)).toFixed(0)} ms) generations_seen=${gens.size} versions=${[...versions].sort().join('+')} nacks=${nacks} health_flips=${flips.length}`)
    if (flips.length > 0) console.log(flips.join(' '))
    console.log(line)
    assert.deepEqual(applyErrors, [], 'every apply was accepted')
    assert.equal(load.failures, 0, `failed requests: ${JSON.stringify(load.firstFailures)}`)
    assert.equal(nacks, 0, 'no proxy refused a snapshot')
    assert.ok(load.requests > seconds * 20, `only ${load.requests} requests in ${seconds} s`)
    // Loaded 2-core machine: the apply loop may lag, but must keep going at a good share of 10/s.
    assert.ok(applies >= (seconds * 1000 / intervalMs) * 0.5, `only ${applies} applies in ${seconds} s`)
    assert.deepEqual([...versions].sort(), ['v1', 'v2'])
    assert.ok(gens.size >= applies / 10, `traffic saw only ${gens.size} of ${applies} generations`)
    return { load, applies, generationsSeen: gens.size, versionsSeen: [...versions].sort(), nacks, line }
  } finally {
    await rm.stop()
  }
}
