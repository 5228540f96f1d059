import { Agent, request } from 'node:http'
// biome-ignore lint/suspicious/noShadowRestrictedNames: the data plane's class is named Proxy (docs/architecture.md)
import { Proxy } from '../../src/dataplane/proxy.ts'
import { startConfigClient, type ConfigClient } from '../../src/dataplane/config-client.ts'
import { startApp } from './helpers.ts'

const LOOP = { host: '127.0.0.1', port: 0 }

export interface MeshNode {
  proxy: Proxy
  client: ConfigClient
  app: Awaited<ReturnType<typeof startApp>> | null
  outbound: number
  inbound: number
  close (): Promise<void>
}

/** A real sidecar (Proxy + config client) for `service`/`version`, with its own app when `withApp`. */
export async function startSidecar (url: string, id: string, service: string, version: string, withApp: boolean, namespace?: string): Promise<MeshNode> {
  const app = withApp ? await startApp(id) : null
  const proxy = new Proxy({ listeners: { outbound: LOOP, inbound: LOOP, admin: LOOP }, log: () => {} })
  await proxy.start()
  const inbound = proxy.addresses.inbound!.port
  const client = startConfigClient(proxy, {
    url, id, service, version, namespace,
    inbound: { host: '127.0.0.1', port: inbound },
    app: app ? { host: '127.0.0.1', port: app.port } : undefined,
    probeIntervalMs: 200,
    backoff: { initialMs: 50, maxMs: 400 }
  })
  await client.ready
  return {
    proxy, client, app, inbound,
    outbound: proxy.addresses.outbound!.port,
    close: async () => { await client.close(); await proxy.stop(); await app?.close() }
  }
}

export interface Load { stop (): Promise<{ ok: number, failed: number, errors: string[], byBody: Map<string, number> }> }

/** Closed-loop load: `concurrency` loops sending GET http://<authority>/ through an outbound listener. */
export function startLoad (outboundPort: number, authority: string, concurrency = 4): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  let running = true
  let ok = 0
  let failed = 0
  const errors: string[] = []
  const byBody = new Map<string, number>()
  const one = (): Promise<void> => new Promise(resolve => {
    const req = request({ host: '127.0.0.1', port: outboundPort, path: '/', agent, headers: { host: authority }, timeout: 10_000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => {
        if (res.statusCode === 200) { ok++; byBody.set(body, (byBody.get(body) ?? 0) + 1) } else { failed++; if (errors.length < 10) errors.push(`${res.statusCode} ${res.headers['x-meshwork-error'] ?? ''} ${body.slice(0, 200)}`) }
        resolve()
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', err => { failed++; if (errors.length < 10) errors.push(err.message); resolve() })
    req.end()
  })
  const loops = Array.from({ length: concurrency }, async () => { while (running) await one() })
  return {
    stop: async () => {
      running = false
      await Promise.all(loops)
      agent.destroy()
      return { ok, failed, errors, byBody }
    }
  }
}

/** A real ingress gateway (Proxy with a gateway listener + config client) serving Gateway `name`. */
export async function startGateway (url: string, id: string, name: string): Promise<{ proxy: Proxy, client: ConfigClient, port: number, close (): Promise<void> }> {
  const proxy = new Proxy({ listeners: { gateway: LOOP, admin: LOOP }, gatewayName: name, log: () => {} })
  await proxy.start()
  const client = startConfigClient(proxy, { url, id, role: 'ingress', gateway: { name }, backoff: { initialMs: 50, maxMs: 400 } })
  await client.ready
  return { proxy, client, port: proxy.addresses.gateway!.port, close: async () => { await client.close(); await proxy.stop() } }
}
