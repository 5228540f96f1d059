/**
 * Finding and removing pod networks: the current run's at stop, and stale ones (their owner died, e.g.
 * `meshwork up` was SIGKILLed) at the next start or with `meshwork netns clean`. A run is recognised by its
 * names (names.ts), so nothing else on the machine is touched.
 */
import { readdirSync } from 'node:fs'
import { listLinks, listNamespaces } from './commands.ts'
import { ETC_NETNS, runOfLink, runOfNamespace } from './names.ts'
import { ownerAlive, readRunStates, removeRunState, type RunState } from './run-state.ts'
import { removePodEtc } from './hosts-file.ts'
import { deleteLink, deleteNamespace } from './topology.ts'

/** What exists of one run. */
export interface RunObjects {
  run: string
  namespaces: string[]
  links: string[]
  etcDirs: string[]
  state: RunState | null
}

/** Every run that has anything on this machine (namespaces, host links, /etc/netns dirs or a state file). */
export async function findRuns (etcRoot = ETC_NETNS): Promise<Map<string, RunObjects>> {
  const runs = new Map<string, RunObjects>()
  const get = (run: string): RunObjects => {
    let r = runs.get(run)
    if (r === undefined) {
      r = { run, namespaces: [], links: [], etcDirs: [], state: null }
      runs.set(run, r)
    }
    return r
  }
  for (const ns of await listNamespaces()) {
    const run = runOfNamespace(ns)
    if (run !== null) get(run).namespaces.push(ns)
  }
  for (const link of await listLinks()) {
    const run = runOfLink(link)
    if (run !== null) get(run).links.push(link)
  }
  let etc: string[] = []
  try { etc = readdirSync(etcRoot) } catch {}
  for (const d of etc) {
    const run = runOfNamespace(d)
    if (run !== null) get(run).etcDirs.push(d)
  }
  for (const s of readRunStates()) get(s.run).state = s
  return runs
}

/** Runs whose owner is gone (or never recorded). */
export async function findStaleRuns (etcRoot = ETC_NETNS): Promise<RunObjects[]> {
  return [...(await findRuns(etcRoot)).values()].filter(r => r.state === null || !ownerAlive(r.state))
}

/**
 * Remove every object of a run: processes in its namespaces (SIGKILL), pods first, then nodes and the
 * fabric, the host link, the /etc/netns dirs, and the state file last.
 */
export async function removeRun (r: RunObjects, etcRoot = ETC_NETNS): Promise<void> {
  const rank = (ns: string): number => ns.includes('-p-') ? 0 : ns.endsWith('-fabric') ? 2 : 1
  const ordered = [...r.namespaces].sort((a, b) => rank(a) - rank(b))
  // pods in parallel (each waits for its processes), then the infrastructure
  await Promise.all(ordered.filter(ns => rank(ns) === 0).map(ns => deleteNamespace(ns)))
  for (const ns of ordered.filter(ns => rank(ns) > 0)) await deleteNamespace(ns)
  for (const link of r.links) await deleteLink(link)
  for (const d of r.etcDirs) removePodEtc(d, etcRoot)
  await waitLinksGone(r.links)
  removeRunState(r.run)
}

/** Links of a deleted namespace's veths vanish asynchronously: wait (bounded) until they are gone. */
async function waitLinksGone (links: string[], timeoutMs = 5000): Promise<void> {
  if (links.length === 0) return
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const left = new Set(await listLinks())
    if (!links.some(l => left.has(l))) return
    for (const l of links) if (left.has(l)) await deleteLink(l).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Remove every stale run; returns a one-line description of each removed run. */
export async function cleanStaleRuns (etcRoot = ETC_NETNS): Promise<string[]> {
  const out: string[] = []
  for (const r of await findStaleRuns(etcRoot)) {
    await removeRun(r, etcRoot)
    out.push(`${r.run} (${r.namespaces.length} namespaces, ${r.links.length} host links, ${r.etcDirs.length} /etc/netns dirs${r.state !== null ? `, owner pid ${r.state.pid} gone` : ''})`)
  }
  return out
}
