import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { BenchAbortedError, BenchScenarioStartError } from '../../errors.ts'

/** A child process of a scenario (app, sidecar, nginx, HAProxy) with its output tail for diagnostics. */
export interface ManagedProcess {
  name: string
  pid: number
  /** Last few KB of stdout+stderr. */
  output (): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop (graceMs?: number): Promise<void>
  readonly exited: boolean
}

export type ReadyCheck =
  | { kind: 'tcp', host: string, port: number }
  | { kind: 'http', host: string, port: number, path: string }

export interface StartOptions {
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
  ready: ReadyCheck
  /** Bound for the process to become ready (default 20 s). */
  timeoutMs?: number
  signal?: AbortSignal
}

const TAIL = 4096

/**
 * Spawn a process and wait until it is ready (TCP port accepting, or HTTP path answering 2xx).
 * Throws MESH_ERR_BENCH_SCENARIO_START (with the output tail) when it exits early or is not ready in time.
 */
export async function startProcess (o: StartOptions): Promise<ManagedProcess> {
  const child: ChildProcess = spawn(o.command, o.args, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  const keep = (b: Buffer): void => { tail = (tail + b.toString()).slice(-TAIL) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  let exited = false
  let exitInfo = ''
  const exitedP = new Promise<void>(resolve => {
    child.once('exit', (code, sig) => { exited = true; exitInfo = sig ? `signal ${sig}` : `code ${code}`; resolve() })
    child.once('error', err => { exited = true; exitInfo = err.message; resolve() })
  })
  const mp: ManagedProcess = {
    name: o.name,
    pid: child.pid ?? -1,
    output: () => tail,
    get exited () { return exited },
    stop: async (graceMs = 3000) => {
      if (exited) return
      child.kill('SIGTERM')
      const t = setTimeout(() => { if (!exited) child.kill('SIGKILL') }, graceMs)
      await exitedP
      clearTimeout(t)
    }
  }
  const deadline = Date.now() + (o.timeoutMs ?? 20_000)
  while (true) {
    if (exited) throw new BenchScenarioStartError(`${o.name} exited during start-up (${exitInfo}): ${tail.trim().slice(-800)}`)
    if (o.signal?.aborted) { await mp.stop(); throw new BenchAbortedError(`aborted while starting ${o.name}`) }
    if (await probe(o.ready)) return mp
    if (Date.now() > deadline) {
      await mp.stop()
      throw new BenchScenarioStartError(`${o.name} was not ready within ${o.timeoutMs ?? 20_000} ms: ${tail.trim().slice(-800)}`)
    }
    await new Promise(r => setTimeout(r, 100))
  }
}

function probe (r: ReadyCheck): Promise<boolean> {
  return new Promise(resolve => {
    if (r.kind === 'tcp') {
      const s = net.connect({ host: r.host, port: r.port })
      s.setTimeout(1000, () => { s.destroy(); resolve(false) })
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
      return
    }
    const req = http.get({ host: r.host, port: r.port, path: r.path, timeout: 1000, agent: false }, res => {
      res.resume()
      resolve((res.statusCode ?? 500) < 300)
    })
    req.once('timeout', () => { req.destroy(); resolve(false) })
    req.once('error', () => resolve(false))
  })
}
