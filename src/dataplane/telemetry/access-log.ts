import { createWriteStream } from 'node:fs'
import type { Writable } from 'node:stream'

/** One request, as logged. Absent optional fields are left out of the line. */
export interface AccessLogEntry {
  /** Epoch ms of the request start; defaults to now. */
  time?: number
  direction?: string
  method: string
  authority: string
  path: string
  status: number
  duration_ms: number
  /** Request body bytes received. */
  bytes_in?: number
  /** Response body bytes sent. */
  bytes_out: number
  /** `host:port` of the endpoint called. */
  upstream?: string
  /** Caller's SPIFFE ID (inbound) or local service (outbound). */
  source?: string
  route?: string
  trace_id?: string
  /** MESH_ERR_* when the proxy made the response. */
  error_code?: string
  /** gRPC status of a gRPC request (trailers, trailers-only head, or the proxy's gRPC error). */
  grpc_status?: number
  /** Protocol the request arrived with: `HTTP/1.1` or `HTTP/2`. */
  protocol?: string
  /** `user-agent` and `x-request-id` of the request (redacted when MeshConfig telemetry.redactHeaders names them). */
  user_agent?: string
  request_id?: string
}

export interface AccessLogOptions {
  /** `stdout` or a file path (appended to). */
  path?: string
  /** A stream to write to instead of `path`. */
  stream?: Writable
  /** Lines buffered while the destination is slow; beyond this, lines are dropped and counted. Default 4 MiB. */
  maxBufferBytes?: number
  /** Write as soon as this much is pending, without waiting for the next tick. Default 64 KiB. */
  flushBytes?: number
}

/**
 * JSON-lines access log. `log()` formats one line and queues it; lines are written in chunks on the next tick,
 * through a stream that does not block the event loop (files and stdout both go through libuv's thread pool).
 * When the destination cannot keep up, up to `maxBufferBytes` wait; past that, lines are dropped (`dropped`).
 * @example
 * const log = new AccessLog({ path: meshConfig.accessLog.path })
 * log.log({ method: 'GET', authority: 'reviews', path: '/reviews/1', status: 200, duration_ms: 4.2, bytes_out: 1830 })
 * await log.close()
 */
export class AccessLog {
  /** Lines dropped because the buffer was full. */
  dropped = 0
  readonly #stream: Writable
  readonly #ownsStream: boolean
  readonly #maxBufferBytes: number
  readonly #flushBytes: number
  #pending: string[] = []
  #pendingBytes = 0
  #blocked = false
  #scheduled = false
  #closed = false
  #lastMs = -1
  #lastIso = ''

  constructor (opts: AccessLogOptions = {}) {
    if (opts.stream !== undefined) {
      this.#stream = opts.stream
      this.#ownsStream = false
    } else {
      const path = opts.path ?? 'stdout'
      // Perf: process.stdout is synchronous for pipes on Linux (a slow reader would stall the proxy);
      // an fs stream on fd 1 writes from the thread pool instead.
      this.#stream = path === 'stdout' ? createWriteStream('', { fd: 1, autoClose: false }) : createWriteStream(path, { flags: 'a' })
      this.#ownsStream = true
    }
    this.#stream.on('error', () => { /* a broken log destination must not crash the proxy; lines are dropped */ this.#closed = true })
    this.#stream.on('drain', () => { this.#blocked = false; this.#write() })
    this.#maxBufferBytes = opts.maxBufferBytes ?? 4 * 1024 * 1024
    this.#flushBytes = opts.flushBytes ?? 64 * 1024
  }

  log (e: AccessLogEntry): void {
    if (this.#closed) { this.dropped++; return }
    const line = this.format(e)
    if (this.#pendingBytes + line.length > this.#maxBufferBytes) { this.dropped++; return }
    this.#pending.push(line)
    this.#pendingBytes += line.length
    if (this.#pendingBytes >= this.#flushBytes) this.#write()
    else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(() => { this.#scheduled = false; this.#write() })
    }
  }

  /** The JSON line (with '\n') for an entry. */
  format (e: AccessLogEntry): string {
    const t = e.time ?? Date.now()
    // Perf: many requests share a millisecond; format the timestamp once per ms.
    if (t !== this.#lastMs) { this.#lastMs = t; this.#lastIso = new Date(t).toISOString() }
    let s = `{"time":"${this.#lastIso}"`
    if (e.direction !== undefined) s += `,"direction":${JSON.stringify(e.direction)}`
    s += `,"method":${JSON.stringify(e.method)},"authority":${JSON.stringify(e.authority)},"path":${JSON.stringify(e.path)}` +
      `,"status":${e.status | 0},"duration_ms":${round3(e.duration_ms)}`
    if (e.bytes_in !== undefined) s += `,"bytes_in":${e.bytes_in}`
    s += `,"bytes_out":${e.bytes_out}`
    if (e.upstream !== undefined) s += `,"upstream":${JSON.stringify(e.upstream)}`
    if (e.source !== undefined) s += `,"source":${JSON.stringify(e.source)}`
    if (e.route !== undefined) s += `,"route":${JSON.stringify(e.route)}`
    if (e.trace_id !== undefined) s += `,"trace_id":${JSON.stringify(e.trace_id)}`
    if (e.error_code !== undefined) s += `,"error_code":${JSON.stringify(e.error_code)}`
    if (e.grpc_status !== undefined) s += `,"grpc_status":${e.grpc_status | 0}`
    if (e.protocol !== undefined) s += `,"protocol":${JSON.stringify(e.protocol)}`
    if (e.user_agent !== undefined) s += `,"user_agent":${JSON.stringify(e.user_agent)}`
    if (e.request_id !== undefined) s += `,"request_id":${JSON.stringify(e.request_id)}`
    return s + '}\n'
  }

  /** Resolves when everything logged so far has been handed to the OS. */
  async flush (): Promise<void> {
    this.#write()
    while (this.#pendingBytes > 0 && !this.#closed) {
      await new Promise<void>(resolve => this.#stream.once('drain', resolve))
    }
    await new Promise<void>(resolve => {
      // An empty write's callback fires after earlier writes completed.
      if (this.#stream.writableEnded || this.#stream.destroyed) resolve()
      else this.#stream.write('', () => resolve())
    })
  }

  /** Flushes and closes the file (stdout and passed streams stay open). */
  async close (): Promise<void> {
    await this.flush()
    this.#closed = true
    if (this.#ownsStream) await new Promise<void>(resolve => this.#stream.end(resolve))
  }

  #write (): void {
    if (this.#blocked || this.#pendingBytes === 0) return
    const chunk = this.#pending.length === 1 ? this.#pending[0] : this.#pending.join('')
    this.#pending = []
    this.#pendingBytes = 0
    if (!this.#stream.write(chunk)) this.#blocked = true
  }
}

function round3 (n: number): number { return Math.round(n * 1000) / 1000 }
