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
    const docStart = (isNode(doc.contents) ? doc.contents.range?.[0] : undefined) ?? doc.range?.[0] ?? 0
    const docLine = lineOf(lineCounter, docStart)
    if (doc.errors.length > 0) {
      // `linePos` is only filled in with prettyErrors; the offset `pos` is always there (issue 19: every
      // syntax error used to be reported at the document's first line).
      for (const e of doc.errors) {
        const message = e.message.split('\n')[0]
        const opener = /^Flow (map|sequence)/.exec(message)
        const at = opener !== null ? unclosed(text, e.pos[0], opener[1] === 'map' ? '{' : '[') : -1
        problems.push(at !== -1
          ? { file, ...positionOf(lineCounter, at), path: '', reason: `YAML syntax: ${message} (this ${text[at]} is never closed)` }
          : { file, ...positionOf(lineCounter, atContent(text, e.pos[0])), path: '', reason: `YAML syntax: ${message}` })
      }
      continue
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: 100 })
    } catch (err) {
      // e.g. an alias to an anchor that does not exist, or an alias bomb over maxAliasCount
      problems.push({ file, ...positionOf(lineCounter, docStart), path: '', reason: `YAML: ${(err as Error).message.split('\n')[0]}` })
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
        problems.push({ file, ...positionOf(lineCounter, offset), path: p.path, reason: p.reason, resource: p.resource })
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

/**
 * The parser reports a missing `}`, `]` or quote where it gave up, which is the end of the text when the
 * collection is never closed: point at the end of the last line with content instead (where the closing
 * character is missing), not at a line past the end of the file.
 */
function atContent (text: string, offset: number): number {
  if (text.slice(offset).trim() !== '') return offset
  return text.slice(0, offset).trimEnd().length
}

/**
 * The `{` or `[` left open before `offset`, or -1: for "Flow map … must end with a }", the place to fix
 * is the bracket that was opened, not the line where the parser gave up. Quotes and comments are not
 * parsed here; a bracket inside one can only make the answer -1 or a nearby bracket.
 */
function unclosed (text: string, offset: number, open: '{' | '['): number {
  const close = open === '{' ? '}' : ']'
  let depth = 0
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    const c = text[i]
    if (c === close) depth++
    else if (c === open) {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}

/** 1-based line and column of an offset in the text. */
function positionOf (lc: LineCounter, offset: number): { line: number, column: number } {
  const { line, col } = lc.linePos(offset)
  return { line, column: col }
}
