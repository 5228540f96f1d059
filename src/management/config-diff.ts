import { stringify } from 'yaml'
import { resourceKey, type Resource } from '../config/index.ts'
import { diffLines, type DiffLine } from './text-diff.ts'

export interface ResourceChange {
  key: string
  change: 'added' | 'removed' | 'changed'
  diff: DiffLine[]
}

/**
 * What applying `next` on top of `current` changes, per resource. Resources of `current` absent from
 * `next` are only listed as removed when `prune` is set (apply is additive by default, like kubectl apply).
 */
export function diffResources (current: readonly Resource[], next: readonly Resource[], opts: { prune?: boolean } = {}): ResourceChange[] {
  const before = new Map(current.map(r => [resourceKey(r), r]))
  const after = new Map(next.map(r => [resourceKey(r), r]))
  const out: ResourceChange[] = []
  for (const [key, r] of after) {
    const old = before.get(key)
    const newText = stringify(r)
    if (old === undefined) out.push({ key, change: 'added', diff: diffLines('', newText) })
    else {
      const oldText = stringify(old)
      if (oldText !== newText) out.push({ key, change: 'changed', diff: diffLines(oldText, newText) })
    }
  }
  if (opts.prune === true) {
    for (const [key, r] of before) if (!after.has(key)) out.push({ key, change: 'removed', diff: diffLines(stringify(r), '') })
  }
  return out.sort((x, y) => x.key.localeCompare(y.key))
}
