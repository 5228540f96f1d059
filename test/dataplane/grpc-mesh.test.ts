/**
 * gRPC end to end with real grpc-js on both ends, through each way in:
 * - client sidecar:      grpc-js ─h2c─▶ client sidecar (outbound) ═mTLS STRICT, ALPN h2═▶ server sidecar ─h2c─▶ grpc-js
 * - gateway, h2c:        grpc-js ─h2c─▶ ingress gateway ═mTLS STRICT, ALPN h2═▶ server sidecar ─h2c─▶ grpc-js
 * - gateway, h2 over TLS: grpc-js ─TLS, ALPN h2 (HTTPS listener)─▶ ingress gateway ═mTLS═▶ server sidecar ─h2c─▶ grpc-js
 * Every path runs the same suite: call shapes, statuses 0–16 with metadata, 4 MB messages, 1,000 concurrent streams.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { DETAIL_BIN, echoClient, type EchoReply, type EchoRequest, type EchoServer, gatewayResources, makeServerCertificate, type Mesh, startEchoServer, startGateway, startMesh, unary } from './grpc-harness.ts'
import type { RunningProxy } from './helpers.ts'

const HOST = 'echo.example.com'
let dir: string
let app: EchoServer
let mesh: Mesh
let gw: RunningProxy
let caPem: Buffer

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshwork-grpc-mesh-'))
  const cert = makeServerCertificate(dir, HOST)
  caPem = readFileSync(cert.certFile)
  app = await startEchoServer('echo-0')
  mesh = await startMesh([app.port])
  gw = await startGateway(mesh, gatewayResources(HOST, cert))
})

after(async () => {
  await gw.close()
  await mesh.close()
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

const PATHS: [string, () => grpc.Client][] = [
  ['client sidecar (h2c)', () => echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')],
  ['gateway (h2c)', () => echoClient(`127.0.0.1:${gw.gateway}`, HOST)],
  ['gateway (h2 over TLS, ALPN)', () => echoClient(`127.0.0.1:${gw.gateway}`, HOST, { 'grpc.ssl_target_name_override': HOST }, grpc.credentials.createSsl(caPem))]
]

for (const [pathName, makeClient] of PATHS) {
  describe(`gRPC through the ${pathName}`, () => {
    let client: grpc.Client
    before(() => { client = makeClient() })
    after(() => client.close())
    suite(() => client)
  })
}

function suite (getClient: () => grpc.Client): void {
  type Stub = Record<string, (...args: unknown[]) => unknown>

  test('unary: the reply, initial and trailing metadata reach the client; the server sees the caller\'s metadata', async () => {
    const client = getClient()
    const md = new grpc.Metadata()
    md.set('x-echo', 'hello')
    md.set('x-req-bin', Buffer.from([1, 2, 3, 0xff]))
    const r = await unary(client, { message: 'ping', replyBytes: 10 }, md)
    assert.equal(r.err, null)
    assert.equal(r.reply!.message, 'ping')
    assert.equal(r.reply!.servedBy, 'echo-0')
    assert.equal(r.reply!.payload.length, 10)
    assert.deepEqual(r.initial!.get('x-initial'), ['yes'])
    assert.deepEqual(r.trailing!.get('x-echo'), ['hello'])
    assert.deepEqual(app.lastMetadata!.get('x-req-bin'), [Buffer.from([1, 2, 3, 0xff])])
    // the call crossed the mTLS hop: the server sidecar saw the caller's SPIFFE identity (client sidecar or gateway)
    const metrics = await (await fetch(`http://127.0.0.1:${mesh.server.admin}/metrics`)).text()
    assert.match(metrics, /meshwork_requests_total\{direction="inbound",source="spiffe:\/\/cluster\.local\/ns\/default\/sa\/(client|ingress)"[^}]*code="200"/)
  })

  test('every gRPC status code 0–16 reaches the client unchanged, with its message and text and -bin trailing metadata', async () => {
    const client = getClient()
    for (let code = 0; code <= 16; code++) {
      const md = new grpc.Metadata()
      md.set('x-echo', `call-${code}`)
      const message = code === 0 ? '' : `status ${code}: ünïcode % and spaces`
      const r = await unary(client, { message: 'x', status: code, statusMessage: message }, md)
      if (code === 0) {
        assert.equal(r.err, null)
      } else {
        assert.ok(r.err !== null, `code ${code}: an error`)
        assert.equal(r.err.code, code, `code ${code}`)
        assert.equal(r.err.details, message, `message of ${code}`)
        assert.deepEqual(r.trailing!.get('x-detail'), [`detail of ${code}`], `text metadata of ${code}`)
        assert.deepEqual(r.trailing!.get('x-detail-bin'), [DETAIL_BIN], `-bin metadata of ${code}`)
      }
      assert.deepEqual(r.trailing!.get('x-echo'), [`call-${code}`], `echoed metadata of ${code}`)
    }
  })

  test('server streaming: every message in order, then the status and trailing metadata', async () => {
    const client = getClient()
    const md = new grpc.Metadata()
    md.set('x-echo', 'stream')
    const call = (client as unknown as Stub).ServerStream({ message: 's', count: 50, replyBytes: 1000, status: 9, statusMessage: 'after the stream' }, md) as grpc.ClientReadableStream<EchoReply>
    const got: number[] = []
    call.on('error', () => {}) // the status below says it
    call.on('data', (r: EchoReply) => got.push(r.index))
    const status = await new Promise<grpc.StatusObject>(resolve => call.on('status', resolve))
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i))
    assert.equal(status.code, 9)
    assert.equal(status.details, 'after the stream')
    assert.deepEqual(status.metadata.get('x-echo'), ['stream'])
    assert.deepEqual(status.metadata.get('x-detail-bin'), [DETAIL_BIN])
  })

  test('client streaming: every request message reaches the server, one reply and OK come back', async () => {
    const client = getClient()
    const r = await new Promise<{ err: grpc.ServiceError | null, reply: EchoReply }>(resolve => {
      const call = (client as unknown as Stub).ClientStream((err: grpc.ServiceError | null, reply: EchoReply) => resolve({ err, reply })) as grpc.ClientWritableStream<EchoRequest>
      for (let i = 0; i < 20; i++) call.write({ message: `m${i}`, payload: Buffer.alloc(5000, i) })
      call.end()
    })
    assert.equal(r.err, null)
    assert.equal(r.reply.index, 20)
    assert.equal(r.reply.receivedBytes, 100_000)
    assert.equal(r.reply.message, 'm19')
  })

  test('bidi streaming: request and reply messages interleave, then the status', async () => {
    const client = getClient()
    const call = (client as unknown as Stub).Bidi() as grpc.ClientDuplexStream<EchoRequest, EchoReply>
    const replies: string[] = []
    const done = new Promise<grpc.StatusObject>(resolve => call.on('status', resolve))
    // send the next message only after the reply to the previous one: proves both directions stream (no buffering to the end)
    await new Promise<void>(resolve => {
      let n = 0
      call.on('data', (r: EchoReply) => {
        replies.push(r.message)
        if (++n < 10) call.write({ message: `b${n}` })
        else { call.end(); resolve() }
      })
      call.write({ message: 'b0' })
    })
    const status = await done
    assert.deepEqual(replies, Array.from({ length: 10 }, (_, i) => `b${i}`))
    assert.equal(status.code, 0)
  })

  test('4 MB messages both ways (unary), unchanged', async () => {
    const client = getClient()
    const payload = Buffer.alloc(4 * 1024 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
    const r = await unary(client, { message: 'big', payload, replyBytes: 4 * 1024 * 1024 })
    assert.equal(r.err, null)
    assert.equal(r.reply!.receivedBytes, payload.length)
    assert.equal(r.reply!.payload.length, 4 * 1024 * 1024)
  })

  test('1,000 concurrent streams on one client connection all complete', async () => {
    const client = getClient()
    const calls = Array.from({ length: 1000 }, (_, i) => unary(client, { message: `c${i}`, delayMs: 200 }))
    const results = await Promise.all(calls)
    const failed = results.filter(r => r.err !== null)
    assert.equal(failed.length, 0, failed[0]?.err?.message)
    assert.deepEqual(new Set(results.map(r => r.reply!.message)).size, 1000)
  })
}
