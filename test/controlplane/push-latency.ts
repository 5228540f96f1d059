/**
 * Push latency at scale: N in-process proxies (FakeProxy: the proxy's own checkSnapshot) on one control
 * plane; each round applies a route change and times apply → every proxy ACKed.
 * Usage: node --import tsx test/controlplane/push-latency.ts [proxies=50] [rounds=20]
 */
import { startControlPlane } from '../../src/controlplane/index.ts'
import { startConfigClient } from '../../src/dataplane/config-client.ts'
import { FakeProxy, MESH, until } from './helpers.ts'

const n = Number(process.argv[2] ?? 50)
const rounds = Number(process.argv[3] ?? 20)
const cp = await startControlPlane({ files: [MESH], port: 0 })
const clients = Array.from({ length: n }, (_, i) => startConfigClient(new FakeProxy(), {
  url: cp.url, id: `backend-${i}`, service: 'backend', version: i % 2 === 0 ? 'v1' : 'v2', inbound: { host: '127.0.0.1', port: 20000 + i }, identity: false
}))
await Promise.all(clients.map(c => c.ready))
await cp.waitForSync(10_000)
const times: number[] = []
for (let r = 0; r < rounds; r++) {
  const start = performance.now()
  const res = await cp.apply(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: backend }
spec:
  parentRefs: [{ kind: Service, name: backend }]
  rules: [{ backendRefs: [{ name: backend-v1, weight: ${r + 1} }, { name: backend-v2, weight: 10 }] }]
`, 'bench.yaml')
  if (!res.ok) throw new Error(JSON.stringify(res.problems))
  await until(() => cp.registry.connected().every(p => p.ackedVersion === res.version), 10_000, 'all ACKs')
  times.push(performance.now() - start)
}
times.sort((a, b) => a - b)
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1)
const snapBytes = JSON.stringify(cp.streams.streams.size > 0 ? cp.registry.view.resources : []).length
console.log(`push latency, apply → ${n} proxies ACKed, ${rounds} rounds: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms (mesh config ≈ ${snapBytes} bytes)`)
await Promise.all(clients.map(c => c.close()))
await cp.close()
