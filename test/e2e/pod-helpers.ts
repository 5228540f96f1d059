// Helpers of the pods-mode tests: run a real client (curl, Python) inside a pod, as the app would, and list
// what a run left behind.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { promisify } from 'node:util'
import { listLinks, listNamespaces } from '../../src/runtime/netns/commands.ts'
import type { PodNetwork } from '../../src/runtime/netns/pod-network.ts'

const run = promisify(execFile)

/** A clean environment for a pod's client: no proxy variables, so nothing but capture can steer it. */
export const CLIENT_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' }

/** Run `cmd` inside the pod of instance `id`, as an app (captured). Rejects with the exit code on failure. */
export async function inPod (net: PodNetwork, id: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<{ stdout: string, stderr: string }> {
  const pod = net.pod(id)
  if (pod === undefined) throw new Error(`no pod ${id}`)
  const c = net.command(pod, cmd, args, 'app')
  return run(c.command, c.args, { timeout: timeoutMs, env: CLIENT_ENV, maxBuffer: 4 * 1024 * 1024 })
}

/** Namespaces, host links, /etc/netns dirs and the owner file of run `run` that still exist. */
export async function runLeftovers (run: string): Promise<string[]> {
  const mine = (n: string): boolean => n.startsWith(`mw-${run}-`) || n === `mw${run}`
  const dir = (d: string): string[] => { try { return readdirSync(d) } catch { return [] } }
  return [
    ...(await listNamespaces()).filter(mine),
    ...(await listLinks()).filter(mine),
    ...dir('/etc/netns').filter(mine).map(d => `/etc/netns/${d}`),
    ...dir('/run/meshwork/netns').filter(f => f === `${run}.json`).map(f => `/run/meshwork/netns/${f}`)
  ]
}

/** The host's nftables ruleset (to check a run added nothing to it). */
export async function hostRuleset (): Promise<string> {
  return (await run('nft', ['list', 'ruleset'])).stdout
}

/** A process's uid and network namespace inode. */
export function processIdentity (pid: number): { uid: number, netns: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), netns: readlinkSync(`/proc/${pid}/ns/net`) }
}
