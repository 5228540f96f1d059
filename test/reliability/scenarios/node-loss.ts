/**
 * A node lost under load (`meshwork up --network pods --nodes 2`, root only): `echo` runs 4 replicas spread
 * over two node namespaces; the load enters at the ingress gateway (host 127.0.0.1 → forwarder → ingress pod
 * on node 0), which calls the echo sidecars on both nodes over pod addresses with mTLS. Mid-run every process
 * of node 1's pods (apps and sidecars) is SIGKILLed at once, as when a node dies; retries (connect failures,
 * resets, 5xx) and outlier detection must keep client-visible errors ≤ 0.1 %. The runtime restarts the
 * processes, and the node's replicas serve again.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalMesh } from '../../../src/runtime/local-mesh.ts'
import { namespacePids } from '../../../src/runtime/netns/commands.ts'
import { sumMetric } from '../../e2e/http-client.ts'
import { errorPercent, type LoadResult, runLoad, summaryLine } from '../load.ts'
import { echoWorkload, until } from '../mesh.ts'

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT } }
---
${echoWorkload('echo-v1', 'echo', 'v1', 4)}---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ingress }
spec: { gatewayClassName: meshwork, listeners: [{ name: http, port: 8080, protocol: HTTP }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo }
spec:
  parentRefs: [{ kind: Gateway, name: ingress }]
  rules:
    - backendRefs: [{ name: echo, port: 9080 }]
      retry: { attempts: 3, backoff: 10ms, codes: [502, 503, 504], onConnectFailure: true }
---
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: echo }
spec:
  targetRef: { name: echo }
  loadBalancer: { type: RoundRobin }
  connectionPool: { connectTimeout: 1s }
  outlierDetection: { consecutive5xx: 2, consecutiveConnectFailures: 1, interval: 1s, baseEjectionTime: 10s, maxEjectionPercent: 50 }
  retryBudget: { ratio: 0.5, minRetriesPerSecond: 50 }
`

export interface NodeLossReport { load: LoadResult, line: string }

export async function runNodeLoss (seconds: number, maxErrorPercent = 0.1): Promise<NodeLossReport> {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-rel-node-loss-'))
  const file = join(dir, 'mesh.yaml')
  writeFileSync(file, MESH)
  const mesh = await startLocalMesh({ files: [file], dataDir: join(dir, 'data'), network: 'pods', nodes: 2, ingressPort: 0, controlPort: 0, echo: null, restartBackoffMs: 1000 })
  try {
    const net = mesh.podNetwork!
    const echo = mesh.apps.filter(a => a.service === 'echo')
    const byNode = (k: number): string[] => echo.filter(a => a.pod!.node === k).map(a => a.id).sort()
    assert.deepEqual(byNode(0), ['echo-v1-0', 'echo-v1-2'])
    assert.deepEqual(byNode(1), ['echo-v1-1', 'echo-v1-3'])
    const ingress = mesh.proxies.find(p => p.role === 'ingress')!
    assert.equal(ingress.pod!.node, 0)
    // the gateway's endpoints of echo are pod addresses on both nodes (two /24s of the run's block), all mTLS
    type Snap = { services: { name: string, endpoints: { id: string, address: string, tls: boolean, healthy: boolean }[] }[] }
    const endpoints = async (): Promise<Snap['services'][number]['endpoints']> => {
      const body = await (await fetch(`${ingress.adminUrl}/config`)).json() as { snapshot: Snap }
      return body.snapshot.services.find(s => s.name === 'echo')?.endpoints ?? []
    }
    await until(async () => { const e = await endpoints(); return e.length === 4 && e.every(x => x.healthy) }, 30_000, '4 healthy echo endpoints at the ingress')
    const eps = await endpoints()
    assert.ok(eps.every(e => e.tls), 'mTLS to every endpoint')
    assert.equal(new Set(eps.map(e => e.address.split('.').slice(0, 3).join('.'))).size, 2, `endpoints on two node subnets: ${eps.map(e => e.address).join(' ')}`)

    const instances: Record<string, number> = {}
    const victims = net.pods().filter(p => p.node === 1)
    const events: string[] = []
    const t0 = Date.now()
    const kill = setTimeout(() => {
      void (async () => {
        const pids = (await Promise.all(victims.map(p => namespacePids(p.netns)))).flat()
        for (const pid of pids) { try { process.kill(pid, 'SIGKILL') } catch {} }
        events.push(`node 1 lost: ${pids.length} processes of ${victims.length} pods SIGKILLed @${Date.now() - t0}ms`)
      })()
    }, seconds * 1000 * 0.3)
    let load: LoadResult
    try {
      load = await runLoad({
        name: 'node-loss',
        port: Number(new URL(mesh.ingressUrl!).port),
        host: 'echo',
        durationMs: seconds * 1000,
        concurrency: 8,
        onReply: r => { const id = (JSON.parse(r.body) as { instance: string }).instance; instances[id] = (instances[id] ?? 0) + 1 }
      })
    } finally {
      clearTimeout(kill)
    }
    const metrics = await (await fetch(ingress.metricsUrl)).text()
    const retries = sumMetric(metrics, 'meshwork_retries_total')
    const ejections = sumMetric(metrics, 'meshwork_outlier_ejections_total')
    const line = summaryLine(load, `nodes=2 retries=${retries} ejections=${ejections} instances=${JSON.stringify(instances)} events=[${events.join('; ')}]`)
    console.log(line)
    assert.equal(events.length, 1, 'the node was killed')
    assert.ok(errorPercent(load) <= maxErrorPercent, `client-visible errors ${errorPercent(load).toFixed(3)}% > ${maxErrorPercent}%: ${JSON.stringify(load.firstFailures)}`)
    assert.ok(load.requests > seconds * 20, `only ${load.requests} requests in ${seconds} s`)
    assert.deepEqual(Object.keys(instances).sort(), ['echo-v1-0', 'echo-v1-1', 'echo-v1-2', 'echo-v1-3'], 'both nodes served')
    // the runtime restarts the lost node's processes in their pods, and they take traffic again
    const lost = echo.filter(a => a.pod!.node === 1)
    await until(() => lost.every(a => a.process.restarts >= 1 && a.sidecar.process.restarts >= 1), 60_000, 'node 1 processes restarted')
    await until(async () => { const e = await endpoints(); return e.length === 4 && e.every(x => x.healthy) }, 60_000, '4 healthy echo endpoints again')
    return { load, line }
  } finally {
    await mesh.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
