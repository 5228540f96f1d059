import { Agent, request } from 'node:http'

/**
 * Small JSON POSTs from a proxy to its control plane (ACK/NACK, health, CSR), over one keep-alive agent
 * per client so closing the client closes its sockets.
 */
export class ControlPlaneHttp {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 })
  private readonly base: string

  constructor (base: string) {
    this.base = base
  }

  /** Resolves with status and parsed body; rejects on network errors or timeout. */
  post (path: string, body: unknown, timeoutMs = 10_000): Promise<{ status: number, body: any }> {
    const text = JSON.stringify(body)
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), {
        method: 'POST',
        agent: this.agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }
      }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let parsed: unknown = null
          try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', reject)
      req.end(text)
    })
  }

  close (): void {
    this.agent.destroy()
  }
}
