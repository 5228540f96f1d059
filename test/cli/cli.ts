import { spawn } from 'node:child_process'
import { meshworkCommand } from '../../src/runtime/meshwork-command.ts'

export interface CliResult { code: number, stdout: string, stderr: string }

/**
 * The real `meshwork` CLI as a child process (the same entry point `meshwork up` uses for its proxies),
 * bounded in time: a command that hangs is killed and reported.
 */
export function cli (args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<CliResult> {
  const { command, args: full } = meshworkCommand(args)
  return new Promise((resolve, reject) => {
    const child = spawn(command, full, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', c => { stdout += c })
    child.stderr.setEncoding('utf8').on('data', c => { stderr += c })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`meshwork ${args.join(' ')} did not finish in time:\n${stderr}`)) }, opts.timeoutMs ?? 60_000)
    child.on('exit', code => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }) })
  })
}

/** The environment of this process without the variables that would point the CLI elsewhere. */
export function cleanEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.MESHWORK_CONTROL_PLANE
  delete env.MESHWORK_DATA_DIR
  return { ...env, ...extra }
}
