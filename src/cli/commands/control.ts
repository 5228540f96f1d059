import { parseArgs } from 'node:util'
import { Duration, parseDuration } from '../../config/common.ts'
import { ConfigInvalidError, PortInUseError } from '../../errors.ts'
import { startControlPlane } from '../../controlplane/index.ts'

export const usage = `Usage: meshwork control -f <mesh.yaml> [-f <more.yaml>…] [options]

Run the control plane: registry, per-proxy snapshots over a long-lived stream, certificate authority.

Options:
  -f, --file <path>        mesh file(s) to serve (repeatable)
      --host <addr>        listen address (default 127.0.0.1)
      --port <n>           listen port (default 15010; 0 = any)
      --data-dir <dir>     where the CA and applied config persist (default .meshwork/control)
      --trust-domain <td>  SPIFFE trust domain (default: the MeshConfig's, else cluster.local)
      --cert-ttl <dur>     workload certificate lifetime, e.g. 1h, 10m (default: MeshConfig certificates.ttl)
      --xds-port <n>       also serve Envoy xDS v3 over gRPC (ADS, state of the world and delta: LDS, RDS,
                           CDS, EDS) for Envoy and proxyless gRPC clients (0 = any; default: off);
                           \`meshwork xds bootstrap\` renders their bootstrap
      --xds-host <addr>    listen address of the xDS server (default: --host)
`

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '15010' },
      'data-dir': { type: 'string', default: '.meshwork/control' },
      'trust-domain': { type: 'string' },
      'cert-ttl': { type: 'string' },
      'xds-port': { type: 'string' },
      'xds-host': { type: 'string' }
    }
  })
  const files = [...(values.file ?? []), ...positionals]
  if (files.length === 0) {
    process.stderr.write(usage)
    return 2
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigInvalidError([{ file: '<flags>', path: '--port', reason: `must be a port number, got "${values.port}"` }])
  const xdsPort = values['xds-port'] !== undefined ? Number(values['xds-port']) : undefined
  if (xdsPort !== undefined && (!Number.isInteger(xdsPort) || xdsPort < 0 || xdsPort > 65535)) throw new ConfigInvalidError([{ file: '<flags>', path: '--xds-port', reason: `must be a port number, got "${values['xds-port']}"` }])
  const ttl = values['cert-ttl']
  if (ttl !== undefined && (!Duration.safeParse(ttl).success || parseDuration(ttl) < 1000)) {
    throw new ConfigInvalidError([{ file: '<flags>', path: '--cert-ttl', reason: `must be a duration of at least 1s such as "10m" or "1h", got "${ttl}"` }])
  }
  const cp = await startControlPlane({
    files,
    host: values.host,
    port,
    dataDir: values['data-dir'],
    trustDomain: values['trust-domain'],
    certTtlMs: ttl !== undefined ? parseDuration(ttl) : undefined,
    xdsPort,
    xdsHost: values['xds-host'],
    log: line => process.stderr.write(`control: ${line}\n`)
  }).catch((err: unknown) => {
    if (/EADDRINUSE/.test(String((err as Error)?.message)) && (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      // grpc-js reports a taken port in its message only.
      throw new PortInUseError(`xDS port ${xdsPort} is in use (EADDRINUSE); choose another with --xds-port <port> (0 = any free port)`, { cause: err })
    }
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    throw new PortInUseError(`control plane port ${port} on ${values.host} is in use (EADDRINUSE); choose another with --port <port> (--port 0 = any free port)`, { cause: err })
  })
  process.stdout.write(`meshwork control plane listening on ${cp.url} (version ${cp.version}, ${cp.registry.view.services.size} services)\n`)
  if (cp.xdsAddress !== null) process.stdout.write(`xDS v3 (ADS over gRPC, LDS/RDS/CDS/EDS) on ${cp.xdsAddress}\n`)
  await new Promise<void>(resolve => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve() }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await cp.close()
  return 0
}
