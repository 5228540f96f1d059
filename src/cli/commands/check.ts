import { parseArgs } from 'node:util'
import { loadResourceFiles } from '../../config/load.ts'
import { checkCompiles, mergeResources } from '../../controlplane/apply.ts'
import { findConflicts } from '../../controlplane/conflicts.ts'
import { buildMeshView } from '../../controlplane/mesh-view.ts'
import { Registry } from '../../controlplane/registry.ts'
import { ConfigInvalidError, type ConfigProblem, formatProblem } from '../../errors.ts'

export const usage = `Usage: meshwork check -f <mesh.yaml> [-f <more.yaml>…] [--base <mesh.yaml>…] [-o json]

Validate config files offline, as the control plane would before accepting them: every resource against
its schema (file:line:col, path, reason), then conflicts between them: two routes claiming the same match,
backend weights summing to 0, unknown backend services or Gateways, policies targeting unknown services,
more than one MeshConfig, duplicate resources, and snapshots a proxy would reject.
With --base, the files are checked as an apply on top of the base files (same names replace, as
\`meshwork apply\` does), e.g. \`meshwork check --base mesh.yaml -f reviews-v3.yaml\`.
Exit code 0 when the files are a consistent mesh, 1 otherwise.
`

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { file: { type: 'string', short: 'f', multiple: true }, base: { type: 'string', multiple: true }, output: { type: 'string', short: 'o', default: 'text' } }
  })
  const files = [...(values.file ?? []), ...positionals]
  if (files.length === 0) { process.stderr.write(usage); return 2 }
  let problems: ConfigProblem[]
  let code: string
  let count = 0
  try {
    const base = values.base ? await loadResourceFiles(values.base) : []
    const loaded = base.length > 0 ? mergeResources(base, await loadResourceFiles(files)).merged : await loadResourceFiles(files)
    count = loaded.length
    problems = findConflicts(loaded)
    code = 'MESH_ERR_CONFIG_CONFLICT'
    if (problems.length === 0) {
      const view = buildMeshView(loaded)
      const registry = new Registry({ trustDomain: view.meshConfig.trustDomain })
      registry.view = view
      problems = checkCompiles(view, registry)
      code = 'MESH_ERR_CONFIG_INVALID'
    }
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) throw err
    problems = err.problems
    code = err.code
  }
  if (values.output === 'json') {
    process.stdout.write(JSON.stringify({ ok: problems.length === 0, resources: count, code: problems.length > 0 ? code : undefined, problems }, null, 2) + '\n')
  } else if (problems.length === 0) {
    process.stdout.write(`ok: ${count} resources in ${files.length} file${files.length === 1 ? '' : 's'}, no conflicts\n`)
  } else {
    process.stderr.write(`${code}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map(p => `  ${formatProblem(p)}`).join('\n')}\n`)
  }
  return problems.length === 0 ? 0 : 1
}
