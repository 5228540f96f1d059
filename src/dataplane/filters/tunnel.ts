/**
 * A tunnel after an HTTP Upgrade (WebSocket): the client's and the upstream's sockets spliced both ways
 * with backpressure (`pipe`), each end closing the other. Bytes either way are counted for telemetry.
 *
 *   client ══ down.pipe(up) ══▶ upstream        either side ends → the other ends (half-close passes through)
 *   client ◀══ up.pipe(down) ══ upstream        either side errors or closes → both destroyed → onEnd once
 *
 * @example
 * spliceTunnel(clientSocket, upstreamSocket, (bytesIn, bytesOut) => finish(bytesIn, bytesOut))
 */
import type { Socket } from 'node:net'

export function spliceTunnel (down: Socket, up: Socket, onEnd: (bytesIn: number, bytesOut: number) => void): void {
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
