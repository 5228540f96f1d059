import assert from 'node:assert/strict'
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { syncBuiltinESMExports } from 'node:module'
import { before, mock, test } from 'node:test'
import * as tls from 'node:tls'
import tlsModule from 'node:tls'
import { type CertificateAuthority, createRootCa, issueTestIdentity, parseCertificate } from '../../pki/index.ts'
import { CertStore, fromFiles } from './cert-store.ts'
import { parseSpiffeId, peerSpiffeId, spiffeIdOf, urisOfSubjectAltName } from './spiffe.ts'

const HOUR = 3600_000
const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/reviews'
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/productpage'

let rootA: CertificateAuthority
let rootB: CertificateAuthority
before(async () => {
  rootA = await createRootCa({ commonName: 'root A', ttlMs: 24 * HOUR })
  rootB = await createRootCa({ commonName: 'root B', ttlMs: 24 * HOUR })
})

async function material (ca: CertificateAuthority, id: string, bundle: string, opts: { notBefore?: Date, ttlMs?: number } = {}) {
  const i = await issueTestIdentity(ca, id, opts.ttlMs ?? HOUR, { notBefore: opts.notBefore })
  return { certPem: i.certPem, keyPem: i.privateKeyPem, trustBundlePem: bundle }
}

/** An mTLS echo server from the store: answers each line with `<peer spiffe id>|<own serial>`. */
async function startServer (store: CertStore, t: { after: (fn: () => void) => void }) {
  const sockets = new Set<tls.TLSSocket>()
  let clientErrors = 0
  const server = tls.createServer(store.serverOptions(), (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.setEncoding('utf8')
    s.on('data', () => { s.write(`${peerSpiffeId(s)}|${parseCertificate(store.material.certPem).serial}\n`) })
  })
  server.on('tlsClientError', () => { clientErrors++ })
  store.attach(server)
  t.after(() => { for (const s of sockets) s.destroy(); server.close() })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return { server, port: (server.address() as AddressInfo).port, clientErrors: () => clientErrors }
}

/** Connects, sends one line, resolves the answer; rejects on any TLS or identity error. */
function call (port: number, opts: tls.ConnectionOptions, keep = false): Promise<{ answer: string, socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...opts }, () => { s.write('hi\n') })
    s.setEncoding('utf8')
    let buf = ''
    s.on('data', d => {
      buf += d
      if (buf.endsWith('\n')) { if (!keep) s.end(); resolve({ answer: buf.trim(), socket: s }) }
    })
    s.on('error', reject)
    s.on('close', () => reject(Object.assign(new Error('closed before an answer'), { code: 'ECLOSED' })))
    s.setTimeout(20_000, () => s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
  })
}

test('parseSpiffeId / spiffeIdOf round-trip and reject other shapes', () => {
  const p = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'reviews' }
  assert.equal(spiffeIdOf(p), SERVER_ID)
  assert.deepEqual(parseSpiffeId(SERVER_ID), p)
  assert.equal(parseSpiffeId('spiffe://cluster.local/ns/default'), null)
  assert.equal(parseSpiffeId('https://cluster.local/ns/default/sa/x'), null)
  assert.equal(parseSpiffeId('spiffe://Cluster.local/ns/default/sa/x'), null)
  assert.equal(parseSpiffeId('spiffe://cluster.local/ns/default/sa/x/y'), null)
})

test('urisOfSubjectAltName reads plain and JSON-quoted URI entries', () => {
  assert.deepEqual(urisOfSubjectAltName('DNS:a.example, URI:spiffe://td/ns/a/sa/b, IP Address:127.0.0.1'), ['spiffe://td/ns/a/sa/b'])
  assert.deepEqual(urisOfSubjectAltName('DNS:"x, y", URI:"spiffe://td/ns/a/sa/b,c"'), ['spiffe://td/ns/a/sa/b,c'])
  assert.deepEqual(urisOfSubjectAltName(undefined), [])
})

test('mTLS: both sides see the peer SPIFFE ID; clientOptions checks the expected server identity', async (t) => {
  const bundle = rootA.certPem
  const server = new CertStore(await material(rootA, SERVER_ID, bundle))
  const client = new CertStore(await material(rootA, CLIENT_ID, bundle))
  assert.equal(server.spiffeId, SERVER_ID)
  const { port } = await startServer(server, t)
  const { answer } = await call(port, client.clientOptions(SERVER_ID))
  assert.equal(answer.split('|')[0], CLIENT_ID)
  await assert.rejects(call(port, client.clientOptions('spiffe://cluster.local/ns/default/sa/ratings')), (e: any) => e.code === 'MESH_ERR_PEER_IDENTITY')
})

