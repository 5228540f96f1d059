// The outbound listener under transparent capture: TLS and other protocols are refused at once with a
// reason the client can read, counted and logged; HTTP on the same listener is unaffected.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { after, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { promisify } from 'node:util'
import { Registry } from '../telemetry/metrics.ts'
import { DISCARD_SINK } from './downstream-connection.ts'
import { Listener } from './listener.ts'
import { nonHttpReason } from './non-http.ts'
import { refusalGuard } from './refusal-log.ts'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from '../proxy.ts'

const run = promisify(execFile)
const closers: (() => Promise<unknown>)[] = []
after(async () => { for (const c of closers) await c() })

test('first bytes: request lines (after empty lines, the h2 preface) may be HTTP; TLS and other protocols are not', () => {
  for (const http of ['GET / HTTP/1.1\r\n', '\r\nPOST /x HTTP/1.1\r\n', 'PRI * HTTP/2.0\r\n', 'GE', 'M-SEARCH * HTTP/1.1']) assert.equal(nonHttpReason(Buffer.from(http)), null, http)
  assert.equal(nonHttpReason(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])), 'tls')
  for (const other of ['SSH-2.0-OpenSSH_9.2\r\n', '*1\r\n$4\r\nPING\r\n', '\u0000\u0000\u0000\u0008\u0004\u00d2\u0016\u002f', ' GET / HTTP/1.1']) assert.equal(nonHttpReason(Buffer.from(other, 'latin1')), 'not_http', JSON.stringify(other))
})

async function listener (firstByteTimeoutMs: number): Promise<{ port: number, registry: Registry, lines: string[] }> {
  const registry = new Registry()
  const lines: string[] = []
  const l = new Listener({
    host: '127.0.0.1',
    port: 0,
    handler: ds => { ds.write(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')); ds.endResponse(); return DISCARD_SINK },
    nonHttp: { ...refusalGuard(registry, line => lines.push(line), 0), firstByteTimeoutMs }
  })
  const addr = await l.start()
  closers.push(() => l.stop())
  return { port: addr.port, registry, lines }
}

function readAll (port: number, send: string | null): Promise<{ text: string, ms: number }> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { if (send !== null) s.write(send) })
    let text = ''
    s.setEncoding('latin1')
    s.on('data', (c: string) => { text += c })
    s.on('close', () => resolve({ text, ms: Date.now() - t0 }))
    s.on('error', reject)
  })
}

test('a TLS client gets a handshake_failure alert, other protocols and silent clients a MESH_ERR_NOT_HTTP line; each is counted and logged', async () => {
  const { port, registry, lines } = await listener(300)
  // a real TLS client (Node's) and curl: both fail fast with a handshake failure, no hang
  const tlsErr = await new Promise<NodeJS.ErrnoException>(resolve => {
    const t = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'reviews' })
    t.on('error', resolve)
  })
  assert.match(String(tlsErr.code), /ALERT_HANDSHAKE_FAILURE/)
  const t0 = Date.now()
  await assert.rejects(run('curl', ['-sS', '--max-time', '5', `https://127.0.0.1:${port}/`]), (e: { code?: number }) => e.code === 35)
  assert.ok(Date.now() - t0 < 3000)

  const ssh = await readAll(port, 'SSH-2.0-OpenSSH_9.2\r\n')
  assert.match(ssh.text, /^MESH_ERR_NOT_HTTP: not an HTTP request/)
  const silent = await readAll(port, null)
  assert.match(silent.text, /^MESH_ERR_NOT_HTTP: no request within the time limit/)
  assert.ok(silent.ms >= 250 && silent.ms < 3000, `closed after ${silent.ms} ms`)

  const http = await readAll(port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
  assert.match(http.text, /^HTTP\/1\.1 200 OK/)

  const text = registry.render()
  assert.match(text, /meshwork_outbound_refused_total\{reason="tls"\} 2/)
  assert.match(text, /meshwork_outbound_refused_total\{reason="not_http"\} 1/)
  assert.match(text, /meshwork_outbound_refused_total\{reason="silent"\} 1/)
  assert.ok(lines.some(l => l.includes('MESH_ERR_NOT_HTTP') && l.includes('TLS ClientHello')), lines.join('\n'))
})

test('the proxy\'s outbound listener refuses TLS and shows it in /metrics', async () => {
  const proxy = new Proxy({ listeners: { outbound: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } }, log: () => {} })
  await proxy.start()
  closers.push(() => proxy.stop())
  const s = tlsConnect({ host: '127.0.0.1', port: proxy.addresses.outbound!.port, rejectUnauthorized: false })
  const [err] = await once(s, 'error') as [NodeJS.ErrnoException]
  assert.match(String(err.code), /ALERT_HANDSHAKE_FAILURE/)
  const metrics = await (await fetch(`http://127.0.0.1:${proxy.addresses.admin!.port}/metrics`)).text()
  assert.match(metrics, /meshwork_outbound_refused_total\{reason="tls"\} 1/)
})
