/**
 * Static snapshot file (YAML or JSON) for a proxy without a control plane, reloaded when the file
 * changes. The directory is watched (so editors' atomic rename-and-replace is seen) and changes are
 * debounced; a file that fails to parse or validate is reported with the file, the path and the reason,
 * and the last good snapshot keeps serving.
 *
 * @example
 * const watcher = new SnapshotFile('snap.yaml', proxy, { onResult: r => console.error(r) })
 * await watcher.load(); watcher.watch(); …; watcher.close()
 */
import { type FSWatcher, watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { SnapshotRejectedError } from '../errors.ts'
import type { ApplyResult } from './proxy.ts'

export interface SnapshotTarget {
  applySnapshot (raw: unknown, source?: string): ApplyResult
}

export interface SnapshotFileOptions {
  debounceMs?: number
  /** Called after every load attempt (initial and reloads). */
  onResult?: (r: ApplyResult, file: string) => void
}

/** Parse a snapshot file's text (JSON when it looks like JSON, else YAML). Throws SnapshotRejectedError. */
export async function parseSnapshotText (text: string, file: string): Promise<unknown> {
  const trimmed = text.trimStart()
  try {
    if (trimmed.startsWith('{')) return JSON.parse(text)
    // loaded on first use: a proxy fed JSON (or by a control plane) does not pay for the YAML parser
    const { parse } = await import('yaml')
    return parse(text, { prettyErrors: true, uniqueKeys: true })
  } catch (err) {
    const e = err as Error & { linePos?: { line: number }[] }
    const line = e.linePos?.[0]?.line
    throw new SnapshotRejectedError(`${file}${line !== undefined ? `:${line}` : ''}: <document>: cannot parse: ${e.message.split('\n')[0]}`)
  }
}

export class SnapshotFile {
  readonly file: string
  private watcher: FSWatcher | null = null
  private timer: NodeJS.Timeout | null = null
  private lastText: string | null = null
  private loading: Promise<ApplyResult> | null = null
  private again = false

  constructor (file: string, private readonly target: SnapshotTarget, private readonly options: SnapshotFileOptions = {}) {
    this.file = resolve(file)
  }

  /** Read, parse and apply the file now. */
  async load (): Promise<ApplyResult> {
    if (this.loading !== null) {
      this.again = true
      return this.loading
    }
    this.loading = this.read()
    try {
      return await this.loading
    } finally {
      this.loading = null
      if (this.again) { this.again = false; void this.load() }
    }
  }

  private async read (): Promise<ApplyResult> {
    let r: ApplyResult
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (err) {
      r = { ok: false, error: new SnapshotRejectedError(`${this.file}: <document>: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`) }
      this.options.onResult?.(r, this.file)
      return r
    }
    if (text === this.lastText) return { ok: true, version: '(unchanged)' }
    try {
      r = this.target.applySnapshot(await parseSnapshotText(text, this.file), this.file)
    } catch (err) {
      r = { ok: false, error: err instanceof SnapshotRejectedError ? err : new SnapshotRejectedError(`${this.file}: ${(err as Error).message}`) }
    }
    if (r.ok) this.lastText = text
    this.options.onResult?.(r, this.file)
    return r
  }

  /** Reload on change (debounced). */
  watch (): this {
    if (this.watcher !== null) return this
    const name = basename(this.file)
    this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return
      if (this.timer !== null) clearTimeout(this.timer)
      this.timer = setTimeout(() => { this.timer = null; void this.load() }, this.options.debounceMs ?? 50)
    })
    return this
  }

  close (): void {
    this.watcher?.close()
    this.watcher = null
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }
}
