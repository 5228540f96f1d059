import { EventEmitter } from 'node:events'
import { get } from 'node:http'

/**
 * Polls the local app's readiness path (fresh connection each time, so a dead process is seen at once)
 * and emits `change` (healthy: boolean) on every transition, the first result included.
 * 2xx/3xx = healthy; an error, another status or no answer within the timeout = unhealthy.
 */
export class AppProbe extends EventEmitter {
  healthy = false
  /** False until the first probe finished. */
  known = false
  private path: string
  private readonly app: { host: string, port: number }
  private readonly intervalMs: number
  private timer: NodeJS.Timeout | null = null
  private inFlight = false
  private closed = false

  constructor (app: { host: string, port: number }, opts: { path?: string, intervalMs?: number } = {}) {
    super()
    this.app = app
    this.path = opts.path ?? '/healthz'
    this.intervalMs = opts.intervalMs ?? 250
  }

  start (): void {
    if (this.timer !== null || this.closed) return
    this.timer = setInterval(() => this.run(), this.intervalMs)
    this.timer.unref()
    this.run()
  }

  setPath (path: string): void { this.path = path }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private run (): void {
    if (this.inFlight || this.closed) return
    this.inFlight = true
    let settled = false
    const done = (ok: boolean): void => {
      if (settled) return
      settled = true
      this.inFlight = false
      if (this.closed) return
      const changed = !this.known || ok !== this.healthy
      this.known = true
      this.healthy = ok
      if (changed) this.emit('change', ok)
    }
    const req = get({ host: this.app.host, port: this.app.port, path: this.path, agent: false, timeout: Math.max(200, Math.min(1000, this.intervalMs * 2)) }, res => {
      res.resume()
      done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
    })
    req.on('timeout', () => { req.destroy(); done(false) })
    req.on('error', () => done(false))
  }
}

/**
 * One GET of `path` on the local app (fresh connection): 2xx/3xx = true. For probes kubelet sends to the
 * sidecar's admin listener once `meshwork inject` rewrote them (the app's port is captured).
 */
export function probeAppOnce (app: { host: string, port: number }, path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise(resolve => {
    const req = get({ host: app.host, port: app.port, path, agent: false, timeout: timeoutMs }, res => {
      res.resume()
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400)
    })
    req.on('timeout', () => { req.destroy(); resolve(false) })
    req.on('error', () => resolve(false))
  })
}
