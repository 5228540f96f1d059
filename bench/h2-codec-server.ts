/**
 * The servers bench/h2-codec.ts compares (one process each): `node` — node:http2 — or `codec` — our codec's
 * server role. Both answer every request with 200, `content-type: text/plain` and 100 bytes, after reading
 * the request body. Prints the port on stdout.
 *
 * Run: node test-artifacts/h2-codec/h2-codec-server.js node|codec
 */
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import { H2ServerConnection } from '../src/dataplane/http2/index.ts'

const BODY = Buffer.from('x'.repeat(99) + '\n')
const HEADERS = ['content-type', 'text/plain', 'content-length', '100']
const mode = process.argv[2]

let server: net.Server
if (mode === 'node') {
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } })
  h2.on('stream', stream => {
    stream.on('data', () => {})
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 100 })
      stream.end(BODY)
    })
    stream.on('error', () => {})
  })
  server = h2
} else {
  server = net.createServer(socket => {
    new H2ServerConnection({
      onStream (stream) {
        stream.handler = {
          onData (s, d) { s.consumed(d.length) },
          onEnd (s) { s.respond(200, HEADERS); s.write(BODY, true) },
          onReset () {}
        }
      }
    }).attach(socket)
  })
}
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port))
