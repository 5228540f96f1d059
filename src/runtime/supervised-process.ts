import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import type { LogSink } from './log-sink.ts'

export interface ProcessSpec {
  /** Unique name, also the log file name: `reviews-v2-0`, `reviews-v2-0-sidecar`. */
  name: string
  command: string
  args: string[]
  env?: Record<string, string>
  /** Variables of this process's environment the child must not inherit (`env` may still set them). */
  unsetEnv?: string[]
  cwd?: string
  /** Restart when it exits on its own (not when stopped). Default true. */
  restart?: boolean
  /** First restart delay; doubles per crash in a row up to `maxBackoffMs`. */
  initialBackoffMs?: number
  maxBackoffMs?: number
  /** A run at least this long resets the backoff. */
  stableAfterMs?: number
  /**
   * Give the child a stdin pipe that only closes when this process dies: a child that exits on stdin EOF
   * (the Bookinfo apps do, with MESHWORK_EXIT_ON_STDIN_EOF=1) is not orphaned even if `meshwork up` is
   * SIGKILLed. Default false (stdin is /dev/null).
   */
  stdinLifeline?: boolean
  /** Grace period after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number
  log: LogSink
}

export type ProcessState = 'idle' | 'running' | 'backoff' | 'stopping' | 'stopped'

/**
 * One child process kept alive by the supervisor.
 *
 * ```
 *  idle ──start()──▶ running ──exits on its own──▶ backoff ──delay──▶ running …
 *                       │                             │
 *                    stop()                        stop()
 *                       ▼                             ▼
 *                   stopping ──exit──▶ stopped ◀──────┘
 * ```
 * Each child leads its own process group (`detached`), so stop() signals the group and a shell wrapper's
 * children go too; the terminal's Ctrl-C reaches only `meshwork up`, which stops children in order.
 *
 * Events: `spawn` (pid), `exit` (code, signal, restarting).
 */
export class SupervisedProcess extends EventEmitter {
  readonly spec: ProcessSpec
  state: ProcessState = 'idle'
  /** Pid of the current child, or undefined while none runs. */
  pid: number | undefined = undefined
  /** Restarts after a crash so far. */
  restarts = 0
  /** Delay before the latest restart (grows while it keeps crashing). */
  lastBackoffMs = 0
  /** When the first child was spawned, and when the supervisor first saw it ready (ms since epoch; 0 = not yet). */
  firstSpawnAt = 0
  readyAt = 0
  /** Every pid this process has had, to check none is left behind. */
  readonly pids: number[] = []
  #child: ChildProcess | null = null
  #crashesInRow = 0
  #startedAt = 0
  #timer: NodeJS.Timeout | null = null
  #exited: Promise<void> = Promise.resolve()

  constructor (spec: ProcessSpec) {
    super()
    this.spec = spec
  }

  start (): void {
    if (this.state !== 'idle') throw new Error(`${this.spec.name} already started`)
    this.#spawn()
  }

  /** SIGTERM the process group, SIGKILL after the grace period; resolves once the child has exited. */
  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    const child = this.#child
    this.state = 'stopping'
    if (child === null || this.pid === undefined) {
      this.state = 'stopped'
      return
    }
    const pid = this.pid
    signalGroup(pid, 'SIGTERM')
    const kill = setTimeout(() => {
      this.spec.log.line(`[meshwork] ${this.spec.name} did not stop within ${this.spec.stopTimeoutMs ?? 5000} ms: SIGKILL`)
      signalGroup(pid, 'SIGKILL')
    }, this.spec.stopTimeoutMs ?? 5000)
    await this.#exited
    clearTimeout(kill)
    // The leader is gone; anything it left in its group goes with it.
    signalGroup(pid, 'SIGKILL')
    this.state = 'stopped'
  }

  /** Synchronous last resort (process `exit` handler): SIGKILL the group. */
  killNow (): void {
    if (this.pid !== undefined) signalGroup(this.pid, 'SIGKILL')
  }

  #spawn (): void {
    const s = this.spec
    const inherited: NodeJS.ProcessEnv = { ...process.env }
    for (const name of s.unsetEnv ?? []) delete inherited[name]
    const env: NodeJS.ProcessEnv = s.stdinLifeline === true ? { ...inherited, ...s.env, MESHWORK_EXIT_ON_STDIN_EOF: '1' } : { ...inherited, ...s.env }
    const child = spawn(s.command, s.args, {
      cwd: s.cwd,
      env,
      stdio: [s.stdinLifeline === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true
    })
    this.#child = child
    this.#startedAt = Date.now()
    if (this.firstSpawnAt === 0) this.firstSpawnAt = this.#startedAt
    this.state = 'running'
    this.#exited = new Promise(resolve => {
      let settled = false
      const settle = (code: number | null, signal: NodeJS.Signals | null, spawnFailed: boolean): void => {
        if (settled) return
        settled = true
        this.#onExit(code, signal, spawnFailed)
        resolve()
      }
      child.once('exit', (code, signal) => settle(code, signal, false))
      child.on('error', err => {
        s.log.line(`[meshwork] ${child.pid === undefined ? 'cannot start' : 'error from'} ${s.command}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)
        // No pid: the command could not be run at all (ENOENT, EACCES); 'exit' will not come.
        if (child.pid === undefined) settle(null, null, true)
      })
    })
    child.stdin?.on('error', () => {}) // the lifeline is never written to; a dead child's EPIPE is no news
    if (child.stdout !== null) s.log.attach(child.stdout)
    if (child.stderr !== null) s.log.attach(child.stderr)
    if (child.pid !== undefined) {
      this.pid = child.pid
      this.pids.push(child.pid)
      s.log.line(`[meshwork] started ${s.name} pid ${child.pid}`)
      this.emit('spawn', child.pid)
    }
  }

  #onExit (code: number | null, signal: NodeJS.Signals | null, spawnFailed: boolean): void {
    const s = this.spec
    this.#child = null
    this.pid = undefined
    const stopping = this.state === 'stopping'
    // A command that cannot be run will not run after a delay either.
    const restarting = !stopping && !spawnFailed && (s.restart ?? true)
    s.log.line(`[meshwork] ${s.name} exited (${signal ?? `code ${code}`})${restarting ? '' : stopping ? '' : ', not restarting'}`)
    if (!restarting) {
      if (!stopping) this.state = 'stopped'
      this.emit('exit', code, signal, false)
      return
    }
    if (Date.now() - this.#startedAt >= (s.stableAfterMs ?? 10_000)) this.#crashesInRow = 0
    const delay = Math.min(s.maxBackoffMs ?? 5000, (s.initialBackoffMs ?? 100) * 2 ** this.#crashesInRow)
    this.#crashesInRow++
    this.lastBackoffMs = delay
    this.state = 'backoff'
    s.log.line(`[meshwork] restarting ${s.name} in ${delay} ms`)
    this.emit('exit', code, signal, true)
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (this.state !== 'backoff') return
      this.restarts++
      this.#spawn()
    }, delay)
  }
}

function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is already gone.
  }
}
