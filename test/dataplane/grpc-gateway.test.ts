/**
 * gRPC through the ingress gateway: h2c (prior knowledge) on an HTTP listener, and h2 over TLS with ALPN on an HTTPS
 * listener (`tls.mode: Terminate`, PEM files), then mTLS STRICT to the server sidecar. Real grpc-js, curl, nghttp,
 * and a certificate made by openssl.
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import * as grpc from '@grpc/grpc-js'
import { echoClient, type EchoReply, type EchoServer, type Mesh, startEchoServer, startGateway, startMesh, unary } from './grpc-harness.ts'
import type { RunningProxy } from './helpers.ts'

const run = promisify(execFile)
const HOST = 'echo.example.com'
let dir: string
let certFile: string
let keyFile: string
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
  certFile = join(dir, 'echo.crt')
  keyFile = join(dir, 'echo.key')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST}`], { stdio: 'ignore' })
  app = await startEchoServer('echo-0')
  mesh = await startMesh([app.port])
  gw = await startGateway(mesh, {
    gateways: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'ingress' },
      spec: {
        listeners: [
          { name: 'http', port: 8080, protocol: 'HTTP' },
          { name: 'https', port: 8443, protocol: 'HTTPS', hostname: HOST, tls: { mode: 'Terminate', certificateRefs: [{ name: 'echo-cert', certFile, keyFile }] } }
        ]
      }
    }],
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'echo' },
      spec: { parentRefs: [{ kind: 'Gateway', name: 'ingress' }], hostnames: [HOST], rules: [{ backendRefs: [{ name: 'echo', port: 50051 }] }] }
    }]
  })
})

after(async () => {
  await gw.close()
  await mesh.close()
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

test('gateway, h2c prior knowledge: unary and server streaming from grpc-js reach the app and come back whole', async () => {
  const c = echoClient(`127.0.0.1:${gw.gateway}`, HOST)
  try {
    const r = await unary(c, { message: 'via gateway h2c', status: 5, statusMessage: 'not here' })
    assert.equal(r.err?.code, 5)
    assert.equal(r.err?.details, 'not here')
    const ok = await unary(c, { message: 'ok' })
    assert.equal(ok.reply?.servedBy, 'echo-0')
    const call = (c as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<EchoReply>>).ServerStream({ count: 20, replyBytes: 100 })
    const got: EchoReply[] = []
    call.on('data', (m: EchoReply) => got.push(m))
    call.on('error', () => {})
    const status = await new Promise<grpc.StatusObject>(resolve => call.on('status', resolve))
    assert.equal(status.code, 0)
    assert.equal(got.length, 20)
  } finally {
    c.close()
  }
})

test('gateway, h2 over TLS: ALPN negotiates h2, grpc-js with TLS credentials gets its calls through', async () => {
  const ca = await import('node:fs').then(fs => fs.readFileSync(certFile))
  const alpn = await new Promise<string | false>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: gw.gateway, servername: HOST, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => { resolve(s.alpnProtocol ?? false); s.end() })
    s.on('error', reject)
  })
  assert.equal(alpn, 'h2')
  const c = echoClient(`127.0.0.1:${gw.gateway}`, HOST, { 'grpc.ssl_target_name_override': HOST }, grpc.credentials.createSsl(ca))
  try {
    const r = await unary(c, { message: 'via gateway tls', replyBytes: 64 * 1024 })
    assert.equal(r.err, null)
    assert.equal(r.reply!.payload.length, 64 * 1024)
    const e = await unary(c, { message: 'x', status: 14, statusMessage: 'try later' })
    assert.equal(e.err?.code, 14)
    assert.equal(e.err?.details, 'try later')
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
