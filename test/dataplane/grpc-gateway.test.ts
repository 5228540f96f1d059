/**
 * The ingress gateway's own side of gRPC (the call shapes through it are in grpc-mesh.test.ts): ALPN on an HTTPS
 * listener (`tls.mode: Terminate`, PEM files made by openssl), HTTP/1.1 over TLS with and without `TE: trailers`,
 * curl and nghttp reading grpc-status trailers, a gRPC error made by the gateway, a bad certificate NACKed.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { echoClient, type EchoServer, gatewayResources, makeServerCertificate, type Mesh, startEchoServer, startGateway, startMesh, unary } from './grpc-harness.ts'
import type { RunningProxy } from './helpers.ts'

const run = promisify(execFile)
const HOST = 'echo.example.com'
let dir: string
let certFile: string
let app: EchoServer
let mesh: Mesh
let gw: RunningProxy

/** A gRPC unary request body for curl/nghttp: the 5-byte length prefix and EchoRequest{message} in protobuf. */
function grpcFrame (message: string): Buffer {
  const text = Buffer.from(message)
  const pb = Buffer.concat([Buffer.from([0x0a, text.length]), text])
  const prefix = Buffer.alloc(5)
  prefix.writeUInt32BE(pb.length, 1)
  return Buffer.concat([prefix, pb])
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshwork-gw-tls-'))
  const cert = makeServerCertificate(dir, HOST)
  certFile = cert.certFile
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

test('gateway HTTPS listener: ALPN negotiates h2 (and http/1.1 for a client that offers only that)', async () => {
  const ca = readFileSync(certFile)
  const alpn = (protocols: string[]) => new Promise<string | false>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: gw.gateway, servername: HOST, ca, ALPNProtocols: protocols }, () => { resolve(s.alpnProtocol ?? false); s.end() })
    s.on('error', reject)
  })
  assert.equal(await alpn(['h2', 'http/1.1']), 'h2')
  assert.equal(await alpn(['http/1.1']), 'http/1.1')
})

test('a gRPC call to a host the gateway does not route gets UNIMPLEMENTED from the gateway (MESH_ERR_NO_ROUTE), not a bare 404', async () => {
  const c = echoClient(`127.0.0.1:${gw.gateway}`, 'other.example.com')
  try {
    const r = await unary(c, { message: 'x' })
    assert.equal(r.err?.code, 12)
    assert.ok(r.err?.details.startsWith('MESH_ERR_NO_ROUTE: '), r.err?.details)
  } finally {
    c.close()
  }
})

test('gateway, HTTP/1.1 over TLS (ALPN http/1.1): curl reaches the gRPC app, the trailers come back when it sent TE: trailers', async () => {
  const body = join(dir, 'req-h1.bin')
  writeFileSync(body, grpcFrame('from curl over http/1.1'))
  const { stdout } = await run('curl', ['-sS', '--http1.1', '--cacert', certFile, '--resolve', `${HOST}:${gw.gateway}:127.0.0.1`,
    '-D', '-', '-o', '/dev/null', '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', `@${body}`,
    `https://${HOST}:${gw.gateway}/meshwork.test.Echo/Unary`], { encoding: 'utf8' })
  assert.match(stdout, /^HTTP\/1\.1 200/m)
  assert.match(stdout, /^grpc-status: 0/m)
  // without TE: trailers the HTTP/1.1 client did not say it accepts trailers: the h2 peer's trailers are not sent to it
  const without = await run('curl', ['-sS', '--http1.1', '--cacert', certFile, '--resolve', `${HOST}:${gw.gateway}:127.0.0.1`,
    '-D', '-', '-o', '/dev/null', '-H', 'content-type: application/grpc', '--data-binary', `@${body}`,
    `https://${HOST}:${gw.gateway}/meshwork.test.Echo/Unary`], { encoding: 'utf8' })
  assert.match(without.stdout, /^HTTP\/1\.1 200/m)
  assert.doesNotMatch(without.stdout, /grpc-status/)
})

test('gateway: curl --http2-prior-knowledge and nghttp send a gRPC call and read grpc-status from the trailers', async () => {
  const body = join(dir, 'req.bin')
  writeFileSync(body, grpcFrame('from curl'))
  const { stdout } = await run('curl', ['-sS', '--http2-prior-knowledge', '-D', '-', '-o', '/dev/null', '-H', `host: ${HOST}`,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', `@${body}`, `http://127.0.0.1:${gw.gateway}/meshwork.test.Echo/Unary`], { encoding: 'utf8' })
  assert.match(stdout, /^HTTP\/2 200/m)
  assert.match(stdout, /^grpc-status: 0/m)
  const ng = await run('nghttp', ['-v', '-H', `:authority: ${HOST}`, '-H', 'content-type: application/grpc', '-H', 'te: trailers',
    '-d', body, `http://127.0.0.1:${gw.gateway}/meshwork.test.Echo/Unary`], { encoding: 'utf8' })
  assert.match(ng.stdout, /grpc-status: 0/)
  assert.match(ng.stdout, /recv HEADERS frame <length=\d+, flags=0x05/) // the trailers: END_STREAM | END_HEADERS
})

test('an HTTPS listener whose key does not match its certificate: the snapshot is rejected, the last good one keeps serving', async () => {
  const otherKey = join(dir, 'other.key')
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKey], { stdio: 'ignore' })
  const snap = gw.proxy.snapshot!
  const bad = JSON.parse(JSON.stringify(snap))
  bad.version = 'g2'
  bad.gateways[0].spec.listeners[1].tls.certificateRefs[0].keyFile = otherKey
  const r = gw.proxy.applySnapshot(bad)
  assert.equal(r.ok, false)
  if (!r.ok) {
    assert.equal(r.error.code, 'MESH_ERR_SNAPSHOT_REJECTED')
    assert.match(r.error.message, /spec\.listeners\[1\]\.tls\.certificateRefs\[0\]\.keyFile/)
  }
  const c = echoClient(`127.0.0.1:${gw.gateway}`, HOST)
  try {
    assert.equal((await unary(c, { message: 'still' })).err, null)
  } finally {
    c.close()
  }
})
