/**
 * Helpers of the end-to-end proxy tests: real origin servers, real proxies, raw sockets, all on loopback
 * with port 0. Every helper returns something to close in `after()`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { Client } from 'undici'
import type { ProxySnapshotInput } from '../../src/config/snapshot.ts'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy, type ProxyOptions } from '../../src/dataplane/proxy.ts'

export interface Origin {
  server: Server
  port: number
  /** Requests seen, in order. */
  seen: { method: string, url: string, headers: IncomingMessage['headers'], body: string, remotePort: number }[]
  close (): Promise<void>
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

/** Echo origin: answers JSON `{ name, method, url, headers, body }` unless a handler is given. */
export async function startOrigin (name: string, handler?: OriginHandler): Promise<Origin> {
  const seen: Origin['seen'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: body.toString(), remotePort: req.socket.remotePort! })
      if (handler) { handler(req, res, body); return }
      const out = JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body: body.toString() })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), 'x-origin': name })
      res.end(out)
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    seen,
    close: () => new Promise<void>(resolve => { server.close(() => resolve()); server.closeAllConnections() })
  }
}

export interface ServiceSpec { port?: number, endpoints: { id: string, port: number, version?: string, tls?: boolean, identity?: string, protocol?: 'http1' | 'h2' }[] }

/** A snapshot with the given services (endpoints on 127.0.0.1), plus anything in `extra`. */
export function snapshot (version: string, services: Record<string, ServiceSpec>, extra: Record<string, unknown> = {}): ProxySnapshotInput {
  return {
    version,
    node: { id: 'test-proxy', service: 'client' },
    mesh: { mtls: { mode: 'DISABLE' } },
    services: Object.entries(services).map(([name, s]) => ({
      name,
      port: s.port ?? 9080,
      endpoints: s.endpoints.map(e => ({ id: e.id, address: '127.0.0.1', port: e.port, version: e.version, tls: e.tls ?? false, identity: e.identity, protocol: e.protocol ?? 'http1' }))
    })),
    ...extra
  } as ProxySnapshotInput
}

export interface RunningProxy {
  proxy: Proxy
  outbound: number
  inbound: number
  gateway: number
  admin: number
  close (): Promise<void>
}

const LOOP = { host: '127.0.0.1', port: 0 }

/** Start a proxy with the listeners asked for (port 0) and apply `snap` when given. */
export async function startProxy (snap: ProxySnapshotInput | null, opts: { outbound?: boolean, inbound?: boolean, gateway?: boolean, tls?: ProxyOptions['tls'], gatewayName?: string } = { outbound: true }): Promise<RunningProxy> {
  const proxy = new Proxy({
    listeners: {
      outbound: opts.outbound ? LOOP : undefined,
      inbound: opts.inbound ? LOOP : undefined,
      gateway: opts.gateway ? LOOP : undefined,
      admin: LOOP
    },
    tls: opts.tls,
    gatewayName: opts.gatewayName,
    log: () => {}
  })
  await proxy.start()
  if (snap !== null) {
    const r = proxy.applySnapshot(snap)
    if (!r.ok) throw r.error
  }
  const a = proxy.addresses
  return {
    proxy,
    outbound: a.outbound?.port ?? 0,
    inbound: a.inbound?.port ?? 0,
    gateway: a.gateway?.port ?? 0,
    admin: a.admin!.port,
    close: () => proxy.stop()
  }
}

/** undici client to a proxy listener; `host` header chooses the service. */
export function client (port: number): Client {
  return new Client(`http://127.0.0.1:${port}`, { keepAliveTimeout: 10_000, pipelining: 1 })
}

/** Send raw bytes, return everything the server sent until it closed the connection (or `waitMs`). */
export function raw (port: number, data: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')) }, waitMs)
    s.on('data', c => chunks.push(c))
    s.on('error', err => { clearTimeout(timer); if (chunks.length > 0) resolve(Buffer.concat(chunks).toString('latin1')); else reject(err) })
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')) })
    s.write(data)
  })
}

export async function text (port: number, path: string): Promise<{ status: number, body: string, headers: Record<string, string | string[] | undefined> }> {
  const c = client(port)
  try {
    const r = await c.request({ method: 'GET', path })
    return { status: r.statusCode, body: await r.body.text(), headers: r.headers }
  } finally {
    await c.close()
  }
}
