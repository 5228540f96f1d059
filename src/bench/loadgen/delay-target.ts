import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createHistogram, recordUs, summarize, type LatencySummary } from './histogram.ts'

/** A server whose latency is known: see `startDelayTarget`. */
export interface DelayTarget {
  port: number
  /** Server-side hold time (request head read → response written) of the requests since the last `reset`, ms. */
  hold (): LatencySummary
  reset (): void
  close (): Promise<void>
}

const SEP = Buffer.from('\r\n\r\n')

/**
 * A raw HTTP/1.1 target that answers every GET after a fixed delay (a timer per request, 100-byte body,
 * keep-alive), and measures its own hold time per request: from the read callback that brought the
 * request's head to just after the response's write. A load generator's latency against it must be that
 * hold plus a loopback round trip (tens of µs), whatever the generator's own pace: with a few connections
 * the target is far from saturated (16 connections at 2 ms ≈ 8k req/s), so the figure cannot move with
 * how much CPU the generator leaves it, unlike a saturated target's.
 *
 * Node timers fire on whole-ms loop time, so the hold of `setTimeout(d)` lies in about [d − 1, d + 1] ms;
 * that is why the hold is measured rather than assumed.
 * @example const t = await startDelayTarget({ delayMs: 2 }); …; t.hold().p50; await t.close()
 */
export async function startDelayTarget (o: { delayMs: number, port?: number, host?: string }): Promise<DelayTarget> {
  const body = Buffer.alloc(100, 'x')
  const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n\r\n`), body])
  let holds = createHistogram()
  const sockets = new Set<net.Socket>()
  const server = net.createServer(socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now()
      let i = chunk.indexOf(SEP)
      while (i >= 0) {
        setTimeout(() => {
          socket.write(response)
          recordUs(holds, (performance.now() - at) * 1000)
        }, o.delayMs)
        i = chunk.indexOf(SEP, i + 4)
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    hold: () => summarize(holds),
    reset: () => { holds = createHistogram() },
    close: () => new Promise<void>(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}
