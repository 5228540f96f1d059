/**
 * A replica killed under load: `echo` runs 3 replicas, each behind its own sidecar; mid-run the app process
 * of one replica is SIGKILLed, later the sidecar process of another. Retries (on 5xx and connect failures)
 * and outlier detection must keep the errors the client sees at or below 0.1 %. The runtime restarts both.
 */
import assert from 'node:assert/strict'
import { errorPercent, runLoad, summaryLine, type LoadResult } from '../load.ts'
import { echoWorkload, startReliabilityMesh, until } from '../mesh.ts'
import { sumMetric } from '../../e2e/http-client.ts'

const MESH = `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT } }
---
${echoWorkload('echo-v1', 'echo', 'v1', 3)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo }
spec:
  parentRefs: [{ kind: Service, name: echo }]
  rules:
    - backendRefs: [{ name: echo }]
      retry: { attempts: 3, backoff: 10ms, codes: [502, 503, 504], onConnectFailure: true }
---
apiVersion: meshwork.dev/v1alpha1
kind: DestinationPolicy
metadata: { name: echo }
spec:
  targetRef: { name: echo }
  loadBalancer: { type: RoundRobin }
  outlierDetection: { consecutive5xx: 2, consecutiveConnectFailures: 1, interval: 1s, baseEjectionTime: 10s, maxEjectionPercent: 50 }
  retryBudget: { ratio: 0.5, minRetriesPerSecond: 50 }
`

export interface ReplicaKillReport { load: LoadResult, instances: Record<string, number>, line: string }

export async function runReplicaKill (seconds: number, maxErrorPercent = 0.1): Promise<ReplicaKillReport> {
  const rm = await startReliabilityMesh('kill', MESH)
  try {
    await rm.waitHealthy('echo', 3)
    const instances: Record<string, number> = {}
    const appVictim = rm.app('echo-v1-1')
    const sidecarVictim = rm.app('echo-v1-2').sidecar
    const events: string[] = []
    const t0 = Date.now()
    const killApp = setTimeout(() => {
      events.push(`app echo-v1-1 (pid ${appVictim.process.pid}) SIGKILL @${Date.now() - t0}ms`)
      process.kill(appVictim.process.pid!, 'SIGKILL')
    }, seconds * 1000 * 0.25)
    const killSidecar = setTimeout(() => {
      events.push(`sidecar echo-v1-2 (pid ${sidecarVictim.process.pid}) SIGKILL @${Date.now() - t0}ms`)
      process.kill(sidecarVictim.process.pid!, 'SIGKILL')
    }, seconds * 1000 * 0.6)
    let load: LoadResult
    try {
      load = await runLoad({
        name: 'replica-kill',
        port: rm.entryPort,
        host: 'echo',
        durationMs: seconds * 1000,
        concurrency: 8,
        onReply: r => { const id = (JSON.parse(r.body) as { instance: string }).instance; instances[id] = (instances[id] ?? 0) + 1 }
      })
    } finally {
      clearTimeout(killApp)
      clearTimeout(killSidecar)
    }
    const metrics = await (await fetch(rm.app('client-v1-0').sidecar.metricsUrl)).text()
    const retries = sumMetric(metrics, 'meshwork_retries_total')
    const ejections = sumMetric(metrics, 'meshwork_outlier_ejections_total')
    const line = summaryLine(load, `retries=${retries} ejections=${ejections} instances=${JSON.stringify(instances)} events=[${events.join('; ')}]`)
    console.log(line)
    assert.equal(events.length, 2, 'both faults were injected')
    assert.ok(errorPercent(load) <= maxErrorPercent, `client-visible errors ${errorPercent(load).toFixed(3)}% > ${maxErrorPercent}%: ${JSON.stringify(load.firstFailures)}`)
    assert.ok(load.requests > seconds * 20, `only ${load.requests} requests in ${seconds} s`)
    assert.ok(retries > 0, 'the faults were absorbed by retries (none counted)')
    assert.deepEqual(Object.keys(instances).sort(), ['echo-v1-0', 'echo-v1-1', 'echo-v1-2'])
    // The runtime brings both back, and they take traffic again.
    await until(() => appVictim.process.restarts >= 1 && sidecarVictim.process.restarts >= 1, 60_000, 'both victims restarted')
    await rm.waitHealthy('echo', 3, 60_000)
    return { load, instances, line }
  } finally {
    await rm.stop()
  }
}
