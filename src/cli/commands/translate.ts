import { parseArgs } from 'node:util'
import { loadResourceFiles } from '../../config/index.ts'
import { validateManifest } from '../../adapters/kubernetes/validate-manifest.ts'
import { readManifestFiles, toYamlStream } from '../../adapters/kubernetes/manifest-io.ts'
import { MESHES, fromIstio, translate } from '../../adapters/translate.ts'
import type { Mesh, Unsupported } from '../../adapters/unsupported.ts'

export const usage = `Usage: meshwork translate --to istio|linkerd|consul -f mesh.yaml [-f ...]
       meshwork translate --from istio -f virtual-services.yaml [-f ...]

Prints the translated resources as YAML on stdout. Every field the target cannot express is listed on
stderr as "unsupported: <mesh> <Kind/namespace/name> <path>: <reason>" (never dropped silently).

Options:
  --to <mesh>          istio, linkerd or consul (from Meshwork config)
  --from istio         Istio VirtualService / DestinationRule → Meshwork config
  -f, --file <path>    input file, repeatable (- = stdin for --from)
  --warnings <fmt>     text (default) or json (one JSON array on stderr)
  --strict             exit 3 when anything is unsupported
`

export async function run (argv: string[]): Promise<number> {
  let values: { to?: string, from?: string, file?: string[], warnings?: string, strict?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: {
        to: { type: 'string' },
        from: { type: 'string' },
        file: { type: 'string', short: 'f', multiple: true },
        warnings: { type: 'string', default: 'text' },
        strict: { type: 'boolean', default: false }
      },
      strict: true
    }).values
  } catch (err) {
    process.stderr.write(`meshwork translate: ${(err as Error).message}\n\n${usage}`)
    return 2
  }
  const files = values.file ?? []
  if (files.length === 0 || (values.to === undefined) === (values.from === undefined)) {
    process.stderr.write(`meshwork translate: give -f and exactly one of --to, --from\n\n${usage}`)
    return 2
  }
  let out: object[]
  let unsupported: Unsupported[]
  if (values.to !== undefined) {
    if (!(MESHES as readonly string[]).includes(values.to)) {
      process.stderr.write(`meshwork translate: --to must be one of ${MESHES.join(', ')}\n`)
      return 2
    }
    const loaded = await loadResourceFiles(files)
    const t = translate(loaded.map(l => l.resource), values.to as Mesh)
    out = t.resources
    unsupported = t.unsupported
    // The output is checked against the published schemas; a problem here is a translator bug.
    for (const o of out) {
      for (const p of validateManifest(o)) process.stderr.write(`meshwork translate: internal: ${(o as { kind: string }).kind}/${(o as { metadata: { name: string } }).metadata.name} fails its schema: ${p}\n`)
    }
  } else {
    if (values.from !== 'istio') {
      process.stderr.write('meshwork translate: --from supports istio only\n')
      return 2
    }
    const t = fromIstio(await readManifestFiles(files))
    out = t.resources
    unsupported = t.unsupported
  }
  process.stdout.write(toYamlStream(out))
  if (values.warnings === 'json') process.stderr.write(JSON.stringify(unsupported, null, 2) + '\n')
  else for (const u of unsupported) process.stderr.write(`unsupported: ${u.mesh} ${u.resource} ${u.path || '<resource>'}: ${u.reason}\n`)
  return values.strict === true && unsupported.length > 0 ? 3 : 0
}
