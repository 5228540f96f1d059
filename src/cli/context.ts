/**
 * The CLI context: what `meshwork up` records in its data dir so that `meshwork get`, `apply` and `bench`
 * find the mesh it runs on any port, as kubectl finds a cluster through its kubeconfig context.
 *
 * Where a command's control-plane URL comes from, first match wins:
 *   1. the `--control-plane <url>` flag
 *   2. `$MESHWORK_CONTROL_PLANE`
 *   3. the context file `<data-dir>/context.json` of a `meshwork up` that is still running, where
 *      `<data-dir>` is `--data-dir`, else `$MESHWORK_DATA_DIR`, else `./.meshwork`
 *   4. the default, http://127.0.0.1:15010
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { resolveDataDir } from '../bench/store.ts'
import { ControlPlaneUnavailableError } from '../errors.ts'

export const DEFAULT_CONTROL_PLANE = 'http://127.0.0.1:15010'
export const CONTEXT_FILE = 'context.json'

/** The file `meshwork up` writes (mode 0600) and removes again when it stops. */
export interface MeshContext {
  controlPlaneUrl: string
  managementUrl: string | null
  ingressUrl: string | null
  /** Absolute data dir of that `meshwork up`: logs, bench.db, Prometheus config. */
  dataDir: string
  /** The `meshwork up` process; a context whose process is gone is stale and ignored. */
  pid: number
  startedAt: string
}

export function contextFile (dataDir: string): string {
  return join(dataDir, CONTEXT_FILE)
}

/**
 * Record a running mesh's URLs: written to a temporary file and renamed, so a reader never sees half
 * a file. Returns the path.
 *
 * @example writeContext({ controlPlaneUrl: mesh.controlPlaneUrl, managementUrl: mesh.uiUrl, ingressUrl: mesh.ingressUrl, dataDir: mesh.dataDir, pid: process.pid, startedAt: new Date().toISOString() })
 */
export function writeContext (ctx: MeshContext): string {
  const file = contextFile(ctx.dataDir)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(ctx, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, file)
  return file
}

/** Remove the context of `dataDir` if the process `pid` wrote it (a newer `meshwork up` keeps its own). */
export function removeContext (dataDir: string, pid = process.pid): void {
  if (readContext(dataDir)?.pid === pid) rmSync(contextFile(dataDir), { force: true })
}

/** The context in `dataDir`, or null when there is none or it cannot be read as one. */
export function readContext (dataDir: string): MeshContext | null {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(contextFile(dataDir), 'utf8'))
  } catch {
    return null
  }
  const c = raw as Partial<MeshContext> | null
  if (c === null || typeof c !== 'object' || typeof c.controlPlaneUrl !== 'string' || typeof c.pid !== 'number') return null
  return {
    controlPlaneUrl: c.controlPlaneUrl,
    managementUrl: typeof c.managementUrl === 'string' ? c.managementUrl : null,
    ingressUrl: typeof c.ingressUrl === 'string' ? c.ingressUrl : null,
    dataDir: typeof c.dataDir === 'string' ? c.dataDir : dataDir,
    pid: c.pid,
    startedAt: typeof c.startedAt === 'string' ? c.startedAt : ''
  }
}

export function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface ResolvedControlPlane {
  url: string
  source: 'flag' | 'env' | 'context' | 'default'
  /** Where the context was looked for (whether or not it exists). */
  contextFile: string
  /** A context found there whose `meshwork up` is no longer running (ignored). */
  staleContext: MeshContext | null
}

/**
 * The control plane a command talks to: flag > `$MESHWORK_CONTROL_PLANE` > context file > default.
 *
 * @example const cp = resolveControlPlane({ flag: values['control-plane'], dataDir: values['data-dir'] })
 */
export function resolveControlPlane (opts: { flag?: string, dataDir?: string, env?: NodeJS.ProcessEnv, cwd?: string }): ResolvedControlPlane {
  const env = opts.env ?? process.env
  const dir = resolveDataDir(opts.dataDir, env, opts.cwd)
  const file = contextFile(dir)
  if (opts.flag !== undefined && opts.flag !== '') return { url: opts.flag, source: 'flag', contextFile: file, staleContext: null }
  const fromEnv = env.MESHWORK_CONTROL_PLANE
  if (fromEnv !== undefined && fromEnv !== '') return { url: fromEnv, source: 'env', contextFile: file, staleContext: null }
  const ctx = readContext(dir)
  if (ctx !== null && processAlive(ctx.pid)) return { url: ctx.controlPlaneUrl, source: 'context', contextFile: file, staleContext: null }
  return { url: DEFAULT_CONTROL_PLANE, source: 'default', contextFile: file, staleContext: ctx }
}

/** Where the URL came from, in words, for messages. */
export function describeSource (cp: ResolvedControlPlane): string {
  switch (cp.source) {
    case 'flag': return 'from --control-plane'
    case 'env': return 'from $MESHWORK_CONTROL_PLANE'
    case 'context': return `from ${cp.contextFile}, written by meshwork up`
    case 'default': return cp.staleContext !== null
      ? `the default; ${cp.contextFile} was ignored: the meshwork up that wrote it (pid ${cp.staleContext.pid}) is not running`
      : `the default; no --control-plane, no $MESHWORK_CONTROL_PLANE, no ${cp.contextFile}`
  }
}

/**
 * The error for a control plane that cannot be reached: what failed, where the URL came from, and how
 * to point the command elsewhere (the flag, the variable and the context file).
 */
export function unreachableError (cp: ResolvedControlPlane, err: unknown): ControlPlaneUnavailableError {
  const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
  const hint = cp.source === 'context'
    ? `is that meshwork up still serving? Pass --control-plane <url> (or set $MESHWORK_CONTROL_PLANE) to use another control plane`
    : `start a mesh with \`meshwork up\` (it records its URLs in <data-dir>/${CONTEXT_FILE}; pass --data-dir <dir> when it runs with another data dir), or pass --control-plane <url> (or set $MESHWORK_CONTROL_PLANE)`
  return new ControlPlaneUnavailableError(`cannot reach the control plane at ${cp.url} (${cause}); the URL is ${describeSource(cp)}.\n  hint: ${hint}`, { cause: err })
}
