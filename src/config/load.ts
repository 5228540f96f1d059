import { readFile } from 'node:fs/promises'
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml'
import type { z } from 'zod'
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts'
import { resolveGatewayFiles } from './gateway-files.ts'
import { formatPath } from './path.ts'
import { SCHEMAS, type Kind, type Resource } from './resource.ts'

export interface LoadedResource {
  resource: Resource
  file: string
  /** 1-based line where the document starts. */
  line: number
}

/**
 * Parse and validate every document of a YAML (or JSON) text. All problems are collected, each with
 * the file, line, path and reason; nothing is returned unless every document is valid.
 *
 * @example
 * const loaded = parseResources(text, 'mesh.yaml') // throws ConfigInvalidError
 */
export function parseResources (text: string, file: string): LoadedResource[] {
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const problems: ConfigProblem[] = []
  const out: LoadedResource[] = []
  const list = Array.isArray(docs) ? docs : [docs as unknown as Document]
  for (const doc of list) {
    const docLine = lineOf(lineCounter, (isNode(doc.contents) ? doc.contents.range?.[0] : undefined) ?? doc.range?.[0] ?? 0)
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push({ file, line: e.linePos?.[0]?.line ?? docLine, path: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })
      }
      continue
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 100 })
    } catch (err) {
      // e.g. an alias to an anchor that does not exist, or an alias bomb over maxAliasCount
      problems.push({ file, line: docLine, path: '', reason: `YAML: ${(err as Error).message.split('\n')[0]}` })
      continue
    }
    if (value === null || value === undefined) continue // empty document, e.g. a trailing `---`
    const r = validateResource(value, file)
    if (r.ok) {
      out.push({ resource: r.resource, file, line: docLine })
    } else {
      for (const p of r.problems) {
        const node = p.pathParts.length > 0 ? doc.getIn(p.pathParts, true) : doc.contents
        const offset = isNode(node) && node.range ? node.range[0] : doc.range?.[0] ?? 0
        problems.push({ file, line: lineOf(lineCounter, offset), path: p.path, reason: p.reason, resource: p.resource })
      }
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems)
  return out
}

/** Read and validate one or more files; problems of all files are reported together. */
export async function loadResourceFiles (files: string[]): Promise<LoadedResource[]> {
  const problems: ConfigProblem[] = []
  const out: LoadedResource[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      problems.push({ file, path: '', reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      continue
    }
    try {
      const loaded = parseResources(text, file)
      // files a resource names (Gateway certificates) are relative to this file: resolve and check them here
      problems.push(...resolveGatewayFiles(loaded))
      out.push(...loaded)
    } catch (err) {
      if (err instanceof ConfigInvalidError) problems.push(...err.problems)
      else throw err
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems)
  return out
}

interface ValidationProblem { path: string, pathParts: (string | number)[], reason: string, resource?: string }

/**
 * Validate one already-parsed value (from YAML, JSON or an API body) against the schema of its kind.
 * Never throws on bad input.
 */
export function validateResource (value: unknown, file = '<input>'): { ok: true, resource: Resource } | { ok: false, problems: ValidationProblem[] } {
  void file
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problems: [{ path: '', pathParts: [], reason: 'a resource must be a mapping with apiVersion, kind, metadata and spec' }] }
  }
  const v = value as Record<string, unknown>
  const kind = v.kind
  const name = typeof v.metadata === 'object' && v.metadata !== null ? (v.metadata as Record<string, unknown>).name : undefined
  const label = typeof kind === 'string' ? `${kind}/${typeof name === 'string' ? name : '?'}` : undefined
  if (typeof kind !== 'string' || !(kind in SCHEMAS)) {
    return { ok: false, problems: [{ path: 'kind', pathParts: ['kind'], reason: `unknown kind ${JSON.stringify(kind)}; expected one of ${Object.keys(SCHEMAS).join(', ')}`, resource: label }] }
  }
  const schema = SCHEMAS[kind as Kind] as z.ZodType
  const parsed = schema.safeParse(value)
  if (parsed.success) return { ok: true, resource: parsed.data as Resource }
  return {
    ok: false,
    problems: parsed.error.issues.map(issue => ({
      path: formatPath(issue.path as (string | number)[]),
      pathParts: issue.path as (string | number)[],
      reason: issue.message,
      resource: label
    }))
  }
}

// formatPath lives in its own module so the proxy can validate snapshots without loading the YAML parser.
export { formatPath } from './path.ts'

function lineOf (lc: LineCounter, offset: number): number {
  return lc.linePos(offset).line
}
