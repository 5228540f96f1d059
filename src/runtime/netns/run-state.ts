/**
 * Who owns a pod network: `/run/meshwork/netns/<run>.json` holds the owner's pid and its start time (from
 * /proc, so a recycled pid does not look alive) and the address block. It is written before anything else of
 * the run is created and removed after everything else, so a run with objects but no live owner is stale.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isRunId, STATE_DIR } from './names.ts'

export interface RunState {
  run: string
  pid: number
  /** Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22). */
  pidStart: number
  block: number
  nodes: number
  createdAt: string
}

/** Start time of a process (clock ticks since boot), or null when it does not exist. */
export function processStartTime (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
  } catch {
    return null
  }
}

export function writeRunState (s: RunState, dir = STATE_DIR): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  writeFileSync(join(dir, `${s.run}.json`), JSON.stringify(s) + '\n')
}

export function removeRunState (run: string, dir = STATE_DIR): void {
  rmSync(join(dir, `${run}.json`), { force: true })
}

/** Every recorded run (unreadable files are skipped: they count as no owner). */
export function readRunStates (dir = STATE_DIR): RunState[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const out: RunState[] = []
  for (const f of names) {
    if (!f.endsWith('.json') || !isRunId(f.slice(0, -5))) continue
    try {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunState
      if (s.run === f.slice(0, -5)) out.push(s)
    } catch {}
  }
  return out
}

/** Whether the run's owner process still runs (same pid, same start time). */
export function ownerAlive (s: RunState): boolean {
  return s.pid > 0 && processStartTime(s.pid) === s.pidStart
}
