import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkSnapshot, type ProxySnapshot } from '../../src/config/snapshot.ts'
import { SnapshotRejectedError } from '../../src/errors.ts'
import type { TlsMaterial } from '../../src/dataplane/tls/cert-store.ts'

export const MESH = new URL('./fixtures/mesh.yaml', import.meta.url).pathname

/**
 * An in-process stand-in for the Proxy's control-plane surface: validates snapshots with the same
 * checkSnapshot the proxy uses, keeps the last good one, records TLS material. `reject` makes it NACK.
 */
export class FakeProxy {
  snapshot: ProxySnapshot | null = null
  tls: TlsMaterial | null = null
  tlsHistory: TlsMaterial[] = []
  applied: string[] = []
  reject: ((raw: any) => string | null) | null = null

  applySnapshot (raw: unknown): { ok: true, version: string } | { ok: false, error: SnapshotRejectedError } {
    try {
      const why = this.reject?.(raw)
      if (why) throw new SnapshotRejectedError(why)
      const snap = checkSnapshot(raw)
      this.snapshot = snap
      this.applied.push(snap.version)
      return { ok: true, version: snap.version }
    } catch (err) {
      if (err instanceof SnapshotRejectedError) return { ok: false, error: err }
      throw err
    }
  }

  setTlsMaterial (m: TlsMaterial): void {
    this.tls = m
    this.tlsHistory.push(m)
  }
}

/** Poll until `pred` holds; throws after `timeoutMs` (generous: loaded 2-core machines). */
export async function until (pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now()
  while (!pred()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** A tiny app with a readiness path; `setHealthy(false)` makes it answer 503. */
export async function startApp (name = 'app'): Promise<{ server: Server, port: number, setHealthy (h: boolean): void, close (): Promise<void> }> {
  let healthy = true
  const server = createServer((req, res) => {
    if (req.url === '/healthz' || req.url === '/ready') { res.writeHead(healthy ? 200 : 503).end(); return }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    setHealthy: h => { healthy = h },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
