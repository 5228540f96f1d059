import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TrivialServer {
  port: number
  /** Requests answered so far. */
  readonly served: number
  close (): Promise<void>
}

export interface TrivialServerOptions {
  host?: string
  port?: number
  /** Response body size in bytes (default 100, like the figures in DESIGN.md). */
  bodySize?: number
  /**
   * `http`: node:http server (the benchmark's "app": realistic parsing).
   * `raw`: answers every request head with fixed bytes, no parsing (the load generator's ceiling).
   * `error`: node:http answering 500 to everything (bad-target tests).
   */
  kind?: 'http' | 'raw' | 'error'
}

/**
 * A minimal HTTP/1.1 server on loopback answering a fixed body. Used as the benchmark app, as the
 * target for the generator's own ceiling, and in tests.
 * @example const s = await startTrivialServer({ kind: 'raw' }); ...; await s.close()
 */
export async function startTrivialServer (opts: TrivialServerOptions = {}): Promise<TrivialServer> {
  const body = Buffer.alloc(opts.bodySize ?? 100, 'x')
  let served = 0
  let server: net.Server
  if (opts.kind === 'raw') {
    const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n`), body])
    const sep = Buffer.from('\r\n\r\n')
    server = net.createServer(socket => {
      socket.setNoDelay(true)
      socket.on('error', () => {})
      // Perf: count request heads in each chunk and answer them, nothing else (GET without body only).
      socket.on('data', (chunk: Buffer) => {
        let i = chunk.indexOf(sep)
        while (i >= 0) {
          served++
          socket.write(response)
          i = chunk.indexOf(sep, i + 4)
        }
      })
    })
  } else {
    const status = opts.kind === 'error' ? 500 : 200
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        served++
        res.writeHead(status, { 'content-type': 'text/plain', 'content-length': body.length })
        res.end(body)
      })
    })
    ;(server as http.Server).keepAliveTimeout = 60_000
  }
  const sockets = new Set<net.Socket>()
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    get served () { return served },
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}
