#!/usr/bin/env node
/**
 * `meshwork <command>`: parses the command name only; each command parses its own flags and calls the
 * planes. No logic lives here.
 */
import { MeshError } from '../errors.ts'

interface CommandModule {
  run (argv: string[]): Promise<number | undefined> | number | undefined
  usage: string
  /** Usage of a variant of the command selected by a flag (e.g. `apply --kubernetes`), when it has one. */
  usageFor?: (argv: string[]) => Promise<string | undefined>
}

const COMMANDS: Record<string, { summary: string, load: () => Promise<CommandModule> }> = {
  up: { summary: 'run the control plane, the sample app with sidecars, the gateways and the UI on this machine', load: () => import('./commands/up.ts') },
  proxy: { summary: 'run the sidecar / gateway proxy (data plane)', load: () => import('./commands/proxy.ts') },
  control: { summary: 'run the control plane', load: () => import('./commands/control.ts') },
  apply: { summary: 'validate and apply config files to a running control plane', load: () => import('./commands/apply.ts') },
  get: { summary: 'list routes, services, proxies, workloads or xDS clients of a running control plane', load: () => import('./commands/get.ts') },
  check: { summary: 'validate config files and report conflicts', load: () => import('./commands/check.ts') },
  bench: { summary: 'run, list, show, compare and export benchmarks', load: () => import('./commands/bench.ts') },
  server: { summary: 'run the management plane (API + UI)', load: () => import('./commands/server.ts') },
  translate: { summary: 'translate Meshwork config to Istio, Linkerd or Consul resources (and Istio back)', load: () => import('./commands/translate.ts') },
  install: { summary: 'render Kubernetes manifests for the control and management planes', load: () => import('./commands/install.ts') },
  xds: { summary: 'render an Envoy or proxyless gRPC bootstrap for the control plane\'s xDS server', load: () => import('./commands/xds.ts') },
  inject: { summary: 'add the Meshwork sidecar to Kubernetes Deployments', load: () => import('./commands/inject.ts') },
  conformance: { summary: 'run the Gateway API conformance tests against a local mesh and write a ConformanceReport', load: () => import('./commands/conformance.ts') },
  netns: { summary: 'pod networking: render or load a pod\'s capture rules, list and clean pod networks', load: () => import('./commands/netns.ts') }
}

function help (): string {
  const width = Math.max(...Object.keys(COMMANDS).map(k => k.length))
  return [
    'Usage: meshwork <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `meshwork <command> --help` for the options of a command.'
  ].join('\n')
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n')
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('meshwork 0.1.0\n')
    return 0
  }
  const cmd = COMMANDS[name]
  if (cmd === undefined) {
    process.stderr.write(`meshwork: unknown command "${name}"\n\n${help()}\n`)
    return 2
  }
  const mod = await cmd.load()
  if (rest.includes('--help') || rest.includes('-h')) {
    const usage = (await mod.usageFor?.(rest)) ?? mod.usage
    process.stdout.write(usage.trimEnd() + '\n')
    return 0
  }
  return (await mod.run(rest)) ?? 0
}

main(process.argv.slice(2)).then(code => {
  process.exitCode = code
}, (err: unknown) => {
  if (err instanceof MeshError) {
    process.stderr.write(`meshwork: ${err.code}: ${err.message}\n`)
    process.exitCode = 1
  } else {
    process.stderr.write(`meshwork: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 70
  }
})
