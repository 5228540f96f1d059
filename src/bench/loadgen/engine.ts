import { performance } from 'node:perf_hooks'
import { H1Connection, type LoadConnection } from './h1-client.ts'
import { GrpcConnection } from './grpc-client.ts'
import { H2Connection } from './h2-client.ts'
import { createHistogram, encodeHistogram, type LatencyHistogram, recordUs } from './histogram.ts'
import type { LoadOptions } from './options.ts'
import { OpenLoopSchedule } from './schedule.ts'
import { encodeH1Request, type Target, targetFrom } from './target.ts'

/** The share of a run one engine (one worker thread) drives. */
export interface EngineJob {
  options: LoadOptions
  /** Connections of this engine. */
  connections: number
  /** Index of this engine's first connection among all, for schedule phase shifts. */
  firstIndex: number
  totalConnections: number
  /** Measured requests this engine sends (request-count mode). */
  requests?: number
}

export interface EngineProgress {
  sent: number
  completed: number
  measured: number
  errors: number
}

/** What one engine measured. Times are epoch ms (`performance.timeOrigin + performance.now()`). */
export interface EngineReport {
  histogram: string
  measured: number
  retCodes: Record<string, number>
  errors: Record<string, number>
  connectErrors: Record<string, number>
  sent: number
  measureStart: number
  /** When the last measured request completed (request-count mode ends there). */
  lastCompletion: number
  stoppedAt: number
  /** True when no connection ever came up. */
  unreachable: boolean
  /** Last connection-loss cause. */
  lastCloseCode: string
}

interface Slot {
  index: number
  conn: LoadConnection | null
  ready: boolean
  busy: boolean
  everReady: boolean
  /** Due (open loop) or send (closed loop) time of the request in flight. */
  startedAt: number
  schedule: OpenLoopSchedule | null
  quota: number
  failures: number
  reconnectTimer: NodeJS.Timeout | null
}

const now = (): number => performance.now()

/**
 * Open loop: a request due within this many ms is sent when the pacing timer fires (timers have millisecond
 * resolution); see schedulePump.
 */
export const SEND_AHEAD_MS = 1

/**
 * Drives `connections` keep-alive connections in this thread, open loop (rate > 0) or closed loop.
 * Phases: warm-up [t0, tm) not recorded → measured [tm, tEnd) → drain (in-flight requests get up to
 * `timeoutMs`) → report. Every phase is bounded in time.
 */
export class LoadEngine {
  private readonly job: EngineJob
  private readonly target: Target
  private readonly request: Buffer
  private readonly slots: Slot[] = []
  private readonly histogram: LatencyHistogram = createHistogram()
  private readonly retCodes: Record<string, number> = {}
  private readonly errors: Record<string, number> = {}
  private readonly connectErrors: Record<string, number> = {}
  private readonly closedLoop: boolean
  private readonly grpc: boolean
  private tm = 0
  private tEnd = 0
  private sent = 0
  private completed = 0
  private measured = 0
  private errorCount = 0
  private lastCompletion = 0
  private stopping = false
  private unreachableReported = false
  private lastCloseCode = ''
  private finished = false
  private pumpTimer: NodeJS.Timeout | null = null
  private pumpAt = Number.POSITIVE_INFINITY
  private readonly pumpBound = (): void => this.pump()
  /** Connections whose response arrived in this event-loop turn; they send in `flushFollowUps`. */
  private readonly followUps: Slot[] = []
  private followUpImmediate: NodeJS.Immediate | null = null
  /** Time stamp shared by the responses read in the current poll phase (0 = none yet). */
  private batchAt = 0
  private readonly flushFollowUpsBound = (): void => this.flushFollowUps()
  private sweepTimer: NodeJS.Timeout | null = null
  private endTimer: NodeJS.Timeout | null = null
  private resolveDone: ((r: EngineReport) => void) | null = null
  private readonly onUnreachable: (code: string) => void

  constructor (job: EngineJob, onUnreachable: (code: string) => void = () => {}) {
    this.job = job
    this.target = targetFrom(job.options)
    this.request = encodeH1Request(this.target)
    this.closedLoop = job.options.rate === 0
    this.grpc = job.options.protocol === 'grpc'
    this.onUnreachable = onUnreachable
  }

  progress (): EngineProgress {
    return { sent: this.sent, completed: this.completed, measured: this.measured, errors: this.errorCount }
  }

  /** Start at local time `startAt` (performance.now() clock); resolves when the run is over. */
  run (startAt = now()): Promise<EngineReport> {
    const o = this.job.options

    this.tm = startAt + o.warmupMs
    this.tEnd = this.tm + o.durationMs
    const ratePerConn = o.rate / this.job.totalConnections
    const quotas = splitQuota(this.job.requests, this.job.connections)
    for (let i = 0; i < this.job.connections; i++) {
      this.slots.push({
        index: this.job.firstIndex + i,
        conn: null,
        ready: false,
        busy: false,
        everReady: false,
        startedAt: 0,
        schedule: this.closedLoop ? null : new OpenLoopSchedule(startAt, ratePerConn, this.job.firstIndex + i, this.job.totalConnections),
        quota: quotas[i],
        failures: 0,
        reconnectTimer: null
      })
    }
    return new Promise(resolve => {
      this.resolveDone = resolve
      const wait = Math.max(0, startAt - now())
      setTimeout(() => {
        for (const s of this.slots) this.connect(s)
        this.endTimer = setTimeout(() => this.stop(), Math.max(0, this.tEnd - now()))
        this.sweepTimer = setInterval(() => this.sweep(), 100)
      }, wait)
    })
  }

