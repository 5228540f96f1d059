/**
 * Open-loop schedule of one connection (wrk2 model): request k is *due* at `start + offset + k * interval`,
 * whether or not the previous one has answered. A connection sends request k when it is free and the
 * due time has come; its latency is counted from the due time, so a stall of the target shows up in
 * every request that should have been sent during it (coordinated omission corrected).
 *
 *   due:   |----k0----|----k1----|----k2----|----k3----|
 *   sent:  k0 ........ (slow answer) ......k1 k2  k3       k1..k3 late: their wait is latency too
 *
 * Connections are phase-shifted by `index / connections` of an interval so they do not fire together.
 */
export class OpenLoopSchedule {
  private readonly start: number
  private readonly interval: number
  private k = 0

  /** @param ratePerConnection requests per second of this connection (> 0) */
  constructor (startMs: number, ratePerConnection: number, index: number, connections: number) {
    this.interval = 1000 / ratePerConnection
    this.start = startMs + (index / connections) * this.interval
  }

  /** Due time (ms, same clock as startMs) of the next request to send. */
  peek (): number {
    return this.start + this.k * this.interval
  }

  /** Take the next due time. */
  take (): number {
    return this.start + this.k++ * this.interval
  }

  /** Number of requests taken so far. */
  get taken (): number {
    return this.k
  }
}

/** Share `total` across `parts` as evenly as possible (first parts get the remainder). */
export function split (total: number, parts: number): number[] {
  const base = Math.floor(total / parts)
  const rest = total - base * parts
  const out: number[] = []
  for (let i = 0; i < parts; i++) out.push(base + (i < rest ? 1 : 0))
  return out
}
