/**
 * Keep-alive connection pool for one upstream endpoint (address, port, tls, identity). Idle connections
 * are reused last-in first-out (the warmest socket, and idle ones at the bottom age out).
 * Pools outlive snapshots: the proxy keeps them in a registry keyed by {@link poolKey}, so a snapshot swap
 * does not drop warm connections; a pool whose endpoint left the snapshot is retired (idle ones closed,
 * busy ones closed when their response ends).
 *
 * @example
 * const c = pool.acquireIdle(); if (c === null) pool.connect((err, c) => { … })
 */
import type { Socket } from 'node:net'
import type { Endpoint } from '../../config/snapshot.ts'
import { UpstreamConnectError } from '../../errors.ts'
import { H2Session, H2UpstreamStream } from './h2-stream.ts'
import { SocketReader } from './socket-reader.ts'
import { type ConnectionOwner, UpstreamConnection, type UpstreamLike } from './upstream-connection.ts'

/** Node's `onread` option of net.connect / tls.connect (a {@link SocketReader}'s). */
export type ReadOption = SocketReader['onread']

/**
 * Opens a socket to an endpoint; `ready` is the event that says it can carry requests. With `onread` the
 * socket is read through it (no 'data' events).
 */
export type Dialer = (ep: Endpoint, onread?: ReadOption) => { socket: Socket, ready: 'connect' | 'secureConnect' }

export interface PoolOptions {
  connectTimeoutMs: number
  idleTimeoutMs: number
  /** Largest number of idle connections kept. */
  maxIdle: number
}

export const DEFAULT_POOL_OPTIONS: PoolOptions = { connectTimeoutMs: 1000, idleTimeoutMs: 60_000, maxIdle: 256 }

export function poolKey (ep: Endpoint): string {
  return ep.address + ':' + ep.port + (ep.tls ? ':tls:' + (ep.identity ?? '') : ':plain') + ':' + ep.protocol
}

export class EndpointPool implements ConnectionOwner {
  readonly key: string
  endpoint: Endpoint
  /** Open connections (idle + busy + connecting). */
  open = 0
  retired = false
  readonly idle: UpstreamConnection[] = []
  private readonly waiters: ((conn: UpstreamConnection | null) => void)[] = []
  private readonly dial: Dialer
  private readonly options: PoolOptions
  /** The multiplexed session when the endpoint speaks h2 (then there is no idle list). */
  private readonly h2: H2Session | null

  constructor (endpoint: Endpoint, dial: Dialer, options: PoolOptions = DEFAULT_POOL_OPTIONS) {
    this.key = poolKey(endpoint)
    this.endpoint = endpoint
    this.dial = dial
    this.options = options
    this.h2 = endpoint.protocol === 'h2' ? new H2Session(() => this.endpoint, dial, options.connectTimeoutMs) : null
  }

  /** An idle connection (or a new stream on a ready h2 session), or null. */
  acquireIdle (): UpstreamLike | null {
    if (this.h2 !== null) return this.h2.ready ? new H2UpstreamStream(this.h2, this.endpoint.tls ? 'https' : 'http') : null
    const idle = this.idle
    while (idle.length > 0) {
      const c = idle.pop()!
      if (!c.closed && !c.socket.destroyed) return c
    }
    return null
  }

  /** Open a new connection; `cb` gets UpstreamConnectError on refusal, TLS/identity failure or timeout. */
  connect (cb: (err: Error | null, conn: UpstreamLike | null) => void): void {
    const h2 = this.h2
    if (h2 !== null) {
      h2.open(err => cb(err, err === null ? new H2UpstreamStream(h2, this.endpoint.tls ? 'https' : 'http') : null))
      return
    }
    let socket: Socket
    let ready: string
    // Perf: HTTP/1.1 upstream sockets are read through `onread` (socket-reader.ts): no allocation and no
    // Readable push/emit/nextTick per read. A/B in bench/README.md.
    const reader = new SocketReader()
    try {
      ({ socket, ready } = this.dial(this.endpoint, reader.onread))
    } catch (err) {
      cb(new UpstreamConnectError(`cannot dial ${this.endpoint.id}: ${(err as Error).message}`, { cause: err }), null)
      return
    }
    reader.attach(socket, null)
    this.open++
    let done = false
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${this.options.connectTimeoutMs}ms`)), this.options.connectTimeoutMs)
    const fail = (err: Error): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      this.open--
      socket.destroy()
      const code = (err as NodeJS.ErrnoException).code
      cb(new UpstreamConnectError(`cannot connect to ${this.endpoint.id} (${this.endpoint.address}:${this.endpoint.port}): ${code ?? err.message}`, { cause: err }), null)
    }
    socket.once('error', fail)
    socket.once('close', () => fail(new Error('closed while connecting')))
    socket.once(ready, () => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.removeListener('error', fail)
      socket.removeAllListeners('close')
      cb(null, new UpstreamConnection(socket, this, reader))
    })
  }

  /**
   * Wait for a connection (circuit breaker: connections limit reached, request pending). `fn` gets a released
   * connection, or null when one closed (its slot is free: dial). Waiters are served first in, first out.
   */
  wait (fn: (conn: UpstreamConnection | null) => void): void {
    this.waiters.push(fn)
  }

  release (conn: UpstreamLike): void {
    if (!(conn instanceof UpstreamConnection)) return // h2 streams end with their response
    if (this.waiters.length > 0 && !this.retired && !conn.closed) {
      this.waiters.shift()!(conn)
      return
    }
    if (this.retired || this.idle.length >= this.options.maxIdle) {
      conn.destroy()
      return
    }
    this.idle.push(conn)
  }

  remove (conn: UpstreamConnection): void {
    this.open--
    const i = this.idle.indexOf(conn)
    if (i !== -1) this.idle.splice(i, 1)
    // the breaker's connection slot is released by the connection's 'close' listener (exchange.ts), which
    // runs after this; let a waiter dial on the next tick
    if (this.waiters.length > 0) {
      const w = this.waiters.shift()!
      setImmediate(() => w(null))
    }
  }

  /** Stop reusing: close idle connections now, busy ones when they finish. */
  retire (): void {
    this.retired = true
    this.h2?.close()
    this.closeIdle()
  }

  closeIdle (): void {
    this.h2?.close()
    const list = this.idle.splice(0)
    for (const c of list) {
      c.closed = true
      c.socket.destroy()
      this.open--
    }
  }
}
