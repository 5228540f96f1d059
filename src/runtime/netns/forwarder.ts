/**
 * A TCP forwarder between the host's loopback and the pod network, run inside `meshwork up`:
 *
 *   127.0.0.1:8080 (host)  ──▶ <ingress pod>:8080        the ingress gateway, from the host's usual URL
 *   198.18.16.1:15010      ──▶ 127.0.0.1:15010 (host)    the control plane, from the sidecars' namespaces
 *
 * Bytes are piped both ways; a half-close is passed on; an error on either side closes both. The control
 * plane and the UI keep listening on loopback only.
 *
 * @example
 * const fwd = await startForwarder({ listen: { host: '127.0.0.1', port: 8080 }, target: { host: '198.18.16.2', port: 8080 } })
 * await fwd.close()
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface HostPort { host: string, port: number }

export interface Forwarder {
  readonly listen: HostPort
  readonly target: HostPort
  /** Connections accepted so far. */
  readonly accepted: number
  close (): Promise<void>
}

export function startForwarder (o: { listen: HostPort, target: HostPort, connectTimeoutMs?: number }): Promise<Forwarder> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server: Server = createServer({ noDelay: true, pauseOnConnect: true }, down => {
    accepted++
    const up = connect({ host: o.target.host, port: o.target.port, noDelay: true })
    sockets.add(down)
    sockets.add(up)
    const timer = setTimeout(() => up.destroy(new Error('connect timeout')), o.connectTimeoutMs ?? 5000)
    const drop = (): void => {
      clearTimeout(timer)
      down.destroy()
      up.destroy()
      sockets.delete(down)
      sockets.delete(up)
    }
    up.once('connect', () => {
      clearTimeout(timer)
      down.pipe(up)
      up.pipe(down)
      down.resume()
    })
    down.on('error', drop).on('close', drop)
    up.on('error', drop).on('close', drop)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: o.listen.host, port: o.listen.port, exclusive: true }, () => {
      server.off('error', reject)
      const addr = server.address() as { port: number }
      resolve({
        listen: { host: o.listen.host, port: addr.port },
        target: o.target,
        get accepted () { return accepted },
        close: () => new Promise<void>(res => {
          for (const s of sockets) s.destroy()
          server.close(() => res())
        })
      })
    })
  })
}
