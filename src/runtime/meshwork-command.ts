import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isProxyCommand, PROXY_NODE_FLAGS } from './proxy-node-flags.ts'

/**
 * How to run another `meshwork` command as a child process with the same build as this one: from the
 * TypeScript sources (through tsx) when running from `src/`, from `dist/` when installed. A `proxy` command
 * gets the proxy's node flags (proxy-node-flags.ts). `MESHWORK_CLI_JS=<main.js>` runs that compiled CLI
 * instead (bench/soak.ts: proxies measured as shipped, without the tsx loader thread).
 *
 * @example
 * const { command, args } = meshworkCommand(['proxy', '--id', 'reviews-v2-0'])
 * spawn(command, args)
 */
export function meshworkCommand (argv: string[]): { command: string, args: string[] } {
  const nodeFlags = isProxyCommand(argv) ? PROXY_NODE_FLAGS : []
  const compiled = process.env.MESHWORK_CLI_JS
  if (compiled !== undefined && compiled !== '') {
    if (!existsSync(compiled)) throw new Error(`MESHWORK_CLI_JS: ${compiled} does not exist`)
    return { command: process.execPath, args: [...nodeFlags, compiled, ...argv] }
  }
  const fromSource = import.meta.url.endsWith('.ts')
  const main = fileURLToPath(new URL(fromSource ? '../cli/main.ts' : '../cli/main.js', import.meta.url))
  if (!existsSync(main)) throw new Error(`meshwork entry point not found at ${main}`)
  // tsx is resolved here, not by the child, so the child may run in any directory.
  return { command: process.execPath, args: [...nodeFlags, ...(fromSource ? ['--import', import.meta.resolve('tsx'), main] : [main]), ...argv] }
}

/** The repository (or installed package) root: where `samples/` lives. */
export function packageRoot (): string {
  return fileURLToPath(new URL('../../', import.meta.url))
}

/** The embedded default mesh: Bookinfo. */
export function defaultMeshFile (): string {
  return fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url))
}

/**
 * Files a proxy process started by {@link meshworkCommand} reads at start: the node executable, the CLI entry
 * point and (from sources) the tsx loader. In pods the proxies run as uid 1337, which must be able to read them.
 */
export function proxyCodeFiles (): string[] {
  const { command, args } = meshworkCommand(['proxy'])
  const files = [command, ...args.filter(a => a.startsWith('/') || a.startsWith('file:'))].map(a => a.startsWith('file:') ? fileURLToPath(a) : a)
  return [...new Set(files)]
}
