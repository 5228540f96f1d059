// Bookinfo `stars`: the ratings of reviews v3, served over gRPC (bookinfo.stars.v1.Stars/GetStars, stars.proto).
// One port ($PORT) for both: gRPC (h2c, what the sidecar sends, Workload protocol: h2) and `/healthz` over
// HTTP/1.1 (what the runtime's and the sidecar's readiness probes send), told apart by the first bytes.
import http from 'node:http'
import net from 'node:net'
import { grpc, starsPackage } from './grpc.mjs'
import { identity } from './lib.mjs'

const STARS = { Reviewer1: 5, Reviewer2: 4 }
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n')

const server = new grpc.Server()
server.addService(starsPackage.Stars.service, {
  getStars (call, callback) {
    const id = call.request.productId
    if (id !== 0) return callback({ code: grpc.status.NOT_FOUND, details: `no product ${id}` })
    callback(null, { productId: id, stars: STARS, version: identity.version, instance: identity.instance })
  }
})
const grpcConnections = server.createConnectionInjector(grpc.ServerCredentials.createInsecure())

const health = http.createServer((req, res) => {
  const ok = req.url === '/healthz'
  res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'gRPC only: bookinfo.stars.v1.Stars\n')
})

// Perf: each connection is sniffed once (its first bytes), then handed over whole; nothing is copied after that.
const front = net.createServer(socket => {
  let head = Buffer.alloc(0)
  const onData = chunk => {
    head = Buffer.concat([head, chunk])
    const n = Math.min(head.length, H2_PREFACE.length)
    if (n < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return // need more bytes
    socket.off('data', onData)
    socket.pause()
    socket.unshift(head)
    // node:http2 reads what is already buffered when it takes the socket over; node:http needs it flowing again
    if (head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
      grpcConnections.injectConnection(socket)
    } else {
      health.emit('connection', socket)
      socket.resume()
    }
  }
  socket.on('data', onData)
  socket.on('error', () => socket.destroy())
})

const port = Number(process.env.PORT || 9080)
front.listen(port, process.env.HOST || '127.0.0.1', () => {
  process.stdout.write(`${identity.service} ${identity.version} (${identity.instance}) listening on ${front.address().port} (gRPC h2c + HTTP/1.1 /healthz)\n`)
})

const stop = () => {
  front.close()
  grpcConnections.destroy()
  server.forceShutdown()
  health.closeAllConnections()
  setTimeout(() => process.exit(0), 200).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
if (process.env.MESHWORK_EXIT_ON_STDIN_EOF === '1') process.stdin.on('end', stop).on('error', stop).resume()
