// The load generator's gRPC mode against a real @grpc/grpc-js server: closed and open loop, h2c and TLS,
// outcomes counted per grpc-status, and how SMP records it.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import { createRootCa, issueTestIdentity } from '../../pki/index.ts'
import { toSmp } from '../smp.ts'
import { captureEnvironment } from '../environment.ts'
import { runLoad } from './run.ts'

const identity = (b: Buffer): Buffer => b
const servers: grpc.Server[] = []
let plainPort = 0
let tlsPort = 0
let calls = 0
const sizes = new Set<number>()

function service (server: grpc.Server): void {
  const def = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity })
  server.addService({ Unary: def('/bench.Echo/Unary'), Flaky: def('/bench.Echo/Flaky') } as unknown as grpc.ServiceDefinition, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => { sizes.add(call.request.length); cb(null, call.request) },
    // every third call fails with UNAVAILABLE
    Flaky: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (++calls % 3 === 0) cb({ code: grpc.status.UNAVAILABLE, details: 'try again' } as grpc.ServiceError)
      else cb(null, call.request)
    }
  })
}

before(async () => {
  const root = await createRootCa({ commonName: 'grpc bench test', ttlMs: 3600_000 })
  const id = await issueTestIdentity(root, 'spiffe://test.local/ns/default/sa/grpc', 3600_000)
  const bind = (creds: grpc.ServerCredentials): Promise<number> => {
    const server = new grpc.Server()
    service(server)
    servers.push(server)
    return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, port) => err ? reject(err) : resolve(port)))
  }
  plainPort = await bind(grpc.ServerCredentials.createInsecure())
  tlsPort = await bind(grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(id.privateKeyPem), cert_chain: Buffer.from(id.certPem) }]))
})
after(() => { for (const s of servers) s.forceShutdown() })

test('closed loop over h2c: unary calls with the configured message size, all grpc-status 0', async () => {
  const r = await runLoad({ url: `http://127.0.0.1:${plainPort}/bench.Echo/Unary`, protocol: 'grpc', messageSize: 300, connections: 4, threads: 1, durationMs: 700, warmupMs: 200 })
  assert.ok(r.requests > 100, `calls ${r.requests}`)
  assert.deepEqual(Object.keys(r.retCodes), ['0'])
  assert.equal(r.errorRatio, 0)
  assert.deepEqual([...sizes], [300])
})

test('open loop over TLS (ALPN h2): the requested rate, statuses counted per code', async () => {
  calls = 0
  const r = await runLoad({ url: `https://127.0.0.1:${tlsPort}/bench.Echo/Flaky`, protocol: 'grpc', tls: { insecure: true }, rate: 300, connections: 2, threads: 1, durationMs: 1000, warmupMs: 200, maxErrorRatio: 0.5 })
  assert.equal(r.mode, 'open-loop')
  assert.ok(r.requests >= 250 && r.requests <= 301, `calls ${r.requests}`)
  const ok = r.retCodes['0'] ?? 0
  const unavailable = r.retCodes[String(grpc.status.UNAVAILABLE)] ?? 0
  assert.equal(ok + unavailable, r.requests)
  assert.ok(unavailable > r.requests / 4 && unavailable < r.requests / 2.5, `UNAVAILABLE ${unavailable} of ${r.requests}`)
  assert.ok(Math.abs(r.errorRatio - unavailable / r.requests) < 1e-9, 'Math.abs(r.errorRatio - unavailable / r.requests) < 1e-9')
  const smp = toSmp({ result: r, env: captureEnvironment(), mesh: { type: 'none', version: '', config: {} }, name: 'run', scenario: 'run' })
  assert.equal(smp.config.clients[0].protocol, 'grpc')
  assert.equal(smp.config.clients[0].content_type, 'application/grpc')
  assert.equal(smp.meshwork.http_version, 'h2')
  assert.equal(smp.meshwork.grpc_message_bytes, 100)
  assert.equal(smp.meshwork.ret_codes['14'], unavailable)
})

test('more failed calls than maxErrorRatio → MESH_ERR_BENCH_TARGET_ERRORS with the partial result', async () => {
  await assert.rejects(
    runLoad({ url: `http://127.0.0.1:${plainPort}/bench.Echo/Missing`, protocol: 'grpc', connections: 1, threads: 1, durationMs: 300, warmupMs: 0 }),
    (err: { code: string, partial?: { retCodes: Record<string, number> } }) => err.code === 'MESH_ERR_BENCH_TARGET_ERRORS' && (err.partial?.retCodes[String(grpc.status.UNIMPLEMENTED)] ?? 0) > 0
  )
})

test('a gRPC URL without a method path is refused before anything runs', async () => {
  await assert.rejects(runLoad({ url: `http://127.0.0.1:${plainPort}/`, protocol: 'grpc' }), { code: 'MESH_ERR_BENCH_OPTION_INVALID' })
})
