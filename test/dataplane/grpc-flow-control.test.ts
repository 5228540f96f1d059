/**
 * A slow reader is flow-controlled end to end: a grpc-js server streams 128 MiB to a grpc-js client that reads at
 * ≈ 20 MB/s, through two `meshwork proxy` processes (mTLS STRICT, h2 both hops). The proxies' RSS stays flat (what
 * each holds per stream is bounded: stream receive window + send high-water mark + one frame, docs/grpc.md), and the
 * server is held back by the reader (it finishes writing when the reader finishes reading, not seconds before).
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type * as grpc from '@grpc/grpc-js'
import { createRootCa, issueTestIdentity } from '../../src/pki/index.ts'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'
import { echoClient, type EchoReply, type EchoServer, startEchoServer, TD, unary } from './grpc-harness.ts'

const MESSAGE = 64 * 1024
const COUNT = 2048 // 128 MiB
let dir: string
let app: EchoServer
const procs: ChildProcess[] = []
let outbound = 0
let pids: { client: number, server: number }

/** Start `meshwork proxy` with `args`; resolves with its process and the addresses it printed. */
async function proxyProcess (name: string, args: string[]): Promise<{ child: ChildProcess, listening: Record<string, number> }> {
  const { command, args: a } = meshworkCommand(['proxy', ...args])
  const child = spawn(command, a, { stdio: ['ignore', 'ignore', 'pipe'] })
  procs.push(child)
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const deadline = Date.now() + 30_000
  while (!/applied snapshot/.test(err)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start: ${err}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const listening: Record<string, number> = {}
  for (const m of err.matchAll(/(\w+)=127\.0\.0\.1:(\d+)/g)) listening[m[1]] = Number(m[2])
  return { child, listening }
}

function rssMb (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) / 1024
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshwork-grpc-flow-'))
  const root = await createRootCa({ commonName: 'flow root', ttlMs: 3_600_000 })
  const write = (f: string, text: string): string => { const p = join(dir, f); writeFileSync(p, text); return p }
  const ca = write('ca.pem', root.certPem)
  const files = async (svc: string) => {
    const id = await issueTestIdentity(root, TD + svc, 3_600_000)
    return ['--cert', write(`${svc}.crt`, id.certPem), '--key', write(`${svc}.key`, id.privateKeyPem), '--ca', ca]
  }
  app = await startEchoServer('echo-0')
  const serverSnap = write('server.json', JSON.stringify({
    version: 's1', node: { id: 'echo-v1-0', service: 'echo', version: 'v1' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    localApp: { address: '127.0.0.1', port: app.port, protocol: 'h2' }
  }))
  const server = await proxyProcess('server sidecar', ['--snapshot', serverSnap, '--inbound', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...await files('echo')])
  const clientSnap = write('client.json', JSON.stringify({
    version: 'c1', node: { id: 'client-v1-0', service: 'client' }, mesh: { mtls: { mode: 'STRICT' }, tracing: { enabled: false } },
    services: [{ name: 'echo', port: 50051, endpoints: [{ id: 'echo-v1-0', address: '127.0.0.1', port: server.listening.inbound, tls: true, identity: TD + 'echo', sidecar: true }] }]
  }))
  const client = await proxyProcess('client sidecar', ['--snapshot', clientSnap, '--outbound', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...await files('client')])
  outbound = client.listening.outbound
  pids = { client: client.child.pid!, server: server.child.pid! }
})

after(async () => {
  for (const p of procs) p.kill('SIGTERM')
  await Promise.all(procs.map(p => p.exitCode !== null ? undefined : new Promise(resolve => p.once('exit', resolve))))
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

test('a 128 MiB server stream read slowly: both proxies\' RSS stays flat and the server is held back by the reader', async () => {
  const c = echoClient(`127.0.0.1:${outbound}`, 'echo:50051')
  try {
    // warm up both hops (connections, TLS, JIT) before the baseline
    for (let i = 0; i < 20; i++) assert.equal((await unary(c, { message: 'warm', replyBytes: MESSAGE })).err, null)
    const call = (c as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<EchoReply>>).ServerStream({ count: 50, replyBytes: MESSAGE })
    await new Promise<void>(resolve => { call.on('data', () => {}); call.on('status', () => resolve()); call.on('error', () => {}) })
    const base = { client: rssMb(pids.client), server: rssMb(pids.server) }
    const peak = { ...base }
    const sampler = setInterval(() => {
      peak.client = Math.max(peak.client, rssMb(pids.client))
      peak.server = Math.max(peak.server, rssMb(pids.server))
    }, 100)
    let received = 0
    let readAt = 0
    try {
      const stream = (c as unknown as Record<string, (r: unknown) => grpc.ClientReadableStream<EchoReply>>).ServerStream({ count: COUNT, replyBytes: MESSAGE })
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (r: EchoReply) => {
          received += r.payload.length
          // ≈ 20 MB/s: pause 3 ms after each 64 KiB message
          stream.pause()
          setTimeout(() => stream.resume(), 3)
        })
        // 'status' may come while the paused stream still holds messages: done when both status and 'end' came
        let ok: boolean | null = null
        let ended = false
        const settle = (): void => { if (ok !== null && ended) { readAt = Date.now(); if (ok) resolve(); else reject(new Error('stream failed')) } }
        stream.on('status', s => { ok = s.code === 0; settle() })
        stream.on('end', () => { ended = true; settle() })
        stream.on('error', err => { ok = false; ended = true; reject(err) })
      })
    } finally {
      clearInterval(sampler)
    }
    assert.equal(received, COUNT * MESSAGE)
    const growth = { client: peak.client - base.client, server: peak.server - base.server }
    process.stderr.write(`# slow reader, 128 MiB: proxy RSS base ${base.client.toFixed(1)} / ${base.server.toFixed(1)} MB, ` +
      `growth client sidecar ${growth.client.toFixed(1)} MB, server sidecar ${growth.server.toFixed(1)} MB; server waited for drain ${app.streamDrains}×, ` +
      `finished writing ${readAt - app.streamWrittenAt} ms before the reader finished\n`)
    assert.ok(growth.client < 24 && growth.server < 24, `RSS growth ${JSON.stringify(growth)} MB while 128 MiB went through`)
    assert.ok(app.streamDrains > 100, 'the server was made to wait')
    assert.ok(readAt - app.streamWrittenAt < 1500, 'the server did not run ahead of the reader')
  } finally {
    c.close()
  }
})
