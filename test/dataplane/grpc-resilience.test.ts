/**
 * Resiliency for gRPC through two sidecars (mTLS STRICT), grpc-js on both ends:
 * - every error the proxy makes reaches a gRPC client as a gRPC status (HTTP 200, trailers-only, `grpc-message`
 *   starting with the MESH_ERR code), on every failure path, never a bare 503;
 * - retries on gRPC status (`retry.grpcCodes`) only for replayable requests;
 * - `grpc-timeout` merged with `meshwork-timeout` and the route timeout, forwarded, a spent budget ended at once.
 */
import assert from 'node:assert/strict'
import { createServer as createH2Server, type Http2Server } from 'node:http2'
import { createServer as createTcpServer, type Server } from 'node:net'
import { after, before, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { echoClient, type EchoReply, type EchoRequest, type EchoServer, type Mesh, startEchoServer, startMesh, startServerSidecar, unary } from './grpc-harness.ts'
import type { RunningProxy } from './helpers.ts'

const meta = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'meshwork.dev/v1alpha1', kind, metadata: { name }, spec })
const route = (name: string, rule: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name }], rules: [{ backendRefs: [{ name }], ...rule }] }
})

let app: EchoServer
let mesh: Mesh
const sidecars: RunningProxy[] = []
let resetter: Server // accepts and closes at once: a reset before any response byte
let midReset: Http2Server // answers a gRPC head and a message, then resets the stream
let hanging: Http2Server // takes the call and never answers (ignores grpc-timeout)
let closedPort: number
let client: grpc.Client

before(async () => {
  app = await startEchoServer('echo-0')
  mesh = await startMesh([app.port])
  resetter = createTcpServer(s => s.destroy())
  await new Promise<void>(resolve => resetter.listen(0, '127.0.0.1', resolve))
  midReset = createH2Server()
  midReset.on('stream', stream => {
    stream.on('error', () => {}) // its own reset
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' })
    const msg = Buffer.from([0, 0, 0, 0, 2, 0x0a, 0x00]) // one EchoReply{message: ''}
    stream.write(msg, () => setTimeout(() => stream.close(2 /* INTERNAL_ERROR */), 20))
  })
  await new Promise<void>(resolve => midReset.listen(0, '127.0.0.1', resolve))
  hanging = createH2Server()
  hanging.on('stream', stream => { stream.on('error', () => {}) })
  await new Promise<void>(resolve => hanging.listen(0, '127.0.0.1', resolve))
  const probe = createTcpServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  closedPort = (probe.address() as { port: number }).port
  await new Promise<void>(resolve => probe.close(() => resolve()))

  const side = async (id: string, port: number, extra: Record<string, unknown> = {}) => {
    const s = await startServerSidecar(mesh, id, port, extra)
    sidecars.push(s.proxy)
    return s.endpoint
  }
  const svc = (name: string, endpoints: unknown[]) => ({ name, port: 50051, endpoints })
  const services = [
    svc('echo', mesh.endpoints),
    svc('circuit', mesh.endpoints),
    svc('no-budget', mesh.endpoints),
    svc('slow', mesh.endpoints),
    svc('denied', [await side('denied-0', app.port, { authorizationPolicies: [meta('AuthorizationPolicy', 'deny-all', { targetRef: { name: 'echo' }, action: 'DENY', rules: [{}] })] })]),
    svc('limited', [await side('limited-0', app.port, { rateLimitPolicies: [meta('RateLimitPolicy', 'one', { targetRef: { name: 'echo' }, local: { requestsPerUnit: 1, unit: 'minute' } })] })]),
    svc('faulty', [await side('faulty-0', app.port, { faultInjections: [meta('FaultInjection', 'grpc', { targetRef: { name: 'echo' }, abort: { grpcStatus: 'UNAVAILABLE', percentage: 100 } })] })]),
    svc('faulty-http', [await side('faulty-http-0', app.port, { faultInjections: [meta('FaultInjection', 'http', { targetRef: { name: 'echo' }, abort: { httpStatus: 429, percentage: 100 } })] })]),
    svc('resetting', [await side('resetting-0', (resetter.address() as { port: number }).port)]),
    svc('mid-reset', [await side('mid-reset-0', (midReset.address() as { port: number }).port)]),
    svc('hanging', [await side('hanging-0', (hanging.address() as { port: number }).port)]),
    svc('dead', [{ ...mesh.endpoints[0] as object, id: 'dead-0', port: closedPort }]),
    svc('empty', [])
  ]
  const r = mesh.client.proxy.applySnapshot({
    version: 'c-res',
    node: { id: 'client-v1-0', service: 'client' },
    mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services,
    routes: [
      route('echo', { retry: { attempts: 2, backoff: '1ms', codes: [], onConnectFailure: false, grpcCodes: ['unavailable'] } }),
      route('no-budget', { retry: { attempts: 2, backoff: '1ms', codes: [], onConnectFailure: false, grpcCodes: ['unavailable'] } }),
      route('slow', { timeouts: { request: '300ms' } }),
      route('hanging', { timeouts: { request: '300ms' } })
    ],
    destinationPolicies: [
      meta('DestinationPolicy', 'circuit', { targetRef: { name: 'circuit' }, connectionPool: { maxRequests: 1 } }),
      meta('DestinationPolicy', 'no-budget', { targetRef: { name: 'no-budget' }, retryBudget: { ratio: 0, minRetriesPerSecond: 0 } })
    ]
  })
  if (!r.ok) throw r.error
  client = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
})

