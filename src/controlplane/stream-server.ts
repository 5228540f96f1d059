import type { ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Registry, ProxyRecord } from './registry.ts'
import type { ProxyHello, StreamMessage } from './protocol.ts'

export interface StreamServerOptions {
  /** Messages a stream may have waiting behind a full socket before it is dropped (the proxy resyncs). */
  maxQueue?: number
  /** Bytes Node may hold for one stream before it is dropped. */
  maxBufferedBytes?: number
  /** Keep-alive line interval; proxies treat ~3 missed pings as a dead stream. */
  pingMs?: number
  /** Compile the snapshot for a proxy at a version; null = nothing to send (e.g. no config yet). */
  compile: (rec: ProxyRecord, version: string) => unknown
  /** First line of every stream: identity and trust bundle. */
  helloFor: (rec: ProxyRecord, streamId: string) => StreamMessage
}

/**
 * One long-lived response per proxy (HTTP/1.1 chunked NDJSON). Writes go through a bounded queue:
 *
 *   push ─► [socket writable?] ─yes─► res.write(line)
 *                  │ no (write returned false)
 *                  ▼
 *            queue (≤ maxQueue lines) ─on 'drain'─► res.write…
 *                  │ overflow, or > maxBufferedBytes buffered
 *                  ▼
 *            destroy the stream ─► proxy reconnects ─► full snapshot (resync)
 *
 * Snapshots are full, so a dropped stream loses nothing: the reconnect carries the current state.
 */
export class StreamServer extends EventEmitter {
  readonly streams = new Map<string, Stream>()
  drops = 0
  private readonly opts: Required<Omit<StreamServerOptions, 'compile' | 'helloFor'>> & StreamServerOptions
  private readonly registry: Registry
  private pushScheduled = false
  private readonly pingTimer: NodeJS.Timeout

  constructor (registry: Registry, opts: StreamServerOptions) {
    super()
    this.registry = registry
    this.opts = { maxQueue: 16, maxBufferedBytes: 8 << 20, pingMs: 5000, ...opts }
    this.pingTimer = setInterval(() => { for (const s of this.streams.values()) this.send(s, { type: 'ping' }) }, this.opts.pingMs)
    this.pingTimer.unref()
    registry.on('change', () => this.schedulePush())
  }

  /** Attach a proxy's stream (its hello already validated); sends hello + the current snapshot. */
  open (hello: ProxyHello, res: ServerResponse): Stream {
    const id = randomUUID()
    const previous = this.registry.proxies.get(hello.id)?.streamId
    if (previous) this.streams.get(previous)?.res.destroy()
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
    res.socket?.setNoDelay(true)
    const stream: Stream = { id, proxyId: hello.id, res, queue: [], blocked: false, lastBody: null }
    this.streams.set(id, stream)
    res.on('close', () => {
      this.streams.delete(id)
      this.registry.disconnect(id)
    })
    const rec = this.registry.connect(hello, id)
    this.send(stream, this.opts.helloFor(rec, id))
    this.pushOne(stream, String(this.registry.generation))
    return stream
  }

  /** Recompile and push to every stream on the next tick; several changes in one tick make one push. */
  schedulePush (): void {
    if (this.pushScheduled) return
    this.pushScheduled = true
    setImmediate(() => {
      this.pushScheduled = false
      const version = String(this.registry.generation)
      for (const s of this.streams.values()) this.pushOne(s, version)
    })
  }

  /** Send one message to every stream (trust bundle updates). */
  broadcast (msg: StreamMessage): void {
    for (const s of this.streams.values()) this.send(s, msg)
  }

  close (): void {
    clearInterval(this.pingTimer)
    for (const s of this.streams.values()) s.res.destroy()
    this.streams.clear()
  }

  private pushOne (s: Stream, version: string): void {
    const rec = this.registry.proxies.get(s.proxyId)
    if (rec === undefined || rec.streamId !== s.id) return
    let snapshot: { version: string } | null
    try {
      snapshot = this.opts.compile(rec, version) as { version: string } | null
    } catch (err) {
      // A compiler bug must not take the control plane down: this proxy keeps its last snapshot.
      this.emit('error-compile', rec.id, err)
      return
    }
    if (snapshot === null) return
    // Only push what changed for this proxy: compare the body without its version.
    const body = JSON.stringify({ ...snapshot, version: '' })
    if (body === s.lastBody) return
    s.lastBody = body
    rec.sentVersion = version
    this.send(s, { type: 'snapshot', version, snapshot })
    this.emit('pushed', rec, version)
  }

  private send (s: Stream, msg: StreamMessage): void {
    if (s.res.destroyed) return
    const line = JSON.stringify(msg) + '\n'
    if (s.blocked) {
      s.queue.push(line)
      if (s.queue.length > this.opts.maxQueue) this.drop(s, `queue over ${this.opts.maxQueue}`)
      return
    }
    if (!s.res.write(line)) {
      if (s.res.writableLength > this.opts.maxBufferedBytes) { this.drop(s, `over ${this.opts.maxBufferedBytes} bytes buffered`); return }
      s.blocked = true
      s.res.once('drain', () => this.flush(s))
    }
  }

  private flush (s: Stream): void {
    s.blocked = false
    while (s.queue.length > 0 && !s.blocked) {
      const line = s.queue.shift()!
      if (!s.res.write(line)) {
        s.blocked = true
        s.res.once('drain', () => this.flush(s))
      }
    }
  }

  private drop (s: Stream, reason: string): void {
    this.drops++
    this.emit('drop', s.proxyId, reason)
    s.queue.length = 0
    s.res.destroy()
  }
}

export interface Stream {
  id: string
  proxyId: string
  res: ServerResponse
  queue: string[]
  blocked: boolean
  /** Last snapshot body sent (without version), to skip pushes that change nothing for this proxy. */
  lastBody: string | null
}
