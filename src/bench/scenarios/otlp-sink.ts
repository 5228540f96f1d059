import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** An OTLP/HTTP endpoint that accepts and counts trace exports (so tracing-on scenarios export for real). */
export interface OtlpSink {
  url: string
  readonly exports: number
  readonly bytes: number
  close (): Promise<void>
}

export async function startOtlpSink (): Promise<OtlpSink> {
  let exports = 0
  let bytes = 0
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => {
      exports++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    get exports () { return exports },
    get bytes () { return bytes },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
