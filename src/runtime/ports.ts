import { createServer } from 'node:net'
import { PortInUseError } from '../errors.ts'

/**
 * Hands out free loopback ports for the processes of a local mesh, never the same one twice. A port is
 * found by binding port 0 and closing again; another program could take it in between, which the
 * process that then fails to bind reports (and the supervisor restarts).
 *
 * @example
 * const ports = new PortAllocator()
 * const admin = await ports.allocate()
 */
export class PortAllocator {
  readonly host: string
  readonly #given = new Set<number>()

  constructor (host = '127.0.0.1') {
    this.host = host
  }

  /** A free port not given out before by this allocator. */
  async allocate (): Promise<number> {
    for (let i = 0; i < 50; i++) {
      const port = await probeFreePort(this.host, 0)
      if (!this.#given.has(port)) {
        this.#given.add(port)
        return port
      }
    }
    throw new PortInUseError(`no free port found on ${this.host}`)
  }

  /**
   * Claim a user-facing port (ingress, UI…): 0 means any free port; a fixed port must be free now, or
   * PortInUseError names it and the flag that chooses another (`--ingress-port`).
   */
  async claim (port: number, what: string, flag?: string): Promise<number> {
    if (port === 0) return this.allocate()
    const choose = flag !== undefined ? `choose another with ${flag} <port> (${flag} 0 = any free port)` : 'choose another with its flag'
    if (this.#given.has(port)) throw new PortInUseError(`${what} port ${port} is already used by this mesh; ${choose}`)
    try {
      await probeFreePort(this.host, port)
    } catch (err) {
      throw new PortInUseError(`${what} port ${port} on ${this.host} is in use (${(err as NodeJS.ErrnoException).code ?? 'error'}); ${choose}`, { cause: err })
    }
    this.#given.add(port)
    return port
  }
}

function probeFreePort (host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen({ host, port, exclusive: true }, () => {
      const addr = srv.address()
      const got = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(got))
    })
  })
}
