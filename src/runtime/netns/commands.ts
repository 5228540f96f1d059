/**
 * The only place the pod network runs other programs: `ip` (iproute2) and `nft` (nftables), always with an
 * argument array (never a shell string), a time limit, and a {@link NetnsCommandError} naming the command and
 * its stderr when it fails.
 *
 * @example
 * await ip(['netns', 'add', 'mw-3fa2c1-n0'])
 * await ipIn('mw-3fa2c1-n0', ['link', 'set', 'lo', 'up'])
 * await nftApply('mw-3fa2c1-p-reviews-v2-0', renderCaptureRules({ appPorts: [9080] }))
 */
import { execFile, execFileSync } from 'node:child_process'
import { NetnsCommandError } from '../../errors.ts'

const TIMEOUT_MS = 15_000

function run (cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) {
        const why = (stderr || '').trim() || ((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} is not installed (scripts/install-system-deps.sh)` : err.message)
        reject(new NetnsCommandError(`${cmd} ${args.join(' ')}: ${why}`, { cause: err }))
        return
      }
      resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

/** `ip <args>` in the host's namespace. */
export function ip (args: readonly string[]): Promise<string> {
  return run('ip', args)
}

/** `ip -n <netns> <args>`: the same inside a named namespace. */
export function ipIn (netns: string, args: readonly string[]): Promise<string> {
  return run('ip', ['-n', netns, ...args])
}

/** Load an nft ruleset (one atomic transaction) inside `netns`. */
export function nftApply (netns: string, ruleset: string): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], ruleset)
}

/** `nft <args>` inside `netns` (e.g. `['list', 'table', 'ip', 'meshwork']`). */
export function nftIn (netns: string, args: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', netns, 'nft', ...args])
}

/** Load an nft ruleset in the namespace this process runs in (the Kubernetes init container). */
export function nftApplyHere (ruleset: string): Promise<string> {
  return run('nft', ['-f', '-'], ruleset)
}

/** Named network namespaces (`ip netns list`), names only. */
export async function listNamespaces (): Promise<string[]> {
  const out = await ip(['netns', 'list'])
  return out.split('\n').map(l => l.trim().split(/\s+/)[0]).filter(Boolean)
}

/** Pids of processes inside `netns` (empty when it does not exist). */
export async function namespacePids (netns: string): Promise<number[]> {
  try {
    const out = await ip(['netns', 'pids', netns])
    return out.split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** Host-namespace links, names only (`ip -o link show`). */
export async function listLinks (): Promise<string[]> {
  const out = await ip(['-o', 'link', 'show'])
  return out.split('\n').map(l => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined)
}

/** IPv4 addresses in the host namespace, with the link they sit on. */
export async function listAddresses (): Promise<{ link: string, address: string }[]> {
  const out = await ip(['-o', '-4', 'addr', 'show'])
  const res: { link: string, address: string }[] = []
  for (const l of out.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(l)
    if (m !== null) res.push({ link: m[1], address: m[2] })
  }
  return res
}

/** Synchronous best effort for a process `exit` hook: run, ignore failure. */
export function ipSyncQuiet (args: readonly string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'ignore', timeout: 5000 })
  } catch {}
}
