/**
 * gRPC through two sidecars with mTLS STRICT, real grpc-js on both ends:
 * grpc-js client ─h2c─▶ client sidecar ═mTLS (ALPN h2)═▶ server sidecar ─h2c─▶ grpc-js server.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { DETAIL_BIN, echoClient, type EchoReply, type EchoRequest, type EchoServer, type Mesh, startEchoServer, startMesh, unary } from './grpc-harness.ts'

let app: EchoServer
let mesh: Mesh
let client: grpc.Client

before(async () => {
  app = await startEchoServer('echo-0')
  mesh = await startMesh([app.port])
  client = echoClient(`127.0.0.1:${mesh.client.outbound}`, 'echo:50051')
})

after(async () => {
  client.close()
  await mesh.close()
  await app.close()
})

type Stub = Record<string, (...args: unknown[]) => unknown>

test('unary: the reply, initial and trailing metadata reach the client; the server sees the caller\'s metadata', async () => {
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
  // the call crossed the mTLS hop: the server sidecar saw the client's SPIFFE identity
  const metrics = await (await fetch(`http://127.0.0.1:${mesh.server.admin}/metrics`)).text()
  assert.match(metrics, /meshwork_requests_total\{direction="inbound",source="spiffe:\/\/cluster\.local\/ns\/default\/sa\/client"[^}]*code="200"/)
})

test('every gRPC status code 0–16 reaches the client unchanged, with its message and text and -bin trailing metadata', async () => {
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
  const payload = Buffer.alloc(4 * 1024 * 1024)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff
  const r = await unary(client, { message: 'big', payload, replyBytes: 4 * 1024 * 1024 })
  assert.equal(r.err, null)
  assert.equal(r.reply!.receivedBytes, payload.length)
  assert.equal(r.reply!.payload.length, 4 * 1024 * 1024)
})

test('1,000 concurrent streams on one client connection all complete', async () => {
  const calls = Array.from({ length: 1000 }, (_, i) => unary(client, { message: `c${i}`, delayMs: 200 }))
  const results = await Promise.all(calls)
  const failed = results.filter(r => r.err !== null)
  assert.equal(failed.length, 0, failed[0]?.err?.message)
  assert.deepEqual(new Set(results.map(r => r.reply!.message)).size, 1000)
})
