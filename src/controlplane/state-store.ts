import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { LoadedResource } from '../config/load.ts'
import type { ProxyRecord } from './registry.ts'

/** What survives a control-plane restart (besides the CA, in ca.json). */
export interface PersistedState {
  generation: number
  /** Resources applied through the API; on start they override the files' resources of the same key. */
  applied: LoadedResource[]
  /** Keys deleted through the API (file resources stay deleted across restarts until applied again). */
  deleted?: string[]
  /** Proxies known at the last save: their endpoints are kept while they reconnect. */
  proxies: ProxyRecord[]
}

/**
 * `<dataDir>/state.json`, written atomically (tmp + rename) and coalesced: many changes in a burst make
 * one write. No dataDir = nothing persisted.
 */
export class StateStore {
  private readonly file: string | null
  private timer: NodeJS.Timeout | null = null
  private writing: Promise<void> = Promise.resolve()
  private pending: (() => PersistedState) | null = null

  constructor (dataDir: string | undefined) {
    this.file = dataDir ? join(dataDir, 'state.json') : null
  }

  async load (): Promise<PersistedState | null> {
    if (this.file === null) return null
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as PersistedState
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }

  /** Save soon (within ~100 ms); `get` is called when the write happens. */
  save (get: () => PersistedState): void {
    if (this.file === null) return
    this.pending = get
    if (this.timer !== null) return
    this.timer = setTimeout(() => { this.timer = null; void this.flush() }, 100)
  }

  async flush (): Promise<void> {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    const get = this.pending
    this.pending = null
    if (get === null || this.file === null) return this.writing
    const file = this.file
    this.writing = this.writing.then(async () => {
      await mkdir(join(file, '..'), { recursive: true, mode: 0o700 })
      const tmp = `${file}.${process.pid}.tmp`
      await writeFile(tmp, JSON.stringify(get()), { mode: 0o600 })
      await rename(tmp, file)
    }).catch(() => {})
    return this.writing
  }
}