test('rotation to a cert from a new root while the bundle holds both roots: zero failed handshakes, old connections continue', async (t) => {
  const both = rootA.certPem + rootB.certPem
  const server = new CertStore(await material(rootA, SERVER_ID, both))
  const client = new CertStore(await material(rootA, CLIENT_ID, both))
  const srv = await startServer(server, t)
  const rotations: Array<string | undefined> = []
  server.on('rotated', (i) => rotations.push(i.spiffeId))

  const serials = new Set<string>()
  let ok = 0
  let failed = 0
  let running = true
  const loop = async () => {
    while (running) {
      try { const { answer } = await call(srv.port, client.clientOptions(SERVER_ID)); serials.add(answer.split('|')[1]); ok++ } catch { failed++ }
    }
  }
  const held = await call(srv.port, client.clientOptions(SERVER_ID), true)
  const loops = [loop(), loop(), loop()]
  const waitCalls = async (n: number) => { const target = ok + n; while (ok < target && failed === 0) await new Promise(r => setTimeout(r, 5)) }
  await waitCalls(10)
  server.update(await material(rootB, SERVER_ID, both)) // server moves to root B
  await waitCalls(10)
  client.update(await material(rootB, CLIENT_ID, both)) // client moves to root B
  await waitCalls(10)
  const final = await material(rootB, SERVER_ID, rootB.certPem) // root A retired
  server.update(final)
  client.update(await material(rootB, CLIENT_ID, rootB.certPem))
  await waitCalls(10)
  running = false
  await Promise.all(loops)

  assert.equal(failed, 0)
  assert.equal(srv.clientErrors(), 0)
  assert.ok(ok >= 40)
  assert.ok(serials.has(parseCertificate(final.certPem).serial), 'new connections use the new certificate')
  assert.equal(rotations.length, 2)
  // The connection made before the rotations still works on its original session.
  const again = await new Promise<string>((resolve, reject) => {
    held.socket.once('data', d => resolve(String(d).trim()))
    held.socket.once('error', reject)
    held.socket.write('again\n')
  })
  assert.equal(again.split('|')[0], CLIENT_ID)
  held.socket.destroy()
  // Once root A is retired, a client still on a root-A certificate is refused.
  const stale = new CertStore(await material(rootA, CLIENT_ID, both))
  await assert.rejects(call(srv.port, stale.clientOptions(SERVER_ID)))
})

test('one SecureContext per certificate generation: rotations of a store with an attached server build one context each, and new handshakes get the new certificate', async (t) => {
  const server = new CertStore(await material(rootA, SERVER_ID, rootA.certPem))
  const client = new CertStore(await material(rootA, CLIENT_ID, rootA.certPem))
  const srv = await startServer(server, t)
  const generations = [] as Awaited<ReturnType<typeof material>>[]
  for (let i = 0; i < 5; i++) generations.push(await material(rootA, SERVER_ID, rootA.certPem))
  // Count every context built in this process from here on: ours and tls.Server's own (setSecureContext
  // calls tls.createSecureContext on the same module object). Each context holds ~45-150 KB of OpenSSL
  // memory that V8 does not account for, so unneeded ones pile up until a rare full GC (soak finding).
  const built = mock.method(tlsModule, 'createSecureContext')
  syncBuiltinESMExports()
  t.after(() => { built.mock.restore(); syncBuiltinESMExports() })
  for (const m of generations) {
    server.update(m)
    const { socket } = await call(srv.port, client.clientOptions(SERVER_ID), true)
    assert.equal(socket.getPeerX509Certificate()?.serialNumber.toLowerCase(), parseCertificate(m.certPem).serial, 'the handshake presents the new certificate')
    socket.destroy()
  }
  assert.equal(built.mock.callCount(), generations.length, 'one context per rotation (not one for each role plus one per attached server)')
  assert.equal(server.clientSecureContext, server.secureContext)
  assert.equal(srv.clientErrors(), 0)
})

test('a client certificate from a foreign CA is refused', async (t) => {
  const server = new CertStore(await material(rootA, SERVER_ID, rootA.certPem))
  const srv = await startServer(server, t)
  const foreign = new CertStore(await material(rootB, CLIENT_ID, rootA.certPem))
  await assert.rejects(call(srv.port, foreign.clientOptions(SERVER_ID)))
  assert.equal(srv.clientErrors(), 1)
})

