/**
 * Can this process build pod networks? It needs CAP_NET_ADMIN (links, addresses, nftables), CAP_SYS_ADMIN
 * (`ip netns add` mounts the namespace; `ip netns exec` makes a mount namespace), CAP_SETUID/CAP_SETGID (to
 * run sidecars as their own uid), and the `ip` and `nft` commands. Root has all of them.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

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

/** null when pod networking can work here, else the reason it cannot (one line). */
export function podNetworkUnsupportedReason (caps = effectiveCapabilities()): string | null {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`
  const missing = (Object.entries(CAP) as [string, number][]).filter(([, bit]) => (caps & (1n << BigInt(bit))) === 0n).map(([n]) => `CAP_${n}`)
  if (missing.length > 0) return `needs ${missing.join(', ')} (run as root)`
  const tools = ['ip', 'nft', 'setpriv'].filter(c => !hasCommand(c))
  if (tools.length > 0) return `needs the ${tools.join(', ')} command${tools.length > 1 ? 's' : ''} (scripts/install-system-deps.sh installs iproute2, nftables, util-linux)`
  return null
}
