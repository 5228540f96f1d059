/**
 * Coarse monotonic clock and a shared timer list for request timeouts (undici `util/timers.js` style).
 *
 * One unref'd 10 ms tick refreshes `now()` and fires due fast timers. While the tick is idle (nothing
 * called `now()` and no timer is armed for ~1 s) it stops, and the next `now()` reads the real clock and
 * restarts it, so `now()` is never more than one tick (plus event-loop lag) behind.
 *
 *   now()          ── cached ms, refreshed every TICK_MS ──► deadlines, budgets, buckets, ejection times
 *   preciseNow()   ── performance.now()                  ──► latency samples (peak EWMA needs < 1 ms)
 *   fastTimeout()  ── timers[] scanned each tick          ──► coarse request / per-try timeouts (±TICK_MS)
 *
 * The tick never keeps the process alive (sockets do); tests that only wait on a fast timer must hold a
 * ref'd handle of their own.
 */
import { performance } from 'node:perf_hooks'

/** Resolution of `now()` and of fast timers, in ms. */
export const TICK_MS = 10
/** Idle ticks (no `now()` call, no armed timer) after which the tick stops. */
const IDLE_TICKS_BEFORE_STOP = 100

let fastNow = performance.now()
let ticking = false
let used = false
let idleTicks = 0
let tickTimer: NodeJS.Timeout | null = null

/** Armed timers. Perf: a plain array scanned once per tick; removal swaps with the last element (O(1)). */
const timers: FastTimer<any>[] = []

/**
 * Coarse monotonic time in ms (same origin as `performance.now()`), at most ~TICK_MS stale.
 * @example const deadlineAt = now() + 2000
 */
export function now (): number {
  used = true
  if (!ticking) startTick() // idle: read the real clock now, then keep it fresh with the tick
  return fastNow
}

/**
 * Precise monotonic time in ms. Use it for latency samples, where 10 ms steps would be useless.
 * @example const t0 = preciseNow(); …; ep.onEnd({ status, latencyMs: preciseNow() - t0 })
 */
export function preciseNow (): number {
  return performance.now()
}

function startTick (): void {
  fastNow = performance.now()
  ticking = true
  idleTicks = 0
  tickTimer = setTimeout(onTick, TICK_MS)
  tickTimer.unref()
}

function onTick (): void {
  fastNow = performance.now()
  // Schedule the next tick before running callbacks: a callback that throws (an uncaught exception,
  // as with setTimeout) must not stop the clock for the rest of the process.
  tickTimer!.refresh()
  if (timers.length === 0 && !used) {
    if (++idleTicks >= IDLE_TICKS_BEFORE_STOP) {
      clearTimeout(tickTimer!)
      tickTimer = null
      ticking = false
      return
    }
  } else {
    idleTicks = 0
  }
  used = false
  // Perf: indexed loop; a fired or cleared timer is swapped out, so do not advance `i` then.
  let i = 0
  while (i < timers.length) {
    const t = timers[i]
    if (t.deadline <= fastNow) {
      removeAt(i)
      t.fire()
    } else {
      i++
    }
  }
}

function removeAt (i: number): void {
  const last = timers.pop()!
  if (i < timers.length) {
    timers[i] = last
    last.index = i
  }
}

/**
 * A coarse timer that can be re-armed without allocating. Owned by a long-lived object (a connection,
 * a request context) and armed per request: `timer.arm(ms)` / `timer.disarm()`.
 * The callback gets `arg`, so a callback bound once can serve many requests (no closure per request).
 *
 * @example
 * const t = new FastTimer(onTimeout, ctx); t.arm(1000); …; t.disarm()
 */
export class FastTimer<A = unknown> {
  callback: (arg: A) => void
  arg: A
  deadline = 0
  /** Position in the armed list, -1 when not armed. */
  index = -1

  constructor (callback: (arg: A) => void, arg: A) {
    this.callback = callback
    this.arg = arg
  }

  get armed (): boolean { return this.index !== -1 }

  /** Fire `callback(arg)` after about `ms` (rounded up to the next tick). Re-arming moves the deadline. */
  arm (ms: number): void {
    if (!ticking) startTick()
    this.deadline = fastNow + ms
    if (this.index === -1) {
      this.index = timers.length
      timers.push(this)
    }
  }

  disarm (): void {
    if (this.index !== -1) {
      removeAt(this.index)
      this.index = -1
    }
  }

  /** @internal called by the tick after removal. */
  fire (): void {
    this.index = -1
    this.callback(this.arg)
  }
}

/**
 * Call `fn(arg)` after about `ms` on the shared coarse tick (±TICK_MS). Cheaper than setTimeout for
 * timeouts that are almost always cleared before they fire.
 * @example const t = fastTimeout(onTimeout, 2000, req); …; clearFastTimeout(t)
 */
export function fastTimeout<A> (fn: (arg: A) => void, ms: number, arg?: A): FastTimer<A> {
  const t = new FastTimer<A>(fn, arg as A)
  t.arm(ms)
  return t
}

/** Cancel a fast timer; a no-op when it already fired or was cleared. */
export function clearFastTimeout (t: FastTimer<any> | null | undefined): void {
  if (t) t.disarm()
}

/** Number of armed fast timers (metrics, tests). */
export function armedFastTimers (): number {
  return timers.length
}

/** Whether the coarse tick is running (it stops after ~1 s with no `now()` call and no armed timer). */
export function clockTicking (): boolean {
  return ticking
}