test('a client with no certificate is refused in STRICT, accepted without identity in PERMISSIVE', async (t) => {
  const server = new CertStore(await material(rootA, SERVER_ID, rootA.certPem))
  const srv = await startServer(server, t)
  await assert.rejects(call(srv.port, { ca: rootA.certPem, checkServerIdentity: () => undefined }))
  const permissive = tls.createServer(server.serverOptions({ requireClientCert: false }), s => {
    s.on('error', () => {})
    s.on('data', () => s.end(`${peerSpiffeId(s) ?? 'none'}|${s.authorized}\n`))
  })
  t.after(() => permissive.close())
  await new Promise<void>(r => permissive.listen(0, '127.0.0.1', r))
  const { answer } = await call((permissive.address() as AddressInfo).port, { ca: rootA.certPem, checkServerIdentity: () => undefined })
  assert.equal(answer, 'none|false')
})

test('an expired certificate is refused (server side and client side)', async (t) => {
  const past = new Date(Date.now() - 3 * HOUR)
  const expiredServer = new CertStore(await material(rootA, SERVER_ID, rootA.certPem, { notBefore: past, ttlMs: HOUR }))
  assert.ok(expiredServer.notAfter.getTime() < Date.now())
  const srv1 = await startServer(expiredServer, t)
  const client = new CertStore(await material(rootA, CLIENT_ID, rootA.certPem))
  await assert.rejects(call(srv1.port, client.clientOptions(SERVER_ID)), (e: any) => e.code === 'CERT_HAS_EXPIRED')

  const server = new CertStore(await material(rootA, SERVER_ID, rootA.certPem))
  const srv2 = await startServer(server, t)
  const expiredClient = new CertStore(await material(rootA, CLIENT_ID, rootA.certPem, { notBefore: past, ttlMs: HOUR }))
  await assert.rejects(call(srv2.port, expiredClient.clientOptions(SERVER_ID)))
  assert.equal(srv2.clientErrors(), 1)
})

test('update refuses a key that does not match the certificate and keeps the old material', async () => {
  const a = await material(rootA, SERVER_ID, rootA.certPem)
  const b = await material(rootA, SERVER_ID, rootA.certPem)
  const store = new CertStore(a)
  assert.throws(() => store.update({ ...a, keyPem: b.keyPem }), (e: any) => e.code === 'MESH_ERR_CERT_INVALID')
  assert.throws(() => store.update({ ...a, trustBundlePem: '' }), (e: any) => e.code === 'MESH_ERR_CERT_INVALID')
  assert.throws(() => new CertStore({ ...a, certPem: 'garbage' }), (e: any) => e.code === 'MESH_ERR_CERT_INVALID')
  assert.equal(store.material, a)
})

test('fromFiles + watch reloads on an atomic file replace and emits rotated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meshwork-certs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const certPath = join(dir, 'cert.pem')
  const keyPath = join(dir, 'key.pem')
  const caPath = join(dir, 'ca.pem')
  const m1 = await material(rootA, SERVER_ID, rootA.certPem)
  writeFileSync(certPath, m1.certPem); writeFileSync(keyPath, m1.keyPem); writeFileSync(caPath, m1.trustBundlePem)
  const store = fromFiles(certPath, keyPath, caPath, { watch: true })
  t.after(() => store.close())
  assert.equal(store.material.certPem, m1.certPem)
  const m2 = await material(rootA, 'spiffe://cluster.local/ns/default/sa/reviews-v2', rootA.certPem)
  // The watcher is not persistent (it must not keep a proxy alive); keep the test's event loop alive meanwhile.
  const keepAlive = setInterval(() => {}, 1000)
  t.after(() => clearInterval(keepAlive))
  const rotated = new Promise<string | undefined>(r => store.on('rotated', i => r(i.spiffeId)))
  // Write key then cert via rename (as a CA agent would); an intermediate mismatch may emit 'invalid', never crash.
  store.on('invalid', () => {})
  writeFileSync(keyPath + '.tmp', m2.keyPem); renameSync(keyPath + '.tmp', keyPath)
  writeFileSync(certPath + '.tmp', m2.certPem); renameSync(certPath + '.tmp', certPath)
  assert.equal(await rotated, 'spiffe://cluster.local/ns/default/sa/reviews-v2')
  assert.equal(store.material.keyPem, m2.keyPem)
})
