/**
 * Counters that tell a hostile peer from a busy one, per connection and per window of `windowMs`:
 *
 * - rapid reset (CVE-2023-44487): streams the peer reset (or that we had to reset for its faults). Over
 *   `maxResets` in a window *and* more than half of the streams opened in it → flood. (A busy client that
 *   cancels on deadlines resets a minority of its streams; the attack resets nearly all.)
 * - cheap frames that cost us work and carry nothing: PING, SETTINGS, PRIORITY, empty DATA / CONTINUATION.
 *   Over `maxControl` in a window → flood.
 * - replies we owe (PING/SETTINGS ACK, RST_STREAM) while the socket does not drain: over `maxOutbound` →
 *   flood (a peer that sends without reading).
 *
 * @example
 * if (guard.reset(now())) connectionError(ENHANCE_YOUR_CALM, 'rapid reset')
 */
export class FloodGuard {
  private windowStart = 0
  private resets = 0
  private opened = 0
  private control = 0
  /** Replies queued since the socket last drained. */
  outbound = 0

  constructor (
    private readonly windowMs: number,
    private readonly maxResets: number,
    private readonly maxControl: number,
    private readonly maxOutbound: number
  ) {}

  private roll (t: number): void {
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t
      this.resets = 0
      this.opened = 0
      this.control = 0
    }
  }

  /** A stream opened by the peer. */
  open (t: number): void {
    this.roll(t)
    this.opened++
  }

  /** A peer stream reset; true = flood. */
  reset (t: number): boolean {
    this.roll(t)
    return ++this.resets > this.maxResets && this.resets * 2 > this.opened
  }

  /** A cheap frame; true = flood. */
  controlFrame (t: number): boolean {
    this.roll(t)
    return ++this.control > this.maxControl
  }

  /** A reply queued; true = flood. */
  reply (): boolean {
    return ++this.outbound > this.maxOutbound
  }
}
