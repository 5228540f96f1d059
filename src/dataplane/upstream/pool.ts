/**
 * Keep-alive connection pool for one upstream endpoint (address, port, tls, identity). Idle connections
 * are reused last-in first-out (the warmest socket, and idle ones at the bottom age out).
 * Pools outlive snapshots: the proxy keeps them in a registry keyed by {@link poolKey}, so a snapshot swap
 * does not drop warm connections; a pool whose endpoint left the snapshot is retired (idle ones closed,
 * busy ones closed when their response ends).
 *
 * HTTP/2: an endpoint that speaks only h2 (`protocol: h2`) gets multiplexed sessions (h2-session.ts) and no idle
 * list; a peer sidecar (`sidecar: true`) speaks both, so its pool keeps HTTP/1.1 connections and opens an h2 session
 * the first time a request that arrived over h2 goes there (protocol preservation between sidecars, docs/grpc.md).
 *
 * @example
 * const c = pool.acquireIdle(); if (c === null) pool.connect((err, c) => { … })
 */
import type { Socket } from 'node:net'
import type { Endpoint } from '../../config/snapshot.ts'
import { UpstreamConnectError } from '../../errors.ts'
import { H2Sessions } from './h2-session.ts'
import { H2UpstreamStream } from './h2-stream.ts'
import { SocketReader } from './socket-reader.ts'
import { type ConnectionOwner, UpstreamConnection, type UpstreamLike } from './upstream-connection.ts'

/** Node's `onread` option of net.connect / tls.connect (a {@link SocketReader}'s). */
export type ReadOption = SocketReader['onread']

/**
 * Opens a socket to an endpoint; `ready` is the event that says it can carry requests. With `onread` the
 * socket is read through it (no 'data' events). `h2`: the socket will carry h2 (TLS offers ALPN `h2`).
 */
export type Dialer = (ep: Endpoint, onread?: ReadOption, h2?: boolean) => { socket: Socket, ready: 'connect' | 'secureConnect' }

/**
 * Whether a request goes to `ep` over h2: always for an h2-only endpoint; to a peer sidecar as the DestinationPolicy's
 * `connectionPool.protocol` says (`policy`), else as it arrived (protocol preservation); else HTTP/1.1.
 */
export function usesH2 (ep: Endpoint, arrivedOverH2: boolean, policy: 'http1' | 'h2' | null = null): boolean {
  if (ep.protocol === 'h2') return true
  if (ep.sidecar !== true) return false
  return policy === null ? arrivedOverH2 : policy === 'h2'
}

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
  /** The multiplexed h2 sessions (made on first use: h2-only endpoint, or an h2 request to a peer sidecar). */
  private h2: H2Sessions | null = null

  constructor (endpoint: Endpoint, dial: Dialer, options: PoolOptions = DEFAULT_POOL_OPTIONS) {
    this.key = poolKey(endpoint)
    this.endpoint = endpoint
    this.dial = dial
    this.options = options
  }

  private sessions (): H2Sessions {
    return this.h2 ??= new H2Sessions(() => this.endpoint, this.dial, this.options.connectTimeoutMs)
  }

  /** An idle connection (or, when `h2`, a new stream on a session with a free slot), or null. */
  acquireIdle (h2 = false): UpstreamLike | null {
    if (h2) {
      const s = this.h2?.usable() ?? null
      return s !== null ? new H2UpstreamStream(s, this.endpoint.tls ? 'https' : 'http') : null
    }
    const idle = this.idle
    while (idle.length > 0) {
      const c = idle.pop()!
      if (!c.closed && !c.socket.destroyed) return c
    }
    return null
  }

  /**
   * Open a new connection (or, when `h2`, open or wait for the session and start a stream on it); `cb` gets
   * UpstreamConnectError on refusal, TLS/identity failure or timeout.
   */
  connect (cb: (err: Error | null, conn: UpstreamLike | null) => void, h2 = false): void {
    if (h2) {
      this.sessions().acquire((err, s) => cb(err, s !== null ? new H2UpstreamStream(s, this.endpoint.tls ? 'https' : 'http') : null))
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
