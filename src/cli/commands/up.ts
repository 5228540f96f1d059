import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigInvalidError, PodNetworkUnavailableError } from '../../errors.ts'
import { type LocalMeshOptions, type ManagementHookContext, startLocalMesh } from '../../runtime/local-mesh.ts'
import { packageRoot, proxyCodeFiles } from '../../runtime/meshwork-command.ts'
import { MAX_NODES } from '../../runtime/netns/address-plan.ts'
import { podNetworkUnsupportedReason } from '../../runtime/netns/capability.ts'
import { CONTEXT_FILE, removeContext, writeContext } from '../context.ts'

export const usage = `Usage: meshwork up [-f mesh.yaml …] [options]

Run a whole mesh on this machine: the control plane, a sidecar + app per Workload replica, the ingress
and egress gateways and the management UI. Without -f, runs the embedded Bookinfo sample.
Ctrl-C stops everything (UI, gateways, apps, sidecars, pod network, control plane, in that order).

Options:
  -f, --file <path>       mesh file (repeatable; default: samples/bookinfo/mesh.yaml)
  --ingress-port <port>   port of the ingress gateway (default 8080; 0 = any free port)
  --ui-port <port>        port of the management UI (default 8088; 0 = any free port)
  --control-port <port>   port of the control plane (default 15010; 0 = any free port)
  --xds-port <port>       also serve Envoy xDS v3 (ADS over gRPC: LDS, RDS, CDS, EDS) on 127.0.0.1:<port>
                          for Envoy and proxyless gRPC clients (0 = any free port; default: off);
                          \`meshwork xds bootstrap\` renders their bootstrap
  --data-dir <dir>        logs, CA, applied config, Prometheus config, and ${CONTEXT_FILE}: the URLs
                          through which meshwork get/apply/bench find this mesh
                          (default $MESHWORK_DATA_DIR, else .meshwork)
  --network <mode>        pods: each workload instance in its own network namespace (address from
                          198.18.0.0/16, services on 198.19.0.0/16), its traffic captured by nftables,
                          no HTTP_PROXY (needs root); loopback: everything on 127.0.0.1, apps use
                          HTTP_PROXY; auto (default): pods when running as root, else loopback
  --nodes <n>             pods: spread replicas over n node namespaces joined by a bridge (default 1)
  --no-ui                 do not start the management server
  -q, --quiet             do not copy process logs to the terminal (they still go to <data-dir>/logs)
`

function port (value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigInvalidError([{ file: '<flags>', path: flag, reason: `must be a port number (0-65535), got "${value}"` }])
  }
  return n
}

/**
 * The management plane hook: the API + UI server in this process, talking to the control plane over
 * its HTTP API and scraping every proxy's metrics.
 */
async function startManagement (ctx: ManagementHookContext): Promise<{ url: string, openUrl: string, close (): Promise<void> } | null> {
  const { startManagementServer } = await import('../../management/server.ts')
  const { ControlPlaneBackend } = await import('../../management/control-plane-backend.ts')
  const uiDir = join(packageRoot(), 'ui', 'dist')
  const server = await startManagementServer({
    host: '127.0.0.1',
    port: ctx.port,
    backend: new ControlPlaneBackend(ctx.controlPlane.url),
    scrapeTargets: () => ctx.proxies().map(p => ({ url: p.metricsUrl, proxyId: p.id, role: p.role, service: p.service, version: p.version })),
    uiDir: existsSync(uiDir) ? uiDir : undefined,
    dataDir: ctx.dataDir
  })
  return { url: server.url, openUrl: server.openUrl, close: () => server.close() }
}