after(async () => {
  client.close()
  await mesh.close()
  for (const s of sidecars) await s.close()
  await app.close()
  resetter.close()
  midReset.close()
  hanging.close()
})

/** A unary call to `service` (its own client: one authority per channel). */
async function callTo (service: string, req: EchoRequest, options: grpc.CallOptions = {}, md = new grpc.Metadata()) {
  const c = service === 'echo' ? client : echoClient(`127.0.0.1:${mesh.client.outbound}`, `${service}:50051`)
  try {
    return await unary(c, req, md, options)
  } finally {
    if (c !== client) c.close()
  }
}

/** The call failed with `code`, and the proxy said which MESH_ERR it was (grpc-message and x-meshwork-error). */
function assertProxyError (r: Awaited<ReturnType<typeof callTo>>, code: number, meshCode: string): void {
  assert.ok(r.err !== null, `expected gRPC status ${code} (${meshCode}), got OK`)
  assert.equal(r.err.code, code, `${meshCode}: ${r.err.details}`)
  assert.ok(r.err.details.startsWith(meshCode + ': '), r.err.details)
  assert.deepEqual(r.trailing?.get('x-meshwork-error'), [meshCode])
}

test('proxy errors are gRPC statuses: no route, authz deny, rate limit, no healthy upstream, connect failure, reset, fault abort', async () => {
  assertProxyError(await callTo('nowhere', { message: 'x' }), 12, 'MESH_ERR_NO_ROUTE')
  assertProxyError(await callTo('denied', { message: 'x' }), 7, 'MESH_ERR_FORBIDDEN')
  assert.equal((await callTo('limited', { message: 'first' })).err, null)
  assertProxyError(await callTo('limited', { message: 'second' }), 8, 'MESH_ERR_RATE_LIMITED')
  assertProxyError(await callTo('empty', { message: 'x' }), 14, 'MESH_ERR_NO_HEALTHY_UPSTREAM')
  assertProxyError(await callTo('dead', { message: 'x' }), 14, 'MESH_ERR_UPSTREAM_CONNECT')
  assertProxyError(await callTo('resetting', { message: 'x' }), 14, 'MESH_ERR_UPSTREAM_RESET')
  assertProxyError(await callTo('faulty', { message: 'x' }), 14, 'MESH_ERR_FAULT_ABORT')
  // an HTTP-status abort reaches a gRPC client as the gRPC status gRPC maps it to (429 → UNAVAILABLE)
  assertProxyError(await callTo('faulty-http', { message: 'x' }), 14, 'MESH_ERR_FAULT_ABORT')
})

