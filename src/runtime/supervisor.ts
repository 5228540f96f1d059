import { RuntimeStartError } from '../errors.ts'
import { type ProcessSpec, SupervisedProcess } from './supervised-process.ts'
import { waitForHttpOk } from './readiness.ts'

/**
 * The processes of a local mesh, in start order. stopAll() stops them in reverse order, group by
 * group (a group — all apps, all sidecars — stops in parallel), and kills every child if `meshwork up`
 * itself exits abruptly.
 *
 * @example
 * const sup = new Supervisor()
 * const p = sup.add({ name: 'ratings-v1-0', command: process.execPath, args: ['ratings.mjs'], log })
 * await sup.startAndWait(p, 'http://127.0.0.1:9080/healthz')
 * await sup.stopAll()
 */
export class Supervisor {
  readonly #groups: { name: string, procs: SupervisedProcess[] }[] = []
  readonly #onExit = (): void => { for (const p of this.all()) p.killNow() }
  #stopping: Promise<void> | null = null

  constructor () {
    process.on('exit', this.#onExit)
  }

  /** Fix the order of groups up front (start order; they stop in reverse), whatever order processes arrive in. */
  defineGroups (names: string[]): void {
    for (const name of names) if (!this.#groups.some(g => g.name === name)) this.#groups.push({ name, procs: [] })
  }

  /** Add a process to a stop group (default: its own); groups stop in reverse order of creation. */
  add (spec: ProcessSpec, group = spec.name): SupervisedProcess {
    if (this.#stopping !== null) throw new RuntimeStartError(`cannot add ${spec.name}: the mesh is stopping`)
    const p = new SupervisedProcess(spec)
    let g = this.#groups.find(x => x.name === group)
    if (g === undefined) {
      g = { name: group, procs: [] }
      this.#groups.push(g)
    }
    g.procs.push(p)
    return p
  }

  all (): SupervisedProcess[] {
    return this.#groups.flatMap(g => g.procs)
  }

  get (name: string): SupervisedProcess | undefined {
    return this.all().find(p => p.spec.name === name)
  }

  /**
   * Start `p` and wait until `readyUrl` answers 200. Rejects with RuntimeStartError (naming the log
   * file) if it does not become ready in time, or exits meanwhile with restarts off.
   */
  async startAndWait (p: SupervisedProcess, readyUrl: string | null, timeoutMs = 30_000): Promise<void> {
    const ac = new AbortController()
    const onExit = (_code: number | null, _signal: string | null, restarting: boolean): void => {
      if (!restarting) ac.abort(new Error('exited'))
    }
    p.on('exit', onExit)
    try {
      p.start()
      if (readyUrl !== null) await waitForHttpOk(readyUrl, { timeoutMs, signal: ac.signal })
      p.readyAt = Date.now()
    } catch (err) {
      throw new RuntimeStartError(`${p.spec.name} did not become ready (${(err as Error).message}); see ${p.spec.log.path}`, { cause: err })
    } finally {
      p.off('exit', onExit)
    }
  }

  /** Stop everything, last group first. Idempotent. */
  stopAll (): Promise<void> {
    this.#stopping ??= (async () => {
      for (const g of [...this.#groups].reverse()) {
        await Promise.all(g.procs.map(p => p.stop()))
      }
      process.off('exit', this.#onExit)
      await Promise.all(this.all().map(p => p.spec.log.close()))
    })()
    return this.#stopping
  }
}
