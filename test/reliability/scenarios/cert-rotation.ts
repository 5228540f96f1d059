/**
 * Certificate expiry and rotation under load: workload certificates live `ttlS` seconds (MeshConfig
 * certificates.ttl; 4 s in bench/reliability-long.ts, 10 s in CI), so every sidecar renews at about half
 * of that, and the root CA is rotated mid-run
 * (ControlPlane.rotateRoot: trust old+new, re-issue, drop old). Traffic client → echo over mTLS STRICT
 * must not fail. Then the echo sidecar's inbound listener must refuse a caller with an expired mesh
 * certificate and one with a certificate of a foreign CA (403 MESH_ERR_PEER_IDENTITY or no TLS session),
 * and the app must not see either request; a fresh mesh certificate is accepted (so the refusals are the
 * certificates' doing).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { type CertificateAuthority, createIntermediateCa, createRootCa } from '../../../src/pki/index.ts'
import { issueTestIdentity } from '../../../src/pki/test-identity.ts'
import { runLoad, summaryLine, type LoadResult } from '../load.ts'
import { echoWorkload, startReliabilityMesh } from '../mesh.ts'

const mesh = (ttlS: number): string => `apiVersion: meshwork.dev/v1alpha1
kind: MeshConfig
metadata: { name: mesh }
spec: { mtls: { mode: STRICT }, certificates: { ttl: ${ttlS}s } }
---
${echoWorkload('echo-v1', 'echo', 'v1')}`

export interface MtlsCall { status: number | null, meshError: string | null, tlsError: string | null }

/** One GET over TLS to `port` presenting `cert`/`key`; resolves with what came back (never rejects). */
export function mtlsGet (port: number, certPem: string, keyPem: string, path: string): Promise<MtlsCall> {
  return new Promise(resolve => {
    let text = ''
    let tlsError: string | null = null
    const s = connect({ host: '127.0.0.1', port, cert: certPem, key: keyPem, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: echo\r\nConnection: close\r\n\r\n`)
    })
    const timer = setTimeout(() => s.destroy(), 15_000)
    s.on('data', d => { text += d.toString('latin1') })
    s.on('error', err => { tlsError = (err as NodeJS.ErrnoException).code ?? err.message })
    s.on('close', () => {
      clearTimeout(timer)
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text)
      const e = /\r\nx-meshwork-error: (\S+)\r\n/i.exec(text)
      resolve({ status: m ? Number(m[1]) : null, meshError: e ? e[1] : null, tlsError })
    })
  })
}

export interface CertRotationReport { load: LoadResult, rotations: Record<string, number>, refused: Record<string, MtlsCall>, line: string }

export async function runCertRotation (seconds: number, ttlS = 4): Promise<CertRotationReport> {
  const rm = await startReliabilityMesh('certs', mesh(ttlS))
  try {
    const cp = rm.mesh.controlPlane
    await rm.waitHealthy('echo', 1)
    const events: string[] = []
    let t0 = Date.now()
    const rotations: Record<string, number> = {}
    const lastNotAfter = new Map<string, string | null>()
    // Issue timeline (ms from the load start, notAfter in the same clock) to tell an expired certificate apart
    // from another cause when a request fails.
    const issued: string[] = []
    cp.registry.on('proxy', (rec: { id: string, certNotAfter: string | null }) => {
      const prev = lastNotAfter.get(rec.id)
      if (prev !== undefined && rec.certNotAfter !== prev) {
        rotations[rec.id] = (rotations[rec.id] ?? 0) + 1
        if (rec.certNotAfter !== null) issued.push(`${rec.id}@${Date.now() - t0}→${Date.parse(rec.certNotAfter) - t0}`)
      }
      lastNotAfter.set(rec.id, rec.certNotAfter)
    })
    for (const rec of cp.registry.proxies.values()) lastNotAfter.set(rec.id, (rec as { certNotAfter: string | null }).certNotAfter)
    let rootRotation: Promise<unknown> | null = null
    const rotateTimer = setTimeout(() => {
      events.push(`root rotation start @${Date.now() - t0}ms`)
      rootRotation = cp.rotateRoot({ stepTimeoutMs: 20_000 }).then(r => { events.push(`root rotation done @${Date.now() - t0}ms issuer=${r.issuer}`) })
    }, seconds * 1000 * 0.4)
    let load: LoadResult
    t0 = Date.now()
    try {
      load = await runLoad({ name: 'cert-rotation', port: rm.entryPort, host: 'echo', durationMs: seconds * 1000, concurrency: 8 })
    } finally {
      clearTimeout(rotateTimer)
    }
    assert.ok(rootRotation !== null, 'the root rotation was started')
    await rootRotation

    // Refusals at the echo sidecar's inbound listener.
    const echo = rm.app('echo-v1-0')
    const inbound = echo.sidecar.inboundPort!
    const caState = JSON.parse(readFileSync(join(rm.mesh.dataDir, 'control', 'ca.json'), 'utf8')) as { issuingGen: number, trusted: { gen: number, issuing: CertificateAuthority }[] }
    const meshIssuing = caState.trusted.find(g => g.gen === caState.issuingGen)!.issuing
    const clientId = 'spiffe://cluster.local/ns/default/sa/client'
    const expired = await issueTestIdentity(meshIssuing, clientId, 60_000, { notBefore: new Date(Date.now() - 2 * 3_600_000) })
    const foreignRoot = await createRootCa({ commonName: 'foreign root', ttlMs: 86_400_000 })
    const foreign = await issueTestIdentity(await createIntermediateCa(foreignRoot, { commonName: 'foreign issuing', ttlMs: 86_400_000 }), clientId, 3_600_000)
    const fresh = await issueTestIdentity(meshIssuing, clientId, 3_600_000)
    const before = await rm.appCount('echo-v1-0')
    const refused = {
      expired: await mtlsGet(inbound, expired.certPem, expired.privateKeyPem, '/expired'),
      foreign: await mtlsGet(inbound, foreign.certPem, foreign.privateKeyPem, '/foreign')
    }
    const afterRefused = await rm.appCount('echo-v1-0')
    const accepted = await mtlsGet(inbound, fresh.certPem, fresh.privateKeyPem, '/fresh')
    const afterAccepted = await rm.appCount('echo-v1-0')

    const line = summaryLine(load, `ttl=${ttlS}s rotations=${JSON.stringify(rotations)} events=[${events.join('; ')}] expired=${JSON.stringify(refused.expired)} foreign=${JSON.stringify(refused.foreign)} fresh=${accepted.status}`)
    console.log(line)
    if (load.failures > 0) console.log(`[reliability] cert-rotation: certificates issued (id@ms→notAfter ms): ${issued.join(' ')}`)
    assert.equal(load.failures, 0, `failed requests: ${JSON.stringify(load.firstFailures)}`)
    assert.ok(load.requests > seconds * 20, `only ${load.requests} requests in ${seconds} s`)
    for (const id of ['client-v1-0', 'echo-v1-0']) {
      // ≥ 3 renewals: TTL rotation during the run plus the re-issue of the root rotation.
      assert.ok((rotations[id] ?? 0) >= 3, `${id} rotated its certificate ${rotations[id] ?? 0} times`)
    }
    assert.ok(cp.registry.connected().every(r => (r as { certIssuer: number | null }).certIssuer === 2), 'every proxy holds a leaf of the new root')
    for (const [name, r] of Object.entries(refused)) {
      assert.ok(r.status === null || (r.status === 403 && r.meshError === 'MESH_ERR_PEER_IDENTITY'), `${name} certificate: ${JSON.stringify(r)}`)
    }
    assert.equal(afterRefused, before, 'a refused request reached the app')
    assert.equal(accepted.status, 200, `a fresh mesh certificate must be accepted: ${JSON.stringify(accepted)}`)
    assert.equal(afterAccepted, before + 1)
    return { load, rotations, refused, line }
  } finally {
    await rm.stop()
  }
}
