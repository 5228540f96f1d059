/**
 * Line diff (Myers-style LCS on lines, O(n·m) bounded) rendered as a unified-style list for the UI's
 * "review before apply" view.
 *
 * @example diffLines('a\nb\n', 'a\nc\n') // [{op:' ',line:'a'},{op:'-',line:'b'},{op:'+',line:'c'}]
 */
export interface DiffLine { op: ' ' | '+' | '-', line: string }

export function diffLines (before: string, after: string): DiffLine[] {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n')
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n')
  // Bound the table: configs are small; past this, fall back to "replace everything".
  if (a.length * b.length > 4_000_000) {
    return [...a.map(line => ({ op: '-' as const, line })), ...b.map(line => ({ op: '+' as const, line }))]
  }
  const n = a.length
  const m = b.length
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
    }
  }
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push({ op: ' ', line: a[i] }); i++; j++ } else if (lcs[i + 1][j] >= lcs[i][j + 1]) { out.push({ op: '-', line: a[i++] }) } else { out.push({ op: '+', line: b[j++] }) }
  }
  while (i < n) out.push({ op: '-', line: a[i++] })
  while (j < m) out.push({ op: '+', line: b[j++] })
  return out
}
