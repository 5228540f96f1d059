import { parseArgs } from 'node:util'
import { loadResourceFiles } from '../../config/index.ts'
import { renderInstall } from '../../adapters/kubernetes/install.ts'
import { toYamlStream } from '../../adapters/kubernetes/manifest-io.ts'
import { createWebhookTls } from '../../adapters/kubernetes/webhook-tls.ts'

export const DEFAULT_IMAGE = 'meshwork/meshwork:0.1.0'

export const usage = `Usage: meshwork install --kubernetes [options] | kubectl apply -f -

Renders the Kubernetes manifests of the control plane and the management plane (Namespace,
ServiceAccounts, RBAC, ConfigMap with the mesh config, Deployments, Services) on stdout.

Options:
  --kubernetes             required: the only install target
  --namespace <ns>         namespace of the control plane (default meshwork)
  --image <ref>            image with the meshwork binary (default ${DEFAULT_IMAGE})
  -f, --file <path>        mesh config for the control plane's ConfigMap (repeatable; default: a MeshConfig with defaults)
  --webhook                add the sidecar injector: Deployment, Service, TLS Secret (a fresh CA and serving
                           certificate) and a MutatingWebhookConfiguration for namespaces labelled
                           meshwork.dev/inject=enabled
  --no-native-sidecar      injected sidecars as regular containers (clusters older than Kubernetes 1.29)
  --capture <how>          how injected pods reach their sidecar: nftables (default; an init container with
                           NET_ADMIN) or env (HTTP_PROXY, no capability)
  --ingress <gateway>      run the Meshwork Gateway of that name as the ingress gateway (Deployment +
                           LoadBalancer Service, port 80)
`

export async function run (argv: string[]): Promise<number> {
  let values: { kubernetes?: boolean, namespace?: string, image?: string, file?: string[], webhook?: boolean, 'no-native-sidecar'?: boolean, capture?: string, ingress?: string }
  try {
    values = parseArgs({
      args: argv,
      options: {
        kubernetes: { type: 'boolean', default: false },
        namespace: { type: 'string', default: 'meshwork' },
        image: { type: 'string', default: DEFAULT_IMAGE },
        file: { type: 'string', short: 'f', multiple: true },
        webhook: { type: 'boolean', default: false },
        'no-native-sidecar': { type: 'boolean', default: false },
        capture: { type: 'string', default: 'nftables' },
        ingress: { type: 'string' }
      },
      strict: true
    }).values
  } catch (err) {
    process.stderr.write(`meshwork install: ${(err as Error).message}\n\n${usage}`)
    return 2
  }
  if (values.kubernetes !== true) {
    process.stderr.write(`meshwork install: --kubernetes is required (the local mesh needs no install: run \`meshwork up\`)\n\n${usage}`)
    return 2
  }
  if (values.capture !== 'nftables' && values.capture !== 'env') {
    process.stderr.write(`meshwork install: --capture must be nftables or env, got "${values.capture}"\n\n${usage}`)
    return 2
  }
  const ns = values.namespace!
  const mesh = values.file !== undefined ? (await loadResourceFiles(values.file)).map(l => l.resource) : undefined
  const webhookTls = values.webhook === true ? await createWebhookTls([`meshwork-injector.${ns}.svc`, `meshwork-injector.${ns}.svc.cluster.local`]) : undefined
  const objects = renderInstall({ namespace: ns, image: values.image!, webhook: values.webhook, webhookTls, mesh, nativeSidecar: values['no-native-sidecar'] !== true, capture: values.capture, ingressGateway: values.ingress })
  process.stdout.write(toYamlStream(objects))
  return 0
}
