/**
 * A small Prometheus metrics registry: counters, gauges and histograms with label names fixed at creation.
 * `metric.labels(...values)` returns a cached child; keep the child (e.g. in a route's compiled entry) and call
 * `inc()` / `observe()` on it: the hot path then builds no strings and looks nothing up.
 * `registry.render()` produces the text exposition format 0.0.4.
 *
 * ```
 *  Counter ──labels('GET','200')──► child { value }      (nested Maps by label value: no key strings)
 *  render(): # HELP / # TYPE, then one line per child, label text precomputed when the child was made
 * ```
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

type Kind = 'counter' | 'gauge' | 'histogram'

/** Label tree: one Map level per label; the leaf level holds children. */
type Tree<C> = Map<string, Tree<C> | C>

abstract class Metric<C> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly kind: Kind
  protected readonly tree: Tree<C> = new Map()
  /** Children in creation order, for rendering. */
  protected readonly children: Array<{ labelText: string, values: readonly string[], child: C }> = []
  #noLabels: C | undefined

  constructor (name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME_RE.test(name)) throw new TypeError(`invalid metric name: ${name}`)
    for (const l of labelNames) {
      if (!LABEL_NAME_RE.test(l) || l.startsWith('__')) throw new TypeError(`invalid label name: ${l}`)
    }
    this.name = name
    this.help = help
    this.labelNames = Object.freeze([...labelNames])
  }

  protected abstract makeChild (): C

  /**
   * The child for these label values (created on first use). Keep it: calling `labels` per request is a few
   * Map lookups, keeping the child is a field read.
   * @example const ok = requests.labels('GET', '200'); ok.inc()
   */
  labels (...values: string[]): C {
    const n = this.labelNames.length
    if (values.length !== n) throw new TypeError(`${this.name} takes ${n} label values, got ${values.length}`)
    if (n === 0) return this.#default()
    let node: Tree<C> = this.tree
    for (let i = 0; i < n - 1; i++) {
      let next = node.get(values[i]) as Tree<C> | undefined
      if (next === undefined) { next = new Map(); node.set(values[i], next) }
      node = next
    }
    let child = node.get(values[n - 1]) as C | undefined
    if (child === undefined) {
      child = this.makeChild()
      node.set(values[n - 1], child)
      const frozen = Object.freeze([...values])
      this.children.push({ labelText: labelText(this.labelNames, frozen), values: frozen, child })
    }
    return child
  }

  /** Forgets the child for these values (e.g. an endpoint that left). */
  remove (...values: string[]): void {
    const n = this.labelNames.length
    if (n === 0 || values.length !== n) return
    let node: Tree<C> | undefined = this.tree
    for (let i = 0; i < n - 1 && node !== undefined; i++) node = node.get(values[i]) as Tree<C> | undefined
    if (node === undefined) return
    const child = node.get(values[n - 1]) as C | undefined
    if (child === undefined) return
    node.delete(values[n - 1])
    const idx = this.children.findIndex(c => c.child === child)
    if (idx >= 0) this.children.splice(idx, 1)
  }

  /** Drops every child. */
  reset (): void {
    this.tree.clear()
    this.children.length = 0
    this.#noLabels = undefined
  }

  /** Number of label combinations in use (cardinality). */
  get size (): number { return this.children.length }

  protected defaultChild (): C { return this.#default() }

  #default (): C {
    if (this.#noLabels === undefined) {
      this.#noLabels = this.makeChild()
      this.children.push({ labelText: '', values: [], child: this.#noLabels })
    }
    return this.#noLabels
  }

  /** Appends the exposition lines of this metric. */
  render (out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.kind}\n`)
    for (let i = 0; i < this.children.length; i++) this.renderChild(out, this.children[i].labelText, this.children[i].child)
  }

  protected abstract renderChild (out: string[], labelText: string, child: C): void
}

export class CounterChild {
  value = 0
  /** Adds `n` (default 1); negative values are ignored (counters only go up). */
  inc (n = 1): void { if (n > 0) this.value += n }
}

export class Counter extends Metric<CounterChild> {
  readonly kind = 'counter'
  protected makeChild (): CounterChild { return new CounterChild() }
  /** For a counter without labels. */
  inc (n = 1): void { this.defaultChild().inc(n) }
  protected renderChild (out: string[], lt: string, c: CounterChild): void {
    out.push(`${this.name}${lt === '' ? '' : `{${lt}}`} ${formatValue(c.value)}\n`)
  }
}

export class GaugeChild {
  value = 0
  set (v: number): void { this.value = v }
  inc (n = 1): void { this.value += n }
  dec (n = 1): void { this.value -= n }
}

export class Gauge extends Metric<GaugeChild> {
  readonly kind = 'gauge'
  protected makeChild (): GaugeChild { return new GaugeChild() }
  set (v: number): void { this.defaultChild().set(v) }
  inc (n = 1): void { this.defaultChild().inc(n) }
  dec (n = 1): void { this.defaultChild().dec(n) }
  protected renderChild (out: string[], lt: string, c: GaugeChild): void {
    out.push(`${this.name}${lt === '' ? '' : `{${lt}}`} ${formatValue(c.value)}\n`)
  }
}

export class HistogramChild {
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  readonly #bounds: Float64Array
  constructor (bounds: Float64Array) {
    this.#bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  /** Records one value (seconds for durations). */
  observe (v: number): void {
    // Perf: ~15 ascending bounds; a linear scan beats binary search at this size and most latencies land early.
    const b = this.#bounds
    let i = 0
    while (i < b.length && v > b[i]) i++
    this.counts[i]++
    this.sum += v
    this.count++
  }
}

/** Default latency buckets in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

export class Histogram extends Metric<HistogramChild> {
  readonly kind = 'histogram'
  readonly buckets: Float64Array
  readonly #leText: string[]

  constructor (name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    if (labelNames.includes('le')) throw new TypeError('a histogram cannot have a label named "le"')
    super(name, help, labelNames)
    const sorted = [...new Set(buckets.filter(b => Number.isFinite(b)))].sort((a, b) => a - b)
    if (sorted.length === 0) throw new TypeError(`${name}: at least one finite bucket is needed`)
    this.buckets = Float64Array.from(sorted)
    this.#leText = [...sorted.map(b => formatValue(b)), '+Inf']
  }

  protected makeChild (): HistogramChild { return new HistogramChild(this.buckets) }
  observe (v: number): void { this.defaultChild().observe(v) }

  protected renderChild (out: string[], lt: string, c: HistogramChild): void {
    const sep = lt === '' ? '' : ','
    let cum = 0
    for (let i = 0; i < c.counts.length; i++) {
      cum += c.counts[i]
      out.push(`${this.name}_bucket{${lt}${sep}le="${this.#leText[i]}"} ${formatValue(cum)}\n`)
    }
    const braces = lt === '' ? '' : `{${lt}}`
    out.push(`${this.name}_sum${braces} ${formatValue(c.sum)}\n${this.name}_count${braces} ${formatValue(c.count)}\n`)
  }
}

type AnyMetric = Counter | Gauge | Histogram

/**
 * Holds metrics and renders them. Collectors registered with `onScrape` run before each render (process metrics).
 * @example
 * const registry = new Registry()
 * const hits = registry.counter('app_hits_total', 'Hits.', ['path'])
 * hits.labels('/').inc()
 * res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE); res.end(registry.render())
 */
export class Registry {
  readonly #metrics = new Map<string, AnyMetric>()
  readonly #collectors: Array<() => void> = []

  counter (name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames))
  }

  gauge (name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames))
  }

  histogram (name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets))
  }

  get (name: string): AnyMetric | undefined { return this.#metrics.get(name) }

  /** Runs `fn` before each render, to refresh values that are read rather than counted. */
  onScrape (fn: () => void): void { this.#collectors.push(fn) }

  /** Prometheus text exposition format 0.0.4. */
  render (): string {
    for (let i = 0; i < this.#collectors.length; i++) this.#collectors[i]()
    const out: string[] = []
    for (const m of this.#metrics.values()) m.render(out)
    return out.join('')
  }

  #add<M extends AnyMetric> (m: M): M {
    if (this.#metrics.has(m.name)) throw new TypeError(`metric ${m.name} is already registered`)
    this.#metrics.set(m.name, m)
    return m
  }
}

function labelText (names: readonly string[], values: readonly string[]): string {
  let s = ''
  for (let i = 0; i < names.length; i++) s += `${i === 0 ? '' : ','}${names[i]}="${escapeLabelValue(values[i])}"`
  return s
}

/** Label values: backslash, double quote and line feed are escaped (exposition format 0.0.4). */
export function escapeLabelValue (v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v
}

/** HELP text: backslash and line feed are escaped. */
export function escapeHelp (v: string): string {
  return /[\\\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') : v
}

export function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}
