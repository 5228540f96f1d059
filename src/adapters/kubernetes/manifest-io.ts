import { readFile } from 'node:fs/promises'
import { parseAllDocuments, stringify } from 'yaml'
import { ConfigInvalidError, type ConfigProblem } from '../../errors.ts'

/**
 * Read Kubernetes objects from YAML/JSON files (`-` = stdin), every document of each. Problems of all
 * files are reported together as MESH_ERR_CONFIG_INVALID with file and line.
 */
export async function readManifestFiles (files: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<unknown[]> {
  const out: unknown[] = []
  const problems: ConfigProblem[] = []
  for (const file of files) {
    let text: string
    try {
      text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8')
    } catch (err) {
      problems.push({ file, path: '', reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      continue
    }
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        for (const e of doc.errors) problems.push({ file, line: e.linePos?.[0]?.line, path: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })
        continue
      }
      const v = doc.toJS({ maxAliasCount: 100 })
      if (v !== null && v !== undefined) out.push(v)
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems)
  return out
}

/** Objects → one YAML stream (`---` between documents), without anchors/aliases. */
export function toYamlStream (objects: readonly unknown[]): string {
  return objects.map(o => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n')
}

async function readAll (s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : c)
  return Buffer.concat(chunks).toString('utf8')
}