  /** End the run now (abort or end of the measured phase): no new requests; in-flight ones may finish. */
  stop (): void {
    if (this.stopping) return
    this.stopping = true
    if (this.endTimer !== null) clearTimeout(this.endTimer)
    this.clearPump()
    for (const s of this.slots) if (s.reconnectTimer !== null) clearTimeout(s.reconnectTimer)
    if (!this.slots.some(s => s.busy)) { this.finish(); return }
    // Drain: the requests in flight get up to one request timeout.
    setTimeout(() => this.finish(), this.job.options.timeoutMs).unref()
  }

  private finish (): void {
    if (this.finished) return
    this.finished = true
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    if (this.endTimer !== null) clearTimeout(this.endTimer)
    this.clearPump()
    if (this.followUpImmediate !== null) clearImmediate(this.followUpImmediate)
    this.followUpImmediate = null
    for (const s of this.slots) {
      if (s.reconnectTimer !== null) clearTimeout(s.reconnectTimer)
      if (s.busy && s.startedAt >= this.tm) this.countError('EDRAIN')
      s.conn?.destroy()
    }
    const t = now()
    this.resolveDone?.({
      histogram: encodeHistogram(this.histogram),
      measured: this.measured,
      retCodes: this.retCodes,
      errors: this.errors,
      connectErrors: this.connectErrors,
      sent: this.sent,
      measureStart: performance.timeOrigin + this.tm,
      lastCompletion: performance.timeOrigin + (this.lastCompletion || t),
      stoppedAt: performance.timeOrigin + Math.min(t, this.tEnd),
      unreachable: !this.slots.some(s => s.everReady),
      lastCloseCode: this.lastCloseCode
    })
  }

  private connect (s: Slot): void {
    if (this.stopping) return
    s.ready = false
    s.busy = false
    const ev = {
      onReady: () => {
        s.ready = true
        s.everReady = true
        this.next(s)
      },
      onResponse: (status: number, inRead?: boolean) => this.onResponse(s, status, inRead === true),
      onClose: (code: string) => this.onClose(s, code)
    }
    const o = this.job.options
    s.conn = o.protocol === 'grpc'
      ? new GrpcConnection(this.target, o.messageSize, ev)
      : o.protocol === 'h2' ? new H2Connection(this.target, ev) : new H1Connection(this.target, ev, this.request)
  }

  private onResponse (s: Slot, status: number, inRead: boolean): void {
    s.busy = false
    s.failures = 0
    const t = inRead ? this.pollStamp() : now()
    this.completed++
    if (s.startedAt >= this.tm && s.startedAt < this.tEnd) {
      recordUs(this.histogram, (t - s.startedAt) * 1000)
      this.measured++
      this.lastCompletion = t
      this.retCodes[status] = (this.retCodes[status] ?? 0) + 1
      // gRPC mode: `status` is the call's grpc-status (0 = OK)
      if (this.grpc ? status !== 0 : status >= 400) this.errorCount++
      if (s.quota > 0) s.quota--
    }
    if (this.stopping) {
      if (!this.slots.some(x => x.busy)) this.finish()
      return
    }
    if (this.job.requests !== undefined && s.quota === 0 && t >= this.tm) {
      if (this.slots.every(x => x.quota === 0)) this.stop()
      return
    }
    if (s.conn?.isOpen) this.followUp(s)
  }

  // Accuracy: the responses read in one poll phase were all there when epoll returned, so they all get
  // the time the first of them was stamped, not a time that also counts this thread's work on the
  // responses handled before it in the batch (read syscall, JS callback, parse, bookkeeping: a few µs
  // each here, ~1 µs in wrk's C): with k responses arriving together the i-th one counted (i-1) times
  // that work as latency. The stamp is cleared in the check phase right after this poll phase
  // (flushFollowUps, a setImmediate), so it never outlives it; only reads from the poll phase (plain
  // sockets' libuv read callback) use it, other completions (close-delimited, TLS, h2) use now().
  private pollStamp (): number {
    if (this.batchAt === 0) {
      this.batchAt = now()
      if (this.followUpImmediate === null) this.followUpImmediate = setImmediate(this.flushFollowUpsBound)
    }
    return this.batchAt
  }

