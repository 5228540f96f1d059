/**
 * Protocol per hop between sidecars (docs/grpc.md): a call keeps the protocol it arrived with (h2 from a gRPC app →
 * h2 to the peer sidecar, HTTP/1.1 → HTTP/1.1), unless the DestinationPolicy's `connectionPool.protocol` says
 * otherwise; what the peer's access log says proves it. Also the gRPC span attributes (OTLP to a real HTTP collector).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { echoClient, type EchoServer, type Mesh, startEchoServer, startMesh, unary } from './grpc-harness.ts'

const run = promisify(execFile)
const meta = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'meshwork.dev/v1alpha1', kind, metadata: { name }, spec })
let dir: string
let logFile: string
let app: EchoServer
let mesh: Mesh
let collector: Server
const spans: Record<string, unknown>[] = []

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshwork-grpc-protocol-'))
  logFile = join(dir, 'inbound.log')
  collector = createServer((req, res) => {
    let body = ''
    req.on('data', d => { body += d })
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }
      for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      res.end('{}')
    })
  })
  await new Promise<void>(resolve => collector.listen(0, '127.0.0.1', resolve))
  const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
  app = await startEchoServer('echo-0')
  mesh = await startMesh([app.port], {
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: true, sampling: 100, otlpEndpoint: otlp }, accessLog: { enabled: true, path: logFile } }
  }, {}, [])
  const base = mesh.client.proxy.snapshot!
  // the same sidecars under three names: as it arrived, always HTTP/1.1, always h2
  const r = mesh.client.proxy.applySnapshot({
    ...JSON.parse(JSON.stringify(base)),
    version: 'c-proto',
    services: ['echo', 'echo-h1', 'echo-h2'].map(name => ({ name, port: 50051, endpoints: mesh.endpoints })),
    destinationPolicies: [
      meta('DestinationPolicy', 'h1', { targetRef: { name: 'echo-h1' }, connectionPool: { protocol: 'http1' } }),
      meta('DestinationPolicy', 'h2', { targetRef: { name: 'echo-h2' }, connectionPool: { protocol: 'h2' } })
    ]
  })
  if (!r.ok) throw r.error
})

after(async () => {
  await mesh.close()
  await app.close()
  collector.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The protocol the server sidecar saw for the last inbound request with this path. */
async function inboundProtocol (path: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    let lines: { path: string, protocol: string }[] = []
    try { lines = readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l)) } catch {}
    const hit = lines.filter(l => l.path === path).at(-1)
    if (hit !== undefined) return hit.protocol
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`no inbound access log line for ${path}`)
}

test('a gRPC call (h2 from the app) goes to the peer sidecar over h2; an HTTP/1.1 call over HTTP/1.1', async () => {
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
  try {
    assert.equal((await unary(c, { message: 'h2' })).err, null)
  } finally {
    c.close()
  }
  assert.equal(await inboundProtocol('/meshwork.test.Echo/Unary'), 'HTTP/2')
  await run('curl', ['-sS', '-o', '/dev/null', '-H', 'host: echo', `http://127.0.0.1:${mesh.client.outbound}/plain-h1`])
  assert.equal(await inboundProtocol('/plain-h1'), 'HTTP/1.1')
})

/** The server sidecar's access log lines (JSON), once there are at least `n`. */
async function logLines (n: number): Promise<{ path: string, protocol: string, grpc_status?: number }[]> {
  for (let i = 0; ; i++) {
    let lines: { path: string, protocol: string, grpc_status?: number }[] = []
    try { lines = readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map(l => JSON.parse(l)) } catch {}
    if (lines.length >= n || i === 100) return lines
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('connectionPool.protocol http1: a gRPC call crosses the sidecars as HTTP/1.1 and still ends whole (status, message, trailing metadata)', async () => {
  const before = (await logLines(0)).length
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo-h1:50051')
  try {
    const r = await unary(c, { message: 'x', status: 6, statusMessage: 'exists' })
    assert.equal(r.err?.code, 6)
    assert.equal(r.err?.details, 'exists')
    assert.deepEqual(r.trailing?.get('x-detail'), ['detail of 6'])
    const ok = await unary(c, { message: 'path-h1', replyBytes: 100_000 })
    assert.equal(ok.reply?.payload.length, 100_000)
  } finally {
    c.close()
  }
  // the access log is written asynchronously: wait for both calls' lines
  const lines = await logLines(before + 2)
  assert.equal(lines.length, before + 2)
  assert.equal(lines.at(-2)!.protocol, 'HTTP/1.1')
  assert.equal(lines.at(-2)!.grpc_status, 6)
  assert.equal(lines.at(-1)!.protocol, 'HTTP/1.1')
  assert.equal(lines.at(-1)!.grpc_status, 0)
})

test('connectionPool.protocol h2: an HTTP/1.1 call crosses the sidecars as h2', async () => {
  await run('curl', ['-sS', '-o', '/dev/null', '-H', 'host: echo-h2', `http://127.0.0.1:${mesh.client.outbound}/plain-to-h2`])
  assert.equal(await inboundProtocol('/plain-to-h2'), 'HTTP/2')
})

test('spans of gRPC calls carry rpc.system, rpc.service, rpc.method and rpc.grpc.status_code', async () => {
  const c = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
  try {
    await unary(c, { message: 'traced', status: 9, statusMessage: 'precondition' })
  } finally {
    c.close()
  }
  const attrs = (s: Record<string, unknown>): Record<string, unknown> => Object.fromEntries((s.attributes as { key: string, value: Record<string, unknown> }[]).map(a => [a.key, Object.values(a.value)[0]]))
  let found: Record<string, unknown> | undefined
  for (let i = 0; i < 100 && found === undefined; i++) {
    found = spans.map(attrs).find(a => a['rpc.grpc.status_code'] === 9 || a['rpc.grpc.status_code'] === '9')
    if (found === undefined) await new Promise(resolve => setTimeout(resolve, 50))
  }
  assert.ok(found !== undefined, 'a span with the gRPC status arrived')
  assert.equal(found['rpc.system'], 'grpc')
  assert.equal(found['rpc.service'], 'meshwork.test.Echo')
  assert.equal(found['rpc.method'], 'Unary')
  const span = spans.find(s => attrs(s)['rpc.grpc.status_code'] !== undefined)!
  assert.equal(span.name, 'meshwork.test.Echo/Unary')
})
