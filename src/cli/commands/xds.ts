import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ConfigInvalidError, type ConfigProblem } from '../../errors.ts'
import { resolveControlPlane, unreachableError } from '../context.ts'

export const usage = `Usage: meshwork xds bootstrap --service <name> [--grpc | --envoy] [options]

Render the bootstrap that points a client at the control plane's xDS server (meshwork control / up
--xds-port), with the node identity of a workload:
  --grpc (default)  JSON for a proxyless gRPC app: GRPC_XDS_BOOTSTRAP=<file> or GRPC_XDS_BOOTSTRAP_CONFIG
  --envoy           envoy.config.bootstrap.v3.Bootstrap (proto3 JSON, checked against Envoy's protos):
                    ADS over a static cluster, and an outbound listener on 127.0.0.1:<--outbound-port>
                    to use as the app's HTTP_PROXY. (Envoy itself is not installed with Meshwork.)

Options:
      --service <name>        the workload the client runs as (required)
      --version <v>           its version (default v1)
  -n, --namespace <ns>        its namespace (default default)
      --id <id>               node id (default <service>-<version>.<namespace>)
      --xds <host:port>       the xDS server (default: asked from the control plane, see below)
      --endpoints <mode>      inbound: the peer sidecars' mTLS listeners (needs --cert-dir);
                              app: the apps' own plain-text ports, bypassing their sidecars
                              (default: inbound with --cert-dir, else app)
      --cert-dir <dir>        cert.pem (leaf + intermediate), key.pem, ca.pem from the Meshwork CA:
                              gRPC gets a file_watcher certificate provider, Envoy static secrets
      --outbound-port <n>     Envoy: port of the outbound listener (default 15001)
      --admin-port <n>        Envoy: admin port on 127.0.0.1 (default 15000)
  -o, --output <file>         write to a file instead of stdout
      --control-plane <url>   the control plane asked for its xDS address (--control-plane,
                              $MESHWORK_CONTROL_PLANE, a running meshwork up's context, http://127.0.0.1:15010)
      --data-dir <dir>        where meshwork up recorded its context
`

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      version: { type: 'string', default: 'v1' },
      namespace: { type: 'string', short: 'n', default: 'default' },
      id: { type: 'string' },
      xds: { type: 'string' },
      endpoints: { type: 'string' },
      'cert-dir': { type: 'string' },
      'outbound-port': { type: 'string' },
      'admin-port': { type: 'string' },
      grpc: { type: 'boolean' },
      envoy: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      'control-plane': { type: 'string' },
      'data-dir': { type: 'string' }
    }
  })
  if (positionals[0] !== 'bootstrap') { process.stderr.write(usage); return 2 }
  const problems: ConfigProblem[] = []
  const flag = (path: string, reason: string): void => { problems.push({ file: '<flags>', path, reason }) }
  if (values.service === undefined) flag('--service', 'is required: the workload the client runs as')
  for (const k of ['service', 'version', 'namespace'] as const) if (values[k] !== undefined && !LABEL.test(values[k]!)) flag(`--${k}`, `must be a DNS-1123 label, got "${values[k]}"`)
  if (values.grpc === true && values.envoy === true) flag('--envoy', 'choose one of --grpc and --envoy')
  if (values.endpoints !== undefined && values.endpoints !== 'inbound' && values.endpoints !== 'app') flag('--endpoints', `must be inbound or app, got "${values.endpoints}"`)
  const portOf = (k: 'outbound-port' | 'admin-port'): number | undefined => {
    if (values[k] === undefined) return undefined
    const n = Number(values[k])
    if (!Number.isInteger(n) || n < 1 || n > 65535) flag(`--${k}`, `must be a port number, got "${values[k]}"`)
    return n
  }
  const outboundPort = portOf('outbound-port')
  const adminPort = portOf('admin-port')
  if (problems.length > 0) throw new ConfigInvalidError(problems)
  const xdsAddress = values.xds ?? await askControlPlane(values['control-plane'], values['data-dir'])
  const { renderEnvoyBootstrap, renderGrpcBootstrap } = await import('../../controlplane/xds/bootstrap.ts')
  const opts = {
    xdsAddress,
    service: values.service!,
    version: values.version,
    namespace: values.namespace,
    id: values.id,
    endpoints: values.endpoints as 'inbound' | 'app' | undefined,
    certDir: values['cert-dir'],
    outboundPort,
    adminPort
  }
  let doc: Record<string, unknown>
  if (values.envoy === true) {
    doc = renderEnvoyBootstrap(opts)
    // Checked against envoy.config.bootstrap.v3.Bootstrap before anyone feeds it to Envoy.
    const { fromProto3Json } = await import('../../controlplane/xds/proto-json.ts')
    const { xdsType } = await import('../../controlplane/xds/protos.ts')
    const { problems: bad } = fromProto3Json(xdsType('envoy.config.bootstrap.v3.Bootstrap'), doc)
    if (bad.length > 0) throw new ConfigInvalidError(bad.map(p => ({ file: '<envoy bootstrap>', path: p.path, reason: p.reason })))
  } else {
    doc = renderGrpcBootstrap(opts)
  }
  const text = JSON.stringify(doc, null, 2) + '\n'
  if (values.output !== undefined) writeFileSync(values.output, text)
  else process.stdout.write(text)
  return 0
}

/** The xDS address a running control plane reports in /v1/status. */
async function askControlPlane (flagUrl: string | undefined, dataDir: string | undefined): Promise<string> {
  const cp = resolveControlPlane({ flag: flagUrl, dataDir })
  let status: { xds?: string | null }
  try {
    status = await (await fetch(new URL('/v1/status', cp.url))).json() as { xds?: string | null }
  } catch (err) {
    throw unreachableError(cp, err)
  }
  if (typeof status.xds !== 'string') {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--xds', reason: `the control plane at ${cp.url} serves no xDS (start it with --xds-port), and no --xds <host:port> was given` }])
  }
  return status.xds
}
