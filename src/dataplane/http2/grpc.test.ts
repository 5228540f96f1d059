// gRPC on the codec itself, with the real @grpc/grpc-js in both directions: a grpc-js client against a tiny
// gRPC server built on our server role, and our client role against a grpc-js server. (gRPC through the
// proxy is grpcpath's; these prove the codec carries gRPC's framing, trailers and binary metadata.)
import assert from 'node:assert/strict'
import net, { type AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { H2ClientConnection } from './client.ts'
import { H2ServerConnection } from './server.ts'
import { find } from './testing.ts'

const identity = (b: Buffer): Buffer => b
const BIN = Buffer.from([0, 1, 2, 250, 251, 255])

function frame (msg: Buffer): Buffer {
  const out = Buffer.alloc(5 + msg.length)
  out.writeUInt32BE(msg.length, 1)
  msg.copy(out, 5)
  return out
}

/** A unary gRPC server on our codec: `/test.Echo/Unary` echoes, `/test.Echo/Fail` answers PERMISSION_DENIED trailers-only. */
function startCodecGrpcServer (): Promise<{ port: number, close: () => void }> {
  const conns = new Set<H2ServerConnection>()
  const server = net.createServer(socket => {
    const conn = new H2ServerConnection({
      onStream (stream, head) {
        const chunks: Buffer[] = []
        stream.handler = {
          onData (s, d) { chunks.push(d); s.consumed(d.length) },
          onEnd (s) {
            assert.equal(find(head.headers, 'content-type'), 'application/grpc')
            assert.equal(find(head.headers, 'te'), 'trailers')
            if (head.path === '/test.Echo/Fail') {
              s.respond(200, ['content-type', 'application/grpc', 'grpc-status', '7', 'grpc-message', 'no%20access', 'x-why-bin', BIN.toString('base64')], true)
              return
            }
            const body = Buffer.concat(chunks)
            const msg = body.subarray(5, 5 + body.readUInt32BE(1))
            s.respond(200, ['content-type', 'application/grpc'])
            s.write(frame(Buffer.concat([Buffer.from('echo:'), msg])))
            s.end(['grpc-status', '0', 'grpc-message', '', 'x-trail', 'text', 'x-trail-bin', BIN.toString('base64')])
          },
          onReset () {}
        }
      },
      onClose: () => conns.delete(conn)
    })
    conns.add(conn)
    conn.attach(socket)
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as AddressInfo).port,
    close: () => { for (const c of conns) c.destroy(); server.close() }
  })))
}

describe('grpc-js client → a gRPC server on our server role', () => {
  let srv: { port: number, close: () => void }
  let client: grpc.Client
  before(async () => {
    srv = await startCodecGrpcServer()
    client = new grpc.Client(`127.0.0.1:${srv.port}`, grpc.credentials.createInsecure())
  })
  after(() => { client.close(); srv.close() })

  function unary (path: string, msg: Buffer): Promise<{ err: grpc.ServiceError | null, res?: Buffer, status: grpc.StatusObject }> {
    return new Promise(resolve => {
      let result: { err: grpc.ServiceError | null, res?: Buffer } | null = null
      const call = client.makeUnaryRequest(path, identity, identity, msg, new grpc.Metadata(), (err, res) => { result = { err, res } })
      call.on('status', status => setImmediate(() => resolve({ ...result!, status })))
    })
  }

  test('unary OK with grpc-status 0 and trailing metadata (text and -bin)', async () => {
    const r = await unary('/test.Echo/Unary', Buffer.from('ping'))
    assert.equal(r.err, null)
    assert.equal(r.res?.toString(), 'echo:ping')
    assert.equal(r.status.code, grpc.status.OK)
    assert.deepEqual(r.status.metadata.get('x-trail'), ['text'])
    assert.ok((r.status.metadata.get('x-trail-bin')[0] as Buffer).equals(BIN), '(r.status.metadata.get(\'x-trail-bin\')[0] as Buffer).equals(BIN)')
  })

  test('trailers-only error: code, message and -bin metadata reach the client', async () => {
    const r = await unary('/test.Echo/Fail', Buffer.from('x'))
    assert.equal(r.err?.code, grpc.status.PERMISSION_DENIED)
    assert.equal(r.err?.details, 'no access')
    assert.ok((r.status.metadata.get('x-why-bin')[0] as Buffer).equals(BIN), '(r.status.metadata.get(\'x-why-bin\')[0] as Buffer).equals(BIN)')
  })

  test('200 concurrent calls on one connection', async () => {
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => unary('/test.Echo/Unary', Buffer.from(`m${i}`))))
    rs.forEach((r, i) => assert.equal(r.res?.toString(), `echo:m${i}`))
  })
})

