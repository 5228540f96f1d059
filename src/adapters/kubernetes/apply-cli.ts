import { parseArgs } from 'node:util'
import { loadResourceFiles } from '../../config/index.ts'
import { MESHES } from '../translate.ts'
import type { Mesh } from '../unsupported.ts'
import { applyToKubernetes } from './apply.ts'

export const applyKubernetesUsage = `Usage: meshwork apply --kubernetes -f mesh.yaml [-f ...] [options]

Server-side applies the config to the cluster of your kubeconfig (field manager "meshwork"): as the
control plane's ConfigMap meshwork-mesh, or with --to translated to Istio, Linkerd or Consul resources.
Fails with MESH_ERR_KUBECONFIG_MISSING / MESH_ERR_KUBE_UNREACHABLE (exit 1) when no cluster is reachable.

Options:
  --kubeconfig <file>   default $KUBECONFIG, then ~/.kube/config, then the in-cluster service account
  --context <name>      kubeconfig context
  --namespace <ns>      namespace of the Meshwork install (default meshwork)
  --to <mesh>           istio, linkerd or consul: apply the translated resources instead
  --dry-run             server-side dry run
  --timeout <ms>        bound on connecting and on each request (default 10000)
`

/** `meshwork apply --kubernetes …`: the whole command, so apply.ts only needs to hand argv over. */
export async function runApplyKubernetes (argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    values = parseArgs({
      args: argv,
      options: {
        kubernetes: { type: 'boolean' },
        file: { type: 'string', short: 'f', multiple: true },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string', default: 'meshwork' },
        to: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        timeout: { type: 'string', default: '10000' }
      },
      strict: true
    }).values
  } catch (err) {
    process.stderr.write(`meshwork apply: ${(err as Error).message}\n\n${applyKubernetesUsage}`)
    return 2
  }
  const files = (values.file as string[] | undefined) ?? []
  const to = values.to as string | undefined
  if (files.length === 0 || (to !== undefined && !(MESHES as readonly string[]).includes(to))) {
    process.stderr.write(`meshwork apply: give -f <file>${to !== undefined ? ` and --to one of ${MESHES.join(', ')}` : ''}\n\n${applyKubernetesUsage}`)
    return 2
  }
  const resources = (await loadResourceFiles(files)).map(l => l.resource)
  const r = await applyToKubernetes(resources, {
    kubeconfig: values.kubeconfig as string | undefined,
    context: values.context as string | undefined,
    namespace: values.namespace as string,
    to: to as Mesh | undefined,
    dryRun: values['dry-run'] === true,
    timeoutMs: Number(values.timeout)
  })
  for (const a of r.applied) process.stdout.write(`${a.kind}/${a.namespace !== undefined ? `${a.namespace}/` : ''}${a.name} applied${values['dry-run'] === true ? ' (dry run)' : ''}\n`)
  for (const u of r.unsupported) process.stderr.write(`unsupported: ${u.mesh} ${u.resource} ${u.path || '<resource>'}: ${u.reason}\n`)
  return 0
}
