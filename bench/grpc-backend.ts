/**
 * The gRPC backend of bench/grpc-overhead.ts, one process: `/bench.Echo/Unary` answers every call with a
 * 100-byte message and grpc-status 0, after reading the request message. `grpc-js` (default) is a real
 * @grpc/grpc-js server; `codec` is the same service on Meshwork's HTTP/2 codec (src/dataplane/http2/), for
 * when grpc-js would be the bottleneck. Listens on 127.0.0.1:<port> (0: any; the port is printed on stdout).
 *
 * Run: node test-artifacts/grpc-overhead/grpc-backend.js grpc-js|codec [port]
 */
import net, { type AddressInfo } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { H2ServerConnection } from '../src/dataplane/http2/index.ts'

const REPLY = Buffer.alloc(100, 0x62)
const mode = process.argv[2] ?? 'grpc-js'
const port = Number(process.argv[3] ?? 0)

if (mode === 'grpc-js') {
  const identity = (b: Buffer): Buffer => b
  const server = new grpc.Server()
  const def = { Unary: { path: '/bench.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } }
  server.addService(def as unknown as grpc.ServiceDefinition, {
    Unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, REPLY)
  })
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
    if (err) throw err
    console.log(bound)
  })
} else {
  const framed = Buffer.alloc(5 + REPLY.length)
  framed.writeUInt32BE(REPLY.length, 1)
  REPLY.copy(framed, 5)
  const HEAD = ['content-type', 'application/grpc']
  const OK = ['grpc-status', '0']
  const server = net.createServer(socket => {
    new H2ServerConnection({
      onStream (stream) {
        stream.handler = {
          onData (s, d) { s.consumed(d.length) },
          onEnd (s) { s.respond(200, HEAD); s.write(framed); s.end(OK) },
          onReset () {}
        }
      }
    }).attach(socket)
  })
  server.listen(port, '127.0.0.1', () => console.log((server.address() as AddressInfo).port))
}
