/**
 * Can this process build pod networks? It needs CAP_NET_ADMIN (links, addresses, nftables), CAP_SYS_ADMIN
 * (`ip netns add` mounts the namespace; `ip netns exec` makes a mount namespace), CAP_SETUID/CAP_SETGID (to
 * run sidecars as their own uid), and the `ip` and `nft` commands. Root has all of them.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const CAP = { SETGID: 6, SETUID: 7, NET_ADMIN: 12, SYS_ADMIN: 21 } as const

/** Effective capabilities of this process (bit mask from /proc/self/status). */
export function effectiveCapabilities (): bigint {
  try {
    const m = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m === null ? 0n : BigInt(`0x${m[1]}`)
  } catch {
    return 0n
  }
}

function hasCommand (cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore', timeout: 5000 })
    return true
  } catch (err) {
    // `ip --version` exits 0; some builds exit non-zero for --version but exist: only ENOENT means missing
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/**
 * The first path a process of another uid cannot reach: a directory on the way without o+x, or the file
 * without o+r. Sidecars run as uid 1337 and must read the node executable and meshwork's code.
 */
export function notReadableByOthers (file: string): string | null {
  const full = resolve(file)
  try {
    if ((statSync(full).mode & 0o004) === 0) return full
    for (let d = dirname(full); ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return d
      if (d === dirname(d)) return null
    }
  } catch {
    return full
  }
}

/**
 * null when pod networking can work here, else the reason it cannot (one line). `proxyFiles`: files a sidecar
 * (uid 1337) must read (the node executable, meshwork's entry point).
 */
export function podNetworkUnsupportedReason (caps = effectiveCapabilities(), proxyFiles: readonly string[] = []): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`
  const missing = (Object.entries(CAP) as [string, number][]).filter(([, bit]) => (caps & (1n << BigInt(bit))) === 0n).map(([n]) => `CAP_${n}`)
  if (missing.length > 0) return `needs ${missing.join(', ')} (run as root)`
  const tools = ['ip', 'nft', 'setpriv'].filter(c => !hasCommand(c))
  if (tools.length > 0) return `needs the ${tools.join(', ')} command${tools.length > 1 ? 's' : ''} (scripts/install-system-deps.sh installs iproute2, nftables, util-linux)`
  return unreadableProxyFileReason(proxyFiles)
}

/** Why a sidecar (uid 1337) could not read one of `files`, or null. */
export function unreadableProxyFileReason (files: readonly string[]): string | null {
  for (const f of files) {
    const blocked = notReadableByOthers(f)
    if (blocked !== null) return `needs sidecars (uid 1337) to read ${f}, but ${blocked} is not readable by other users (chmod o+rx, or install meshwork elsewhere)`
  }
  return null
}
