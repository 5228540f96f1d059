import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startPrometheus } from './prometheus.ts'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('a real Prometheus scrapes the given targets and answers PromQL rate queries', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-prom-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // Two stand-in proxies exposing a counter that grows while the test runs.
  const servers: http.Server[] = []
  let n = 0
  for (const destination of ['reviews', 'ratings']) {
    const srv = http.createServer((req, res) => {
      n += 10
      const body = req.url === '/metrics'
        ? `# TYPE meshwork_requests_total counter\nmeshwork_requests_total{destination="${destination}",code="200"} ${n}\n`
        : ''
      res.writeHead(req.url === '/metrics' ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' }).end(body)
    })
    srv.listen(0, '127.0.0.1')
    await once(srv, 'listening')
    servers.push(srv)
  }
  t.after(() => { for (const s of servers) s.close() })
  const targets = servers.map((s, i) => ({ address: `127.0.0.1:${(s.address() as { port: number }).port}`, labels: { proxy: `p${i}` } }))

  const prom = await startPrometheus({ dir, targets, scrapeIntervalMs: 1000 })
  t.after(() => prom.stop())
  const pid = prom.process.pid!
  let rates = new Map<string, number>()
  const end = Date.now() + 60_000
  while (Date.now() < end) {
    const result = await prom.query('sum by (destination) (rate(meshwork_requests_total[30s]))')
    rates = new Map(result.map(r => [r.metric.destination, r.value]))
    if (rates.size === 2 && [...rates.values()].every(v => v > 0)) break
    await new Promise(r => setTimeout(r, 500))
  }
  assert.deepEqual([...rates.keys()].sort(), ['ratings', 'reviews'])
  for (const v of rates.values()) assert.ok(v > 0)
  const health = await prom.targetHealth()
  for (const target of targets) assert.equal(health.get(target.address), 'up')
  const labelled = await prom.query('count by (proxy) (up)')
  assert.deepEqual(labelled.map(r => r.metric.proxy).sort(), ['p0', 'p1'])

  await assert.rejects(prom.query('rate('), (err: NodeJS.ErrnoException) => err.code === 'MESH_ERR_RUNTIME_START')
  await prom.stop()
  assert.equal(alive(pid), false)
})
