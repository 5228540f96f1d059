/**
 * Where a position of a YAML text is, as a path of keys and list indexes, for completion and hover.
 * Works line by line on block-style YAML (what the mesh files and the forms write), so it also answers
 * in a document that does not parse yet — the one being typed. Flow collections (`{ a: 1 }`) are taken
 * as the value of their key.
 *
 * @example
 * contextAt('kind: HTTPRoute\nspec:\n  rules:\n    - timeouts:\n        req', 48)
 * // → { kind: 'HTTPRoute', parent: ['spec', 'rules', 0, 'timeouts'], inKey: true, word: 'req', ... }
 */
export type YamlPath = Array<string | number>

export interface YamlContext {
  /** `kind:` of the document around the position, if it has one. */
  kind: string | undefined
  /** Path of the mapping the position's line belongs to. */
  parent: YamlPath
  /** The key written on the position's line (undefined on a blank line or a list scalar). */
  key: string | undefined
  /** Offsets of that key in the text. */
  keyFrom: number
  keyTo: number
  /** The position is where a key goes (before any `:` on its line). */
  inKey: boolean
  /** The word being typed at the position and where it starts (for completion). */
  word: string
  wordFrom: number
}

interface Entry { col: number, seg: string | number, items: number }

const LINE = /^( *)((?:- +)*)(.*)$/
const KEY = /^("[^"]*"|'[^']*'|[^\s#:'"{[][^:#]*?)\s*:(?:\s|$)/

function unquote (k: string): string {
  return (k.startsWith('"') || k.startsWith("'")) ? k.slice(1, -1) : k
}

/** Lines of the document (between `---` markers) that holds `line`. */
function documentRange (lines: readonly string[], line: number): [number, number] {
  let from = line
  while (from > 0 && !lines[from - 1].startsWith('---')) from--
  let to = line
  while (to < lines.length - 1 && !lines[to + 1].startsWith('---')) to++
  return [from, to]
}

/** Apply one line's dashes and key to the stack; returns the column its content starts at. */
function step (stack: Entry[], indent: number, dashes: string, content: string): number {
  let col = indent
  // each `- ` opens an item of the sequence whose parent is what remains on the stack
  for (const m of dashes.matchAll(/- +/g)) {
    while (stack.length > 0 && (stack[stack.length - 1].col > col || (stack[stack.length - 1].col === col && typeof stack[stack.length - 1].seg === 'number'))) stack.pop()
    const parent = stack[stack.length - 1]
    const index = parent === undefined ? 0 : parent.items++
    stack.push({ col, seg: index, items: 0 })
    col += m[0].length
  }
  const key = KEY.exec(content)
  if (key !== null) {
    while (stack.length > 0 && stack[stack.length - 1].col >= col) stack.pop()
    stack.push({ col, seg: unquote(key[1].trim()), items: 0 })
  }
  return col
}

export function contextAt (text: string, offset: number): YamlContext {
  const lines = text.split('\n')
  let line = 0
  let start = 0
  while (line < lines.length - 1 && start + lines[line].length < offset) { start += lines[line].length + 1; line++ }
  const column = offset - start
  const [from] = documentRange(lines, line)
  let kind: string | undefined
  for (let i = from; i < lines.length && !(i > from && lines[i].startsWith('---')); i++) {
    const m = /^kind:\s*["']?([A-Za-z]+)/.exec(lines[i])
    if (m !== null) { kind = m[1]; break }
  }
  const stack: Entry[] = []
  for (let i = from; i < line; i++) {
    const m = LINE.exec(lines[i])!
    if (m[3].trim() === '' && m[2] === '') continue
    if (m[3].startsWith('#') || lines[i].startsWith('---')) continue
    step(stack, m[1].length, m[2], m[3])
  }
  const own = lines[line]
  const before = own.slice(0, column)
  const m = LINE.exec(own)!
  const blank = m[3].trim() === '' && m[2] === ''
  // on a blank line the caret's column is where the new key goes
  const indent = blank ? before.length : m[1].length
  const dashes = blank ? '' : m[2]
  let contentCol = indent
  const probe = [...stack]
  for (const d of dashes.matchAll(/- +/g)) contentCol += d[0].length
  const key = blank ? null : KEY.exec(m[3])
  // the parent: what stays on the stack once this line's dashes are applied and its key is not yet pushed
  step(probe, indent, dashes, '')
  while (probe.length > 0 && probe[probe.length - 1].col >= contentCol) probe.pop()
  const parent = probe.map(e => e.seg)
  const keyText = key === null ? undefined : unquote(key[1].trim())
  const keyFrom = start + contentCol + (key !== null && /^["']/.test(key[1]) ? 1 : 0)
  const colon = key === null ? -1 : contentCol + key[0].indexOf(':')
  const inKey = colon === -1 || column <= colon
  const word = /[\w.-]*$/.exec(before)![0]
  return {
    kind,
    parent,
    key: keyText,
    keyFrom,
    keyTo: keyFrom + (keyText?.length ?? 0),
    inKey,
    word,
    wordFrom: offset - word.length
  }
}
