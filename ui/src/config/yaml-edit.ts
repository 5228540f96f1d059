import { type Document, isMap, isScalar, isSeq, type Node, type Pair, parseAllDocuments, stringify, type YAMLMap } from 'yaml'

/**
 * Edits of a YAML text that touch only the bytes they must: a changed value is replaced where it
 * stands, a new key is inserted after its siblings, a removed key takes only its own line (or its own
 * `key: value` in a flow map). Every other byte — comments, key order, flow or block style, quoting,
 * other documents — stays as the user wrote it (issue 19: a form must change only what it was told to).
 *
 * @example
 * const next = setIn(text, { kind: 'HTTPRoute', name: 'reviews' }, ['spec', 'rules', 0, 'timeouts', 'request'], '7s')
 */
export type Path = ReadonlyArray<string | number>
export interface ResourceRef { kind: string, name: string }
type Range = [number, number, number]

export class YamlEditError extends Error {}

/** The documents of a text (an empty text has none). */
export function documentsOf (text: string): Document.Parsed[] {
  return Array.from(parseAllDocuments(text) as Iterable<Document.Parsed>)
}

export function findDocument (docs: readonly Document.Parsed[], ref: ResourceRef): Document.Parsed | undefined {
  return docs.find(d => d.errors.length === 0 && d.get('kind') === ref.kind && d.getIn(['metadata', 'name']) === ref.name)
}

function documentOf (text: string, ref: ResourceRef): Document.Parsed {
  const d = findDocument(documentsOf(text), ref)
  if (d === undefined) throw new YamlEditError(`no ${ref.kind}/${ref.name} in the text`)
  return d
}

const rangeOf = (n: Node): Range => {
  if (n.range === undefined || n.range === null) throw new YamlEditError('a node without a source range')
  return n.range as Range
}
const keyOf = (p: Pair): unknown => (isScalar(p.key) ? p.key.value : p.key)
const isPlainValue = (v: unknown): boolean => v === null || typeof v !== 'object'

/** Column (0-based) of an offset: its distance from the start of its line. */
function columnOf (text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

/** Whether flow maps and lists pad their brackets: `{ a: 1 }` / `[1, 2]` as in the mesh files. */
interface Padding { map: boolean, seq: boolean }
const DEFAULT_PADDING: Padding = { map: true, seq: false }

/** The padding the source uses around a node (its own brackets, else the default). */
function paddingOf (text: string, node: Node | null): Padding {
  if (node === null) return DEFAULT_PADDING
  const [start, end] = rangeOf(node)
  const src = text.slice(start, end)
  const after = (open: string, fallback: boolean): boolean => {
    const i = src.indexOf(open)
    return i === -1 ? fallback : src[i + 1] === ' '
  }
  return { map: after('{', DEFAULT_PADDING.map), seq: after('[', DEFAULT_PADDING.seq) }
}

function scalarText (v: unknown): string {
  return stringify(v).trimEnd()
}

/** One-line flow text of a value, padded like its surroundings. */
function flowText (v: unknown, pad: Padding): string {
  if (isPlainValue(v)) return scalarText(v)
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    const s = pad.seq ? ' ' : ''
    return `[${s}${v.map(x => flowText(x, pad)).join(', ')}${s}]`
  }
  const entries = Object.entries(v as Record<string, unknown>)
  if (entries.length === 0) return '{}'
  const s = pad.map ? ' ' : ''
  return `{${s}${entries.map(([k, x]) => `${scalarText(k)}: ${flowText(x, pad)}`).join(', ')}${s}}`
}

