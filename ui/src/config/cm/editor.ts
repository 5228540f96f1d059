import { autocompletion, type Completion, type CompletionContext, type CompletionResult, completionKeymap } from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands'
import { yaml } from '@codemirror/lang-yaml'
import { bracketMatching, foldGutter, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint'
import { EditorState, RangeSet, StateEffect, StateField } from '@codemirror/state'
import {
  drawSelection, EditorView, GutterMarker, gutterLineClass, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers
} from '@codemirror/view'
import { classHighlighter } from '@lezer/highlight'
import type { ConfigProblem } from '../../../../src/errors.ts'
import { docOf, keysAt, nodeAt, schemaOf, typeOf, valuesAt } from '../schema-docs.ts'
import { contextAt } from '../yaml-context.ts'

/**
 * The Config page's YAML editor: CodeMirror 6 with YAML highlighting, the schema problems of the page's
 * validation (the CLI's zod schemas, line:column from the yaml CST) as inline diagnostics and marked
 * gutter lines, completion of keys and enum values and hover docs generated from the same schemas.
 * Loaded as its own chunk (YamlEditor.tsx imports it dynamically) so the first page load stays small.
 */
export interface EditorHandle {
  setDoc (text: string): void
  setProblems (problems: readonly ConfigProblem[]): void
  /** Put the caret at a 1-based line (and column), scroll it to the middle and focus the editor. */
  goTo (line: number, column?: number): void
  destroy (): void
}

const badLine = new class extends GutterMarker { elementClass = 'bad-line' }()
const setBadLines = StateEffect.define<number[]>()
const badLines = StateField.define<RangeSet<GutterMarker>>({
  create: () => RangeSet.empty,
  update (value, tr) {
    for (const e of tr.effects) {
      if (e.is(setBadLines)) {
        const doc = tr.state.doc
        value = RangeSet.of(e.value.filter(n => n >= 1 && n <= doc.lines).sort((a, b) => a - b).map(n => badLine.range(doc.line(n).from)))
      }
    }
    return tr.docChanged ? value.map(tr.changes) : value
  },
  provide: f => gutterLineClass.from(f)
})

function complete (ctx: CompletionContext): CompletionResult | null {
  const text = ctx.state.doc.toString()
  const c = contextAt(text, ctx.pos)
  if (c.inKey) {
    if (c.word === '' && !ctx.explicit) return null
    const root = schemaOf(c.kind)
    const options: Completion[] = keysAt(c.kind, c.parent).map(k => ({
      label: k.key,
      type: 'property',
      detail: `${k.required ? 'required · ' : ''}${typeOf(root, k.node)}`,
      info: docOf(c.kind, [...c.parent, k.key]) ?? undefined,
      apply: `${k.key}: `,
      boost: k.required ? 1 : 0
    }))
    return options.length === 0 ? null : { from: c.wordFrom, options, validFor: /^[\w-]*$/ }
  }
  if (c.key === undefined) return null
  const values = valuesAt(c.kind, [...c.parent, c.key])
  if (values.length === 0) return null
  return { from: c.wordFrom, options: values.map(v => ({ label: String(v), type: 'enum' })), validFor: /^[\w./-]*$/ }
}

const hover = hoverTooltip((view, pos) => {
  const c = contextAt(view.state.doc.toString(), pos)
  if (c.key === undefined || pos < c.keyFrom || pos > c.keyTo) return null
  const doc = docOf(c.kind, [...c.parent, c.key])
  if (doc === null && nodeAt(c.kind, [...c.parent, c.key]) === undefined) return null
  return {
    pos: c.keyFrom,
    end: c.keyTo,
    above: true,
    create () {
      const dom = document.createElement('div')
      dom.className = 'cm-schema-doc'
      dom.dataset.testid = 'schema-hover'
      dom.textContent = doc ?? `${c.key}: not in the ${c.kind ?? 'resource'} schema`
      return { dom }
    }
  }
}, { hoverTime: 250 })

/** Offset of a 1-based line and column, clamped to the document. */
function offsetOf (state: EditorState, line: number, column: number | undefined): number {
  const l = state.doc.line(Math.min(Math.max(1, line), state.doc.lines))
  return Math.min(l.to, l.from + Math.max(0, (column ?? 1) - 1))
}

export function createEditor (host: HTMLElement, opts: { doc: string, onChange: (text: string) => void }): EditorHandle {
  let quiet = false
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: opts.doc,
      extensions: [
        lineNumbers(),
        foldGutter(),
        lintGutter(),
        badLines,
        highlightActiveLineGutter(),
        highlightActiveLine(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        yaml(),
        syntaxHighlighting(classHighlighter),
        autocompletion({ override: [complete], icons: false }),
        hover,
        EditorState.tabSize.of(2),
        keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'data-testid': 'yaml-editor', 'aria-label': 'mesh config YAML' }),
        EditorView.updateListener.of(u => { if (u.docChanged && !quiet) opts.onChange(u.state.doc.toString()) })
      ]
    })
  })
  // Automation hook: the editable element answers `value` and `selectionStart` like the textarea it
  // replaced, so scripts and tests read the document without knowing CodeMirror.
  Object.defineProperties(view.contentDOM, {
    value: { get: () => view.state.doc.toString() },
    selectionStart: { get: () => view.state.selection.main.head }
  })
  return {
    setDoc (text) {
      if (text === view.state.doc.toString()) return
      quiet = true
      try { view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }) } finally { quiet = false }
    },
    setProblems (problems) {
      const state = view.state
      const diagnostics: Diagnostic[] = problems.filter(p => p.line !== undefined).map(p => {
        const from = offsetOf(state, p.line!, p.column)
        const to = Math.max(from, state.doc.lineAt(from).to)
        return { from, to, severity: 'error', source: p.resource ?? 'schema', message: `${p.path !== '' ? `${p.path}: ` : ''}${p.reason}` }
      })
      view.dispatch(setDiagnostics(state, diagnostics), { effects: setBadLines.of(problems.map(p => p.line).filter((l): l is number => l !== undefined)) })
    },
    goTo (line, column) {
      const pos = offsetOf(view.state, line, column)
      view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: 'center' }) })
      view.focus()
    },
    destroy () { view.destroy() }
  }
}