test('circuit open (maxRequests 1): the second concurrent call gets RESOURCE_EXHAUSTED at once', async () => {
  const [slow, second] = await Promise.all([callTo('circuit', { message: 'hold', delayMs: 300 }), new Promise<Awaited<ReturnType<typeof callTo>>>(resolve => setTimeout(() => resolve(callTo('circuit', { message: 'x' })), 100))])
  assert.equal(slow.err, null)
  assertProxyError(second, 8, 'MESH_ERR_CIRCUIT_OPEN')
})

test('a reset after the response started becomes RST_STREAM: the gRPC client sees INTERNAL, never a hang', async () => {
  const t0 = Date.now()
  const r = await callTo('mid-reset', { message: 'x' }, { deadline: Date.now() + 5000 })
  assert.equal(r.err?.code, 13, r.err?.details)
  assert.ok(Date.now() - t0 < 3000)
})

test('route timeout: the app\'s gRPC library enforces the forwarded budget; an app that ignores it gets the proxy\'s DEADLINE_EXCEEDED', async () => {
  // grpc-js on the app side got grpc-timeout ≈ 300 ms from the proxy and ended the call itself
  const byApp = await callTo('slow', { message: 'x', delayMs: 1000 })
  assert.equal(byApp.err?.code, 4)
  // an app that never answers: the proxy's own route timeout ends the call
  const t0 = Date.now()
  const hung = await callTo('hanging', { message: 'x' })
  // Two timers end this call within ~2 ms of each other by design: the client sidecar's route timeout
  // (MESH_ERR_UPSTREAM_TIMEOUT) and the server sidecar's copy of the budget it was forwarded, 1 ms shorter but
  // started a hop later (MESH_ERR_DEADLINE_EXCEEDED). Either proxy may answer first; both answer DEADLINE_EXCEEDED.
  const meshCode = hung.trailing?.get('x-meshwork-error')[0] === 'MESH_ERR_DEADLINE_EXCEEDED' ? 'MESH_ERR_DEADLINE_EXCEEDED' : 'MESH_ERR_UPSTREAM_TIMEOUT'
  assertProxyError(hung, 4, meshCode)
  assert.ok(Date.now() - t0 < 1000)
})

