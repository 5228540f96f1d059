import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from '../../src/dataplane/proxy.ts'

export interface RecordedRequest { method: string, url: string, headers: IncomingMessage['headers'], body: string }

/** A real origin on 127.0.0.1 that records every request it gets (to prove none arrived twice or mixed). */
export async function startRecordingApp (): Promise<{ server: Server, port: number, requests: RecordedRequest[], close (): Promise<void> }> {
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
      const text = `ok ${req.method} ${req.url} ${body.length}\n`
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server, port, requests,
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

/**
 * A sidecar with plain inbound (mTLS off) in front of `appPort`, and an outbound listener that routes
 * `app` to that inbound: both listeners a client can reach.
 */
export async function startPlainSidecar (appPort: number, extra: Record<string, unknown> = {}): Promise<{ proxy: Proxy, inbound: number, outbound: number, admin: number }> {
  const proxy = new Proxy({
    listeners: { inbound: { host: '127.0.0.1', port: 0 }, outbound: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } },
    log: () => {}
  })
  await proxy.start()
  const inbound = proxy.addresses.inbound!.port
  const r = proxy.applySnapshot({
    version: '1',
    node: { id: 'app-v1-0', role: 'sidecar', service: 'app', version: 'v1' },
    mesh: { mtls: { mode: 'DISABLE' }, tracing: { enabled: false, sampling: 0 } },
    localApp: { address: '127.0.0.1', port: appPort },
    services: [{ name: 'app', port: 80, endpoints: [{ id: 'app-v1-0', address: '127.0.0.1', port: inbound, version: 'v1', tls: false }] }],
    ...extra
  })
  if (!r.ok) throw r.error
  return { proxy, inbound, outbound: proxy.addresses.outbound!.port, admin: proxy.addresses.admin!.port }
}
