import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isProxyCommand, PROXY_NODE_FLAGS } from './proxy-node-flags.ts'

/**
 * How to run another `meshwork` command as a child process with the same build as this one: from the
 * TypeScript sources (through tsx) when running from `src/`, from `dist/` when installed. A `proxy` command
 * gets the proxy's node flags (proxy-node-flags.ts).
 *
 * @example
 * const { command, args } = meshworkCommand(['proxy', '--id', 'reviews-v2-0'])
 * spawn(command, args)
 */
export function meshworkCommand (argv: string[]): { command: string, args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts')
  const main = fileURLToPath(new URL(fromSource ? '../cli/main.ts' : '../cli/main.js', import.meta.url))
  if (!existsSync(main)) throw new Error(`meshwork entry point not found at ${main}`)
  // tsx is resolved here, not by the child, so the child may run in any directory.
  const nodeFlags = isProxyCommand(argv) ? PROXY_NODE_FLAGS : []
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
