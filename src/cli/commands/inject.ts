import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { injectManifests } from '../../adapters/kubernetes/inject-manifests.ts'
import { controlPlaneUrl } from '../../adapters/kubernetes/install.ts'
import { readManifestFiles, toYamlStream } from '../../adapters/kubernetes/manifest-io.ts'
import type { SidecarOptions } from '../../adapters/kubernetes/sidecar.ts'
import { startInjectorServer } from '../../adapters/kubernetes/webhook-server.ts'
import { DEFAULT_IMAGE } from './install.ts'

export const usage = `Usage: meshwork inject -f deploy.yaml [-f ...] | kubectl apply -f -
       meshwork inject --serve --tls-cert <file> --tls-key <file> [--port 8443]

Adds the Meshwork sidecar (container meshwork-proxy) to Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs and Pods, and prints all objects on stdout; a report goes to stderr.
By default an init container (meshwork-init, NET_ADMIN) installs nftables rules that send the app's
traffic through the proxy transparently (\`meshwork netns rules\`); the proxy runs as uid 1337.
Injecting twice changes nothing; templates with meshwork.dev/inject: disabled are left alone.
--serve runs the mutating admission webhook instead (installed by \`meshwork install --kubernetes --webhook\`).

Options:
  -f, --file <path>          manifests (repeatable; - = stdin)
  --image <ref>              sidecar image (default ${DEFAULT_IMAGE})
  --control-plane <url>      control plane URL seen from pods (default ${controlPlaneUrl('meshwork')})
  --no-native-sidecar        add the proxy as a regular container (clusters older than Kubernetes 1.29)
  --capture <how>            nftables (default): transparent capture by the init container;
                             env: HTTP_PROXY on the app containers instead, no capability needed (only
                             clients that honour HTTP_PROXY are on the mesh)
  --serve                    run the webhook server: --host (default 0.0.0.0), --port (default 8443),
                             --tls-cert, --tls-key (PEM files)
`

export async function run (argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        file: { type: 'string', short: 'f', multiple: true },
        image: { type: 'string', default: DEFAULT_IMAGE },
        'control-plane': { type: 'string', default: controlPlaneUrl('meshwork') },
        'no-native-sidecar': { type: 'boolean', default: false },
        capture: { type: 'string', default: 'nftables' },
        serve: { type: 'boolean', default: false },
        host: { type: 'string', default: '0.0.0.0' },
        port: { type: 'string', default: '8443' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' }
      },
      strict: true
    }).values
  } catch (err) {
    process.stderr.write(`meshwork inject: ${(err as Error).message}\n\n${usage}`)
    return 2
  }
  if (values.capture !== 'nftables' && values.capture !== 'env') {
    process.stderr.write(`meshwork inject: --capture must be nftables or env, got "${values.capture}"\n\n${usage}`)
    return 2
  }
  const opts: SidecarOptions = { image: values.image as string, controlPlane: values['control-plane'] as string, nativeSidecar: values['no-native-sidecar'] !== true, capture: values.capture }
  if (values.serve === true) {
    const tls = values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? { certPem: await readFile(values['tls-cert'] as string, 'utf8'), keyPem: await readFile(values['tls-key'] as string, 'utf8') }
      : undefined
    if (tls === undefined) process.stderr.write('meshwork inject: no --tls-cert/--tls-key: serving plain HTTP (the Kubernetes API server only calls HTTPS webhooks)\n')
    const srv = await startInjectorServer({ ...opts, host: values.host as string, port: Number(values.port), tls })
    process.stdout.write(`meshwork inject: sidecar injector webhook on ${srv.url}/inject\n`)
    await new Promise<void>(resolve => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
    await srv.close()
    return 0
  }
  const files = (values.file as string[] | undefined) ?? []
  if (files.length === 0) {
    process.stderr.write(`meshwork inject: give -f <file> (or -f - for stdin)\n\n${usage}`)
    return 2
  }
  const { objects, report } = injectManifests(await readManifestFiles(files), opts)
  process.stdout.write(toYamlStream(objects))
  for (const r of report) process.stderr.write(`${r.kind}/${r.name}: ${r.outcome}\n`)
  return 0
}
