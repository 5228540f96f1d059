import { validateResource, type Resource } from '../config/index.ts'
import type { ApplyResult, MeshBackend, ProxyInfo } from './mesh-backend.ts'

/**
 * The management plane's view of a running control plane over its loopback HTTP API. Every call is
 * bounded in time; a control plane that is down yields `connected: false` / empty lists / an apply
 * result with MESH_ERR_CONTROL_PLANE_UNAVAILABLE — the UI keeps working and says so.
 */
export class ControlPlaneBackend implements MeshBackend {
  readonly url: string
  #timeoutMs: number
  #lastResources: Resource[] = []
  #lastProxies: ProxyInfo[] = []

  constructor (url: string, opts: { timeoutMs?: number } = {}) {
    this.url = url.replace(/\/$/, '')
    this.#timeoutMs = opts.timeoutMs ?? 2000
  }

  async #get (path: string): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(this.#timeoutMs) })
    if (!res.ok) throw new Error(`control plane answered ${res.status} for ${path}`)
    return await res.json()
  }

  async status (): Promise<{ connected: boolean, version?: string, error?: string }> {
    try {
      const s = await this.#get('/v1/status') as { version?: string }
      return { connected: true, version: s.version }
    } catch (err) {
      return { connected: false, error: (err as Error).message }
    }
  }

  /** The applied resources; while the control plane is unreachable, the last ones seen. */
  async resources (): Promise<Resource[]> {
    try {
      const list = await this.#get('/v1/resources') as Array<Record<string, unknown>>
      const out: Resource[] = []
      for (const item of list) {
        const { source: _source, ...resource } = item
        const r = validateResource(resource)
        if (r.ok) out.push(r.resource)
      }
      this.#lastResources = out
      return out
    } catch {
      return this.#lastResources
    }
  }

  async proxies (): Promise<ProxyInfo[]> {
    try {
      const list = await this.#get('/v1/proxies') as Array<Record<string, any>>
      this.#lastProxies = list.map(p => ({
        id: String(p.id),
        role: String(p.role),
        service: p.service ?? undefined,
        version: p.version ?? undefined,
        connected: Boolean(p.connected),
        ackedVersion: p.ackedVersion ?? undefined,
        lastNack: typeof p.lastNack === 'string' ? p.lastNack : p.lastNack?.error ?? undefined,
        healthy: p.healthy ?? undefined
      }))
      return this.#lastProxies
    } catch {
      return this.#lastProxies.map(p => ({ ...p, connected: false }))
    }
  }

  async apply (yaml: string, source: string): Promise<ApplyResult> {
    return await this.#post('/v1/apply', { text: yaml, source, waitMs: 3000 })
  }

  async delete (keys: string[]): Promise<ApplyResult> {
    return await this.#post('/v1/delete', { keys })
  }

  async #post (path: string, payload: unknown): Promise<ApplyResult> {
    let res: Response
    try {
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.#timeoutMs + 5000)
      })
    } catch (err) {
      return { ok: false, code: 'MESH_ERR_CONTROL_PLANE_UNAVAILABLE', message: `the control plane at ${this.url} cannot be reached (${(err as Error).message}); nothing was changed` }
    }
    const body = await res.json().catch(() => ({})) as Record<string, any>
    if (res.ok && body.ok !== false) return { ok: true, version: body.version }
    return {
      ok: false,
      version: body.version,
      code: body.code ?? 'MESH_ERR',
      message: body.message ?? (Array.isArray(body.problems) ? body.problems.map((p: any) => `${p.path}: ${p.reason}`).join('; ') : `HTTP ${res.status}`),
      problems: body.problems
    }
  }
}