/** A block collection whose first line starts at `column`, following lines indented to it; ends with a newline. */
function blockText (v: unknown, column: number): string {
  const lines = stringify(v, { lineWidth: 0 }).trimEnd().split('\n')
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(column)}${l}`)).join('\n') + '\n'
}

function splice (text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end)
}

/** Replace a node that exists with a new value, in the style the node was written in. */
function replaceNode (text: string, node: Node, value: unknown): string {
  const [start, end] = rangeOf(node)
  if (isScalar(node)) return splice(text, start, end, flowText(value, DEFAULT_PADDING))
  if ((node as YAMLMap).flow === true || isPlainValue(value)) return splice(text, start, end, flowText(value, paddingOf(text, node)))
  return splice(text, start, end, blockText(value, columnOf(text, start)))
}

/** Add `key: value` to a map that lacks the key: after its last entry, in its style. */
function insertKey (text: string, map: YAMLMap, key: string, value: unknown): string {
  const [start, end] = rangeOf(map)
  if (map.flow === true) {
    const close = text.lastIndexOf('}', end - 1)
    const pad = paddingOf(text, map)
    if (map.items.length === 0) return splice(text, start, close + 1, flowText({ [key]: value }, pad))
    let at = close
    while (at > start && /\s/.test(text[at - 1])) at--
    return splice(text, at, at, `, ${key}: ${flowText(value, pad)}`)
  }
  const first = map.items[0]
  if (first === undefined) throw new YamlEditError('an empty block map')
  const indent = columnOf(text, rangeOf(first.key as Node)[0])
  // the end of the map's last line (a block map's range ends after its newline)
  const lineEnd = text[end - 1] === '\n' ? end - 1 : (text.indexOf('\n', end) === -1 ? text.length : text.indexOf('\n', end))
  // a new collection goes in on one line, in flow style: `retry: { attempts: 3 }`
  return splice(text, lineEnd, lineEnd, `\n${' '.repeat(indent)}${key}: ${flowText(value, DEFAULT_PADDING)}`)
}

/** Remove `key` from a map: its own line(s) in a block map, its `key: value` in a flow map. */
function removeKey (text: string, map: YAMLMap, pair: Pair): string {
  if (map.items.length === 1) return replaceNode(text, map, {})
  const keyStart = rangeOf(pair.key as Node)[0]
  const valueEnd = pair.value !== null && pair.value !== undefined ? rangeOf(pair.value as Node)[1] : rangeOf(pair.key as Node)[1]
  if (map.flow === true) {
    let end = valueEnd
    while (text[end] === ' ') end++
    if (text[end] === ',') {
      end++
      while (text[end] === ' ') end++
      return splice(text, keyStart, end, '')
    }
    let start = keyStart
    while (text[start - 1] === ' ') start--
    if (text[start - 1] === ',') start--
    return splice(text, start, valueEnd, '')
  }
  const lineStart = text.lastIndexOf('\n', keyStart - 1) + 1
  const end = text[valueEnd - 1] === '\n' ? valueEnd : (text.indexOf('\n', valueEnd) === -1 ? text.length : text.indexOf('\n', valueEnd) + 1)
  return splice(text, lineStart, end, '')
}

/** `{ a: { b: value } }` for the rest of a path that does not exist yet. */
function nest (path: Path, value: unknown): unknown {
  return path.reduceRight<unknown>((v, seg) => (typeof seg === 'number' ? [v] : { [seg]: v }), value)
}

/** Set the value at `path` of a resource, creating the maps on the way when they are missing. */
export function setIn (text: string, ref: ResourceRef, path: Path, value: unknown): string {
  const doc = documentOf(text, ref)
  let node: unknown = doc.contents
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]
    if (isMap(node)) {
      const pair = node.items.find(p => keyOf(p) === seg)
      if (pair === undefined) return insertKey(text, node, String(seg), nest(path.slice(i + 1), value))
      if (pair.value === null || pair.value === undefined) throw new YamlEditError(`${path.slice(0, i + 1).join('.')} has no value to replace`)
      // `key: null` (or a scalar) where the path goes deeper: the scalar becomes the nested map
      if (isScalar(pair.value) && i < path.length - 1) return replaceNode(text, pair.value, nest(path.slice(i + 1), value))
      node = pair.value
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)]
      if (item === undefined) throw new YamlEditError(`${path.slice(0, i + 1).join('.')} does not exist`)
      node = item
    } else {
      throw new YamlEditError(`${path.slice(0, i).join('.')} is not a map or a list`)
    }
  }
  return replaceNode(text, node as Node, value)
}

/** Remove the key at `path` of a resource; nothing happens when it is not there. */
export function deleteIn (text: string, ref: ResourceRef, path: Path): string {
  const doc = documentOf(text, ref)
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)
  if (!isMap(parent)) return text
  const pair = parent.items.find(p => keyOf(p) === path[path.length - 1])
  return pair === undefined ? text : removeKey(text, parent, pair)
}

/** Remove a whole resource (its document, with the comments inside it). */
export function removeResource (text: string, ref: ResourceRef): string {
  const [start, , end] = documentOf(text, ref).range as Range
  return splice(text, start, end, '')
}

/** Add a resource as a new document at the end. */
export function appendResource (text: string, resource: unknown): string {
  const body = stringify(resource, { lineWidth: 0 })
  if (text.trim() === '') return body
  return `${text.endsWith('\n') ? text : `${text}\n`}---\n${body}`
}
