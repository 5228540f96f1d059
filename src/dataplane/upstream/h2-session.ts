/**
 * The h2 connections of one endpoint (our codec, src/dataplane/http2/, client role): streams are multiplexed on the
 * first session with a free stream slot; when every session is at the peer's SETTINGS_MAX_CONCURRENT_STREAMS a new
 * one is dialed (up to {@link MAX_H2_SESSIONS}), and past that requests wait, first in first out, for a slot.
 *
 *   acquire() ─▶ a session with availableStreams > 0 ─▶ stream
 *      │ none: a session still connecting, or not yet past the peer's first SETTINGS (100 streams assumed) ─▶ wait
 *      │ all full and ready, fewer than MAX_H2_SESSIONS ─▶ dial another ─▶ wait for it
 *      └ MAX_H2_SESSIONS full ─▶ wait for onCapacity (a stream ended somewhere)
 *
 * A session that closes or gets GOAWAY leaves the list (GOAWAY: its open streams finish; streams it did not process
 * come back as REFUSED, which the exchange retries transparently).
 *
 * @example
 * sessions.acquire((err, session) => { if (err === null) new H2UpstreamStream(session!, 'https').send(…) })
 */
import type { Socket } from 'node:net'
import type { Endpoint } from '../../config/snapshot.ts'
import { UpstreamConnectError } from '../../errors.ts'
import type { H2ClientConnection } from '../http2/index.ts'
import type { H2Options } from '../http2/types.ts'
import { h2Codec, loadH2Codec } from '../lazy-h2.ts'
import type { Dialer } from './pool.ts'

/** Sessions per endpoint when each is at the peer's concurrent-stream limit. */
export const MAX_H2_SESSIONS = 4

/**
 * Receive windows and send high-water mark of every h2 connection the proxy has (both roles). They bound what the
 * proxy holds per stream and direction: what the sender may send before the proxy gives bytes back (the stream
 * receive window, 256 KiB) + what waits in the other side's send queue before its `write` says stop (64 KiB) + one
 * frame (16 KiB) ≈ 336 KiB; per connection, what is unconsumed is also capped by the connection window (8 MiB).
 * Perf: 256 KiB per stream keeps a 4 MB gRPC message to a few window round trips per hop (bench/grpc-overhead.ts).
 */
export const PROXY_H2_WINDOWS: Partial<H2Options> = { initialStreamWindow: 256 * 1024, connectionWindow: 8 * 1024 * 1024, streamHighWaterMark: 64 * 1024 }

/** Codec options of upstream sessions. */
export const UPSTREAM_H2_OPTIONS: Partial<H2Options> = PROXY_H2_WINDOWS

export class H2Session {
  readonly conn: H2ClientConnection
  connected = false
  closed = false
  private waiting: ((err: Error | null) => void)[] | null = []
  private readonly timer: NodeJS.Timeout

  constructor (ep: Endpoint, dial: Dialer, connectTimeoutMs: number, private readonly onCapacity: (s: H2Session) => void, private readonly onGone: (s: H2Session) => void) {
    this.conn = new (h2Codec()!.H2ClientConnection)({
      onCapacity: () => this.onCapacity(this),
      onGoaway: () => this.onGone(this),
      onClose: (_c, err) => this.close(err ?? new UpstreamConnectError(`h2 session to ${ep.id} closed`))
    }, UPSTREAM_H2_OPTIONS)
    this.timer = setTimeout(() => this.close(new UpstreamConnectError(`cannot connect to ${ep.id} (h2): connect timeout after ${connectTimeoutMs}ms`)), connectTimeoutMs)
    let socket: Socket
    let ready: string
    try {
      ({ socket, ready } = dial(ep, this.conn.onread, true))
    } catch (err) {
      clearTimeout(this.timer)
      this.closed = true
      this.waiting = null
      throw new UpstreamConnectError(`cannot dial ${ep.id}: ${(err as Error).message}`, { cause: err })
    }
    socket.once(ready, () => {
      clearTimeout(this.timer)
      this.connected = true
      const w = this.waiting
      this.waiting = null
      if (w !== null) for (const cb of w) cb(null)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!this.connected) this.close(new UpstreamConnectError(`cannot connect to ${ep.id} (${ep.address}:${ep.port}, h2): ${err.code ?? err.message}`, { cause: err }))
    })
    this.conn.attach(socket)
  }

  /** Can take a stream now. */
  get usable (): boolean { return this.connected && !this.closed && this.conn.availableStreams > 0 }

  /** Still dialing, or connected but before the peer's first SETTINGS (its real stream limit is not known yet). */
  get pending (): boolean { return !this.closed && (!this.connected || !this.conn.ready) }

  /** `cb` once connected (null) or failed. */
  whenConnected (cb: (err: Error | null) => void): void {
    if (this.closed) { cb(new UpstreamConnectError('h2 session closed')); return }
    if (this.waiting === null) { cb(null); return }
    this.waiting.push(cb)
  }

  close (err: Error | null = null): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timer)
    const w = this.waiting
    this.waiting = null
    if (w !== null) for (const cb of w) cb(err ?? new UpstreamConnectError('h2 session closed'))
    if (!this.conn.closed) {
      if (this.conn.activeStreams > 0) this.conn.shutdown()
      else this.conn.destroy()
    }
    this.onGone(this)
  }
}

/** The sessions of one endpoint and the requests waiting for a stream slot. */
export class H2Sessions {
  readonly list: H2Session[] = []
  private readonly waiters: ((err: Error | null, s: H2Session | null) => void)[] = []

  constructor (private readonly endpoint: () => Endpoint, private readonly dial: Dialer, private readonly connectTimeoutMs: number) {}

  /** A session with a free stream slot now, or null. Perf: the common case is the first session. */
  usable (): H2Session | null {
    const l = this.list
    for (let i = 0; i < l.length; i++) if (l[i].usable) return l[i]
    return null
  }

  /** A session with a free stream slot, now or once one is connected / has a slot. */
  acquire (cb: (err: Error | null, s: H2Session | null) => void): void {
    if (h2Codec() === null) {
      // the first h2 upstream of this process: load the codec first (lazy-h2.ts)
      loadH2Codec().then(() => this.acquire(cb), err => cb(err as Error, null))
      return
    }
    const s = this.usable()
    if (s !== null) { cb(null, s); return }
    let pending: H2Session | null = null
    for (const x of this.list) if (x.pending) { pending = x; break }
    if (pending === null && this.list.length < MAX_H2_SESSIONS) {
      try {
        pending = new H2Session(this.endpoint(), this.dial, this.connectTimeoutMs, () => this.serveWaiters(), gone => this.remove(gone))
      } catch (err) {
        cb(err as Error, null)
        return
      }
      this.list.push(pending)
    }
    if (pending !== null) {
      const p = pending
      p.whenConnected(err => {
        if (err !== null) { cb(err, null); return }
        if (p.usable) cb(null, p)
        else this.waiters.push(cb) // full until the peer's SETTINGS (or a stream ends)
      })
      return
    }
    this.waiters.push(cb)
  }

  close (): void {
    for (const s of this.list.slice()) s.close()
  }

  private serveWaiters (): void {
    while (this.waiters.length > 0) {
      const s = this.usable()
      if (s === null) return
      this.waiters.shift()!(null, s)
    }
  }

  private remove (s: H2Session): void {
    const i = this.list.indexOf(s)
    if (i !== -1) this.list.splice(i, 1)
    // waiters may be served by another session, or need a new one
    if (this.waiters.length > 0) {
      const w = this.waiters.splice(0)
      for (const cb of w) this.acquire(cb)
    }
  }
}
