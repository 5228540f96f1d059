/**
 * A tunnel after an HTTP Upgrade (WebSocket): the client's and the upstream's sockets spliced both ways
 * with backpressure (`pipe`), each end closing the other. Bytes either way are counted for telemetry.
 *
 *   client ══ down.pipe(up) ══▶ upstream        either side ends → the other ends (half-close passes through)
 *   client ◀══ up.pipe(down) ══ upstream        either side errors or closes → both destroyed → onEnd once
 *
 * A tunnel with no byte either way for `idleTimeoutMs` (default 1 h, Envoy's default idle timeout) is closed
 * on both sides, so abandoned WebSockets (a peer that vanished without a FIN) do not hold sockets and
 * circuit-breaker slots forever. Socket timeouts restart on reads and writes, so traffic in either
 * direction keeps both ends alive.
 *
 * @example
 * spliceTunnel(clientSocket, upstreamSocket, (bytesIn, bytesOut) => finish(bytesIn, bytesOut))
 */
import type { Socket } from 'node:net'

export const TUNNEL_IDLE_TIMEOUT_MS = 3_600_000

export function spliceTunnel (down: Socket, up: Socket, onEnd: (bytesIn: number, bytesOut: number) => void, idleTimeoutMs = TUNNEL_IDLE_TIMEOUT_MS): void {
  let bytesIn = 0
  let bytesOut = 0
  let closed = 0
  const onClose = (): void => {
    closed++
    // one side gone: the tunnel is over, drop the other one too
    if (closed === 1) { down.destroy(); up.destroy(); return }
    onEnd(bytesIn, bytesOut)
  }
  const onError = (): void => { down.destroy(); up.destroy() }
  down.setTimeout(idleTimeoutMs, onError)
  up.setTimeout(idleTimeoutMs, onError)
  down.on('data', (c: Buffer) => { bytesIn += c.length })
  up.on('data', (c: Buffer) => { bytesOut += c.length })
  down.on('error', onError)
  up.on('error', onError)
  down.once('close', onClose)
  up.once('close', onClose)
  down.pipe(up)
  up.pipe(down)
  if (down.destroyed || up.destroyed) onError()
}