  // Accuracy: the next request of a connection is written after every response of this poll phase has
  // been stamped (check phase), as wrk does (it re-arms the socket for writing and writes in the next
  // epoll round): a loopback write syscall (~5–10 µs, the receiver's TCP work included) must not run
  // between a response's arrival and its stamp. In closed loop the wait lies between a response and the
  // next send, outside the measured interval; in open loop latency runs from the scheduled time anyway.
  private followUp (s: Slot): void {
    this.followUps.push(s)
    if (this.followUpImmediate === null) this.followUpImmediate = setImmediate(this.flushFollowUpsBound)
  }

  private flushFollowUps (): void {
    this.followUpImmediate = null
    this.batchAt = 0
    const list = this.followUps
    for (let i = 0; i < list.length; i++) this.next(list[i])
    list.length = 0
  }

  private onClose (s: Slot, code: string): void {
    this.lastCloseCode = code
    const wasBusy = s.busy
    s.busy = false
    s.ready = false
    s.conn = null
    if (wasBusy) {
      if (s.startedAt >= this.tm) this.countError(code)
    } else if (!s.everReady || code !== 'ECLOSED') {
      this.connectErrors[code] = (this.connectErrors[code] ?? 0) + 1
    }
    // Consecutive losses without a response in between. No response ever and every connection lost
    // repeatedly (refused, TLS failure, wrong protocol): the target is unusable; say so now rather
    // than retrying until the end of the run.
    s.failures++
    if (!this.unreachableReported && this.completed === 0 && this.slots.every(x => x.failures >= (x.everReady ? 3 : 1))) {
      this.unreachableReported = true
      this.onUnreachable(code)
    }
    if (this.stopping) {
      if (!this.slots.some(x => x.busy)) this.finish()
      return
    }
    // Reconnect at once after a clean close, with capped backoff after repeated failures.
    const delay = s.failures <= 1 && s.everReady ? 0 : Math.min(1000, 25 * 2 ** Math.min(s.failures, 6))
    s.reconnectTimer = setTimeout(() => { s.reconnectTimer = null; this.connect(s) }, delay)
  }

  private countError (code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1
    this.errorCount++
  }

  /** Send on a free, ready connection when its request is due; otherwise arrange to come back. */
  private next (s: Slot): void {
    if (this.stopping || s.busy || !s.ready) return
    const t = now()
    if (s.quota === 0 && t >= this.tm) return
    if (s.schedule === null) {
      if (t >= this.tEnd) return
      this.send(s, t)
      return
    }
    const due = s.schedule.peek()
    if (due >= this.tEnd) return
    if (due <= t + SEND_AHEAD_MS) {
      s.schedule.take()
      // Accuracy: late (the connection was busy, the loop or the timer late): timed from the due time, as wrk2;
      // early (within SEND_AHEAD_MS): timed from the actual send, so the early start is not counted as latency.
      this.send(s, due < t ? due : t)
    } else {
      this.schedulePump(due)
    }
  }

  private send (s: Slot, startedAt: number): void {
    s.busy = true
    s.startedAt = startedAt
    this.sent++
    s.conn!.send()
  }

  // Perf: one timer for all idle connections of the thread, armed for the earliest due time, and no busy
  // waiting: libuv timers have millisecond resolution, so the timer is armed for floor(wait) ms (it fires
  // 0–2 ms before the due time, rarely later) and every request due within SEND_AHEAD_MS is sent when it
  // fires, i.e. arrivals are released in millisecond slots, as wrk2's millisecond timers release them. The
  // earlier pacing waited the last 2 ms with setImmediate: with 16 connections at ≥ 1000 req/s a request is
  // due every ≤ 2 ms per thread, so both generator threads spun without pause (0.8–1.8 cores of the
  // 2-core machine in bench/tail-latency.ts, against the proxies being measured).
  private schedulePump (due: number): void {
    if (due >= this.pumpAt) return
    this.clearPump()
    this.pumpAt = due
    this.pumpTimer = setTimeout(this.pumpBound, Math.max(1, Math.floor(due - now())))
  }

  private clearPump (): void {
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer)
    this.pumpTimer = null
    this.pumpAt = Number.POSITIVE_INFINITY
  }

  private pump (): void {
    this.pumpTimer = null
    this.pumpAt = Number.POSITIVE_INFINITY
    for (let i = 0; i < this.slots.length; i++) this.next(this.slots[i])
  }

  /** Requests over their timeout: count them and reopen the connection. */
  private sweep (): void {
    const limit = now() - this.job.options.timeoutMs
    for (const s of this.slots) {
      if (s.busy && s.startedAt < limit && s.conn !== null) {
        const c = s.conn
        s.busy = false
        if (s.startedAt >= this.tm) this.countError('ETIMEOUT')
        c.destroy()
        s.conn = null
        if (this.stopping) continue
        s.failures++
        this.connect(s)
      }
    }
    if (this.stopping && !this.slots.some(x => x.busy)) this.finish()
  }
}

function splitQuota (requests: number | undefined, parts: number): number[] {
  const out: number[] = []
  if (requests === undefined) { for (let i = 0; i < parts; i++) out.push(-1); return out }
  const base = Math.floor(requests / parts)
  for (let i = 0; i < parts; i++) out.push(base + (i < requests - base * parts ? 1 : 0))
  return out
}
