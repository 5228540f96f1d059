import type { EventEmitter } from 'node:events'
import type { PlannedInstance } from './mesh-plan.ts'

export interface ReconcileResult {
  started: string[]
  stopped: string[]
  /** Instances that could not be started, with the reason (not retried until their spec changes). */
  failed: { id: string, reason: string }[]
}

export interface ReconcileHooks {
  /** Instances the config asks for now. */
  plan (): PlannedInstance[]
  /** Instances running now, with the fingerprint of the spec they were started from. */
  running (): { id: string, fingerprint: string }[]
  start (inst: PlannedInstance): Promise<void>
  stop (id: string): Promise<void>
  /** Called after a pass that started or stopped something. */
  changed (): void
  log (line: string): void
}

/** What about an instance's spec makes a different process: a change replaces the instance. */
export function instanceFingerprint (inst: PlannedInstance): string {
  return JSON.stringify([inst.service, inst.version, inst.namespace, inst.port, inst.command, inst.args, inst.cwd, inst.env, inst.readinessPath])
}

/**
 * Keeps the app instances of a local mesh in line with its Workloads as config changes arrive
 * (`meshwork apply` of replicas, a new Workload, a changed command or env).
 *
 * ```
 *  control plane 'change' ──debounce 100 ms──▶ pass: plan vs running
 *                                               ├─ missing  → start (sidecar, then app)
 *                                               ├─ extra    → stop (app, then sidecar)
 *                                               └─ changed  → stop, then start
 * ```
 * Passes never overlap: a change during a pass schedules one more pass after it (chained). A spec that failed to
 * start is remembered and not retried until it changes (no restart storm from a bad command).
 */
export class WorkloadReconciler {
  readonly #hooks: ReconcileHooks
  readonly #source: EventEmitter
  readonly #onChange = (): void => this.#schedule()
  readonly #failed = new Map<string, string>() // id → fingerprint that failed
  #timer: NodeJS.Timeout | null = null
  #running: Promise<ReconcileResult> | null = null
  #closed = false

  constructor (source: EventEmitter, hooks: ReconcileHooks) {
    this.#hooks = hooks
    this.#source = source
    source.on('change', this.#onChange)
  }

  /** One pass, after the one in progress if any (passes are chained, never concurrent). */
  run (): Promise<ReconcileResult> {
    const next = (this.#running ?? Promise.resolve()).catch(() => {}).then(() => this.#pass())
    this.#running = next
    next.finally(() => { if (this.#running === next) this.#running = null }).catch(() => {})
    return next
  }

  /** Stop listening and wait for a pass in progress. */
  async close (): Promise<void> {
    this.#closed = true
    this.#source.off('change', this.#onChange)
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running?.catch(() => {})
  }

  #schedule (): void {
    if (this.#closed || this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.run().catch(err => this.#hooks.log(`reconcile failed: ${(err as Error).message}`))
    }, 100)
  }

  async #pass (): Promise<ReconcileResult> {
    const result: ReconcileResult = { started: [], stopped: [], failed: [] }
    if (this.#closed) return result
    const wanted = new Map(this.#hooks.plan().map(i => [i.id, i]))
    const running = new Map(this.#hooks.running().map(r => [r.id, r.fingerprint]))
    for (const [id, fingerprint] of running) {
      const want = wanted.get(id)
      if (want !== undefined && instanceFingerprint(want) === fingerprint) continue
      this.#hooks.log(want === undefined ? `stopping ${id}: its Workload no longer asks for it` : `replacing ${id}: its Workload changed`)
      await this.#hooks.stop(id)
      result.stopped.push(id)
      running.delete(id)
    }
    for (const [id, inst] of wanted) {
      if (running.has(id) || this.#closed) continue
      const fingerprint = instanceFingerprint(inst)
      if (this.#failed.get(id) === fingerprint) continue
      this.#hooks.log(`starting ${id}`)
      try {
        await this.#hooks.start(inst)
        this.#failed.delete(id)
        result.started.push(id)
      } catch (err) {
        this.#failed.set(id, fingerprint)
        const reason = `${(err as { code?: string }).code ?? 'MESH_ERR'}: ${(err as Error).message}`
        this.#hooks.log(`could not start ${id}: ${reason}`)
        result.failed.push({ id, reason })
      }
    }
    if (result.started.length > 0 || result.stopped.length > 0) this.#hooks.changed()
    return result
  }
}
