import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { Duration, parseDuration } from '../../config/common.ts'
import { loadResourceFiles } from '../../config/load.ts'
import { resourceKey } from '../../config/resource.ts'
import { ConfigInvalidError, type ConfigProblem, formatProblem } from '../../errors.ts'
import { resolveControlPlane, unreachableError } from '../context.ts'

export const usage = `Usage: meshwork apply -f <file.yaml> [-f <more.yaml>…] [options]

Validate the files locally (file:line:col, path, reason), then apply them to a running control plane as one
change and wait until every proxy has ACKed or NACKed it.

Options:
  -f, --file <path>          file(s) to apply (repeatable)
      --control-plane <url>  the control plane (see below)
      --data-dir <dir>       where \`meshwork up\` recorded its context (default $MESHWORK_DATA_DIR, else ./.meshwork)
      --wait <dur>           how long to wait for the proxies' ACK/NACK (default 5s; 0s = do not wait)
  -o, --output <fmt>         text (default) or json
      --delete               delete the resources the files name (Kind/namespace/name) instead
      --kubernetes           server-side apply to the cluster of your kubeconfig instead of a control plane,
                             as the ConfigMap meshwork-mesh or, with --to istio|linkerd|consul, translated;
                             its own options: --kubeconfig, --context, --namespace, --to, --dry-run, --timeout
                             (docs/kubernetes.md)

The control plane is, first match wins: --control-plane, $MESHWORK_CONTROL_PLANE, the URL a running
\`meshwork up\` recorded in <data-dir>/context.json, http://127.0.0.1:15010.

Exit codes: 0 applied and every proxy in sync · 1 refused (invalid, conflicting) or unreachable ·
3 applied but NACKed by some proxy (they keep serving their last good config) · 4 not in sync in time
`

/** `apply --kubernetes --help` prints the Kubernetes variant's own usage. */
export async function usageFor (argv: string[]): Promise<string | undefined> {
  if (!argv.includes('--kubernetes')) return undefined
  return (await import('../../adapters/kubernetes/apply-cli.ts')).applyKubernetesUsage
}

interface ApplyResponse {
  ok: boolean
  version: string
  code?: string
  message?: string
  changed?: string[]
  problems?: ConfigProblem[]
  proxies?: { id: string, status: 'SYNCED' | 'NACKED' | 'PENDING', error?: string }[]
}

export async function run (argv: string[]): Promise<number> {
  // `--kubernetes`: server-side apply to a cluster, in src/adapters/kubernetes (docs/kubernetes.md).
  if (argv.includes('--kubernetes')) return (await import('../../adapters/kubernetes/apply-cli.ts')).runApplyKubernetes(argv)
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      'control-plane': { type: 'string' },
      'data-dir': { type: 'string' },
      wait: { type: 'string', default: '5s' },
      output: { type: 'string', short: 'o', default: 'text' },
      delete: { type: 'boolean', default: false }
    }
  })
  const files = [...(values.file ?? []), ...positionals]
  if (files.length === 0) { process.stderr.write(usage); return 2 }
  const json = values.output === 'json'
  if (!Duration.safeParse(values.wait).success) throw new ConfigInvalidError([{ file: '<flags>', path: '--wait', reason: `must be a duration such as "5s", got "${values.wait}"` }])
  let loaded: Awaited<ReturnType<typeof loadResourceFiles>>
  try {
    loaded = await loadResourceFiles(files)
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    if (json) process.stdout.write(JSON.stringify({ ok: false, code: err.code, problems: err.problems }, null, 2) + '\n')
    else process.stderr.write(`meshwork apply: ${err.code}: nothing applied\n${err.problems.map(p => `  ${formatProblem(p)}`).join('\n')}\n`)
    return 1
  }
  const cp = resolveControlPlane({ flag: values['control-plane'], dataDir: values['data-dir'] })
  const body = values.delete
    ? { keys: loaded.map(l => resourceKey(l.resource)) }
    : { files: await Promise.all(files.map(async f => ({ source: f, text: await readFile(f, 'utf8') }))), waitMs: parseDuration(values.wait) }
  let res: Response
  try {
    res = await fetch(new URL(values.delete ? '/v1/delete' : '/v1/apply', cp.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  } catch (err) {
    const e = unreachableError(cp, err)
    if (json) process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }, null, 2) + '\n')
    throw e
  }
  const r = await res.json() as ApplyResponse
  if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n')
  if (!r.ok) {
    if (!json) {
      process.stderr.write(`meshwork apply: ${r.code}: refused, nothing changed (control plane still serves version ${r.version ?? '?'})\n`)
      if (r.problems) process.stderr.write(r.problems.map(p => `  ${formatProblem(p)}`).join('\n') + '\n')
      else if (r.message) process.stderr.write(`  ${r.message}\n`)
    }
    return 1
  }
  const proxies = r.proxies ?? []
  const nacked = proxies.filter(p => p.status === 'NACKED')
  const pending = proxies.filter(p => p.status === 'PENDING')
  if (!json) {
    if ((r.changed ?? []).length === 0) process.stdout.write(`unchanged: version ${r.version} already has this config\n`)
    else process.stdout.write(`${values.delete ? 'deleted' : 'applied'} version ${r.version}: ${r.changed!.join(', ')}\n`)
    if (proxies.length > 0) process.stdout.write(`proxies: ${proxies.length - nacked.length - pending.length}/${proxies.length} in sync\n`)
    for (const p of nacked) process.stdout.write(`  NACK ${p.id}: ${p.error} (it keeps serving its last good config)\n`)
    for (const p of pending) process.stdout.write(`  PENDING ${p.id}: no answer within ${values.wait}\n`)
  }
  return nacked.length > 0 ? 3 : pending.length > 0 ? 4 : 0
}