describe('our client role → grpc-js server', () => {
  let server: grpc.Server
  let port = 0
  before(async () => {
    server = new grpc.Server()
    const def = {
      Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
      Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity }
    }
    server.addService(def as unknown as grpc.ServiceDefinition, {
      Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const md = new grpc.Metadata()
        md.set('x-trail', 'text')
        md.set('x-trail-bin', BIN)
        cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), md)
      },
      Fail: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => {
        const md = new grpc.Metadata()
        md.set('x-why-bin', BIN)
        cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', metadata: md } as grpc.ServiceError)
      }
    })
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => err ? reject(err) : resolve(p)))
  })
  after(() => { server.forceShutdown() })

  function call (conn: H2ClientConnection, path: string, msg: Buffer): Promise<{ headers: string[], body: Buffer, trailers: string[] | null }> {
    return new Promise((resolve, reject) => {
      let headers: string[] = []
      const chunks: Buffer[] = []
      const s = conn.request({ method: 'POST', scheme: 'http', authority: `127.0.0.1:${port}`, path, headers: ['content-type', 'application/grpc', 'te', 'trailers'] }, false, {
        onResponse (_s, status, h) { assert.equal(status, 200); headers = h },
        onData (st, d) { chunks.push(d); st.consumed(d.length) },
        onEnd (_s, trailers) { resolve({ headers, body: Buffer.concat(chunks), trailers }) },
        onReset (_s, err) { reject(err) }
      })
      s.write(frame(msg), true)
    })
  }

  test('unary OK: message, grpc-status 0 and trailing metadata (text and -bin) in the trailers', async () => {
    const conn = new H2ClientConnection()
    conn.attach(net.connect({ host: '127.0.0.1', port, onread: conn.onread } as net.NetConnectOpts))
    try {
      for (let i = 0; i < 3; i++) {
        const r = await call(conn, '/test.Echo/Unary', Buffer.from(`hi${i}`))
        assert.equal(r.body.subarray(5).toString(), `echo:hi${i}`)
        assert.equal(find(r.trailers!, 'grpc-status'), '0')
        assert.equal(find(r.trailers!, 'x-trail'), 'text')
        assert.ok(Buffer.from(find(r.trailers!, 'x-trail-bin')!, 'base64').equals(BIN))
      }
    } finally { conn.shutdown() }
  })

  test('an error status arrives as a trailers-only response with its message and -bin metadata', async () => {
    const conn = new H2ClientConnection()
    conn.attach(net.connect({ host: '127.0.0.1', port, onread: conn.onread } as net.NetConnectOpts))
    try {
      const r = await call(conn, '/test.Echo/Fail', Buffer.from('x'))
      const fields = r.trailers ?? r.headers
      assert.equal(find(fields, 'grpc-status'), String(grpc.status.RESOURCE_EXHAUSTED))
      assert.equal(decodeURIComponent(find(fields, 'grpc-message')!), 'slow down')
      assert.ok(Buffer.from(find(fields, 'x-why-bin')!, 'base64').equals(BIN))
    } finally { conn.shutdown() }
  })
})