test('retry on a gRPC status of a trailers-only response (grpcCodes: unavailable): replayed, the client sees OK', async () => {
  const before = app.calls.Unary ?? 0
  const r = await callTo('echo', { message: 'fail-times:2:retry-a' })
  assert.equal(r.err, null, r.err?.details)
  assert.equal((app.calls.Unary ?? 0) - before, 3, 'two failures, then the third try succeeded')
  const metrics = await (await fetch(`http://127.0.0.1:${mesh.client.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_retries_total\{direction="outbound",source="client",destination="echo",route="echo"\} [1-9]/)
  // three failures are more than attempts: 2 allows
  const e = await callTo('echo', { message: 'fail-times:3:retry-b' })
  assert.equal(e.err?.code, 14)
})

test('gRPC retries stay within the retry budget: an empty budget means the failure reaches the client', async () => {
  const before = app.calls.Unary ?? 0
  const r = await callTo('no-budget', { message: 'fail-times:1:budget-a' })
  assert.equal(r.err?.code, 14)
  assert.equal((app.calls.Unary ?? 0) - before, 1, 'no retry without budget')
})

test('a streaming request whose body outgrew the replay buffer is not retried', async () => {
  const before = app.calls.ClientStream ?? 0
  const r = await new Promise<grpc.ServiceError | null>(resolve => {
    const call = (client as unknown as Record<string, (cb: (e: grpc.ServiceError | null, r: EchoReply) => void) => grpc.ClientWritableStream<EchoRequest>>)
      .ClientStream(err => resolve(err))
    for (let i = 0; i < 10; i++) call.write({ message: 'fail-times:1:stream-a', payload: Buffer.alloc(10_000) })
    call.end()
  })
  assert.equal(r?.code, 14, 'the failure reached the client')
  assert.equal((app.calls.ClientStream ?? 0) - before, 1, '100 KB of body is over MAX_REPLAY_BYTES: no second try')
})

test('grpc-timeout is honoured and forwarded: the app sees the remaining budget, merged with the route timeout', async () => {
  // the client's deadline (grpc-js sends grpc-timeout) is the tighter one
  await callTo('echo', { message: 'x' }, { deadline: Date.now() + 2000 })
  assert.ok(app.lastBudgetMs > 1500 && app.lastBudgetMs <= 2000, `app budget ${app.lastBudgetMs} ms`)
  // meshwork-timeout and grpc-timeout are one deadline: the smaller wins
  const md = new grpc.Metadata()
  md.set('meshwork-timeout', '700m')
  await callTo('echo', { message: 'x' }, { deadline: Date.now() + 5000 }, md)
  assert.ok(app.lastBudgetMs > 400 && app.lastBudgetMs <= 700, `app budget ${app.lastBudgetMs} ms`)
  assert.match(String(app.lastMetadata!.get('meshwork-timeout')[0]), /^\d{1,8}[nu m]$/)
  // the route timeout (300 ms on `slow`) is tighter than the client's 5 s
  await callTo('slow', { message: 'x' }, { deadline: Date.now() + 5000 })
  assert.ok(app.lastBudgetMs > 100 && app.lastBudgetMs <= 300, `app budget ${app.lastBudgetMs} ms`)
})

test('a call slower than the caller\'s budget ends with DEADLINE_EXCEEDED (MESH_ERR_DEADLINE_EXCEEDED from the proxy)', async () => {
  const md = new grpc.Metadata()
  md.set('meshwork-timeout', '200m')
  // grpc-js would cancel by itself at its own deadline: give it a longer one, the proxy's 200 ms must end the call
  const t0 = Date.now()
  assertProxyError(await callTo('hanging', { message: 'x' }, { deadline: Date.now() + 5000 }, md), 4, 'MESH_ERR_DEADLINE_EXCEEDED')
  assert.ok(Date.now() - t0 < 1000)
})

test('a spent budget ends the call at once with DEADLINE_EXCEEDED, without calling upstream', async () => {
  const before = app.calls.Unary ?? 0
  const md = new grpc.Metadata()
  md.set('meshwork-timeout', '0n')
  const t0 = Date.now()
  assertProxyError(await callTo('echo', { message: 'x' }, {}, md), 4, 'MESH_ERR_DEADLINE_EXCEEDED')
  assert.ok(Date.now() - t0 < 500)
  assert.equal(app.calls.Unary ?? 0, before, 'the app was not called')
})

test('golden metrics carry the gRPC status of each call (grpc_status label)', async () => {
  await callTo('echo', { message: 'x', status: 5, statusMessage: 'nope' })
  const metrics = await (await fetch(`http://127.0.0.1:${mesh.client.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_requests_total\{direction="outbound",source="client",destination="echo"[^}]*code="200",class="2xx",grpc_status="5"\} [1-9]/)
  assert.match(metrics, /meshwork_requests_total\{direction="outbound",source="client",destination="echo"[^}]*code="200",class="2xx",grpc_status="0"\} [1-9]/)
  // the proxy's own gRPC errors too (no route: UNIMPLEMENTED)
  assert.match(metrics, /meshwork_requests_total\{direction="outbound"[^}]*code="200",class="2xx",grpc_status="12"\} [1-9]/)
  const inbound = await (await fetch(`http://127.0.0.1:${mesh.server.admin}/metrics`)).text()
  assert.match(inbound, /meshwork_requests_total\{direction="inbound"[^}]*grpc_status="5"\} [1-9]/)
})