export async function run (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      'ingress-port': { type: 'string' },
      'ui-port': { type: 'string' },
      'control-port': { type: 'string' },
      'xds-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'no-ui': { type: 'boolean' },
      network: { type: 'string', default: 'auto' },
      nodes: { type: 'string', default: '1' },
      quiet: { type: 'boolean', short: 'q' }
    },
    strict: true,
    allowPositionals: false
  })
  const network = values.network
  if (network !== 'auto' && network !== 'pods' && network !== 'loopback') {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--network', reason: `must be pods, loopback or auto, got "${network}"` }])
  }
  const nodes = Number(values.nodes)
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--nodes', reason: `must be a whole number from 1 to ${MAX_NODES}, got "${values.nodes}"` }])
  }
  // One line says which network runs and, on a fallback, why.
  const unsupported = network === 'loopback' ? null : podNetworkUnsupportedReason(undefined, proxyCodeFiles())
  if (network === 'pods' && unsupported !== null) throw new PodNetworkUnavailableError(`--network pods ${unsupported}; --network loopback runs without it`)
  const mode = network === 'pods' || (network === 'auto' && unsupported === null) ? 'pods' : 'loopback'
  if (nodes > 1 && mode !== 'pods') throw new PodNetworkUnavailableError(`--nodes ${nodes} needs --network pods${unsupported !== null ? `, which ${unsupported}` : ''}`)
  process.stdout.write(mode === 'pods'
    ? 'meshwork up: network: pods (a network namespace per workload instance, traffic captured by nftables, no HTTP_PROXY)\n'
    : `meshwork up: network: loopback (apps reach their sidecar through HTTP_PROXY${network === 'auto' ? `; transparent capture (--network pods) ${unsupported}` : ''})\n`)
  const opts: LocalMeshOptions = {
    files: values.file,
    ingressPort: port(values['ingress-port'], '--ingress-port', 8080),
    uiPort: port(values['ui-port'], '--ui-port', 8088),
    controlPort: port(values['control-port'], '--control-port', 15010),
    xdsPort: values['xds-port'] !== undefined ? port(values['xds-port'], '--xds-port', 0) : undefined,
    dataDir: values['data-dir'] ?? process.env.MESHWORK_DATA_DIR ?? '.meshwork',
    echo: values.quiet === true ? null : process.stdout,
    management: values['no-ui'] === true ? undefined : startManagement,
    network: mode,
    nodes
  }
  process.stdout.write('meshwork up: starting the control plane, sidecars, apps and gateways…\n')
  const mesh = await startLocalMesh(opts)
  // Like a kube context: `meshwork get/apply/bench` started in this directory (or with --data-dir) find
  // this mesh on whatever ports it got. Removed again when it stops.
  const contextFile = writeContext({
    controlPlaneUrl: mesh.controlPlaneUrl, managementUrl: mesh.uiUrl, ingressUrl: mesh.ingressUrl, dataDir: mesh.dataDir, pid: process.pid, startedAt: new Date().toISOString()
  })
  const xds = mesh.controlPlane.xdsAddress !== null ? `\n  xDS (Envoy v3 ADS, gRPC):  ${mesh.controlPlane.xdsAddress}   meshwork xds bootstrap --xds ${mesh.controlPlane.xdsAddress} --service <name> --grpc|--envoy` : ''
  process.stdout.write(`\nmeshwork is up.\n${mesh.summary({ contextFile })}${xds}\n\nPress Ctrl-C to stop.\n`)

  await new Promise<void>(resolve => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stdout.write(`meshwork up: ${signal} again, still stopping (pids: ${mesh.supervisor.all().map(p => p.pid).filter(Boolean).join(' ')})\n`)
        return
      }
      stopping = true
      process.stdout.write(`\nmeshwork up: ${signal}, stopping…\n`)
      removeContext(mesh.dataDir)
      mesh.stop().then(resolve, err => {
        process.stderr.write(`meshwork up: error while stopping: ${(err as Error).message}\n`)
        resolve()
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    // Closing the terminal: the apps run in their own process groups and would not get its SIGHUP.
    process.on('SIGHUP', onSignal)
  })
  const left = mesh.livePids()
  if (left.length > 0) {
    process.stderr.write(`meshwork up: stopped, but these processes are still alive: ${left.join(' ')}\n`)
    return 1
  }
  process.stdout.write('meshwork up: stopped, no process left behind.\n')
  return 0
}
