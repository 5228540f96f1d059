/**
 * Minimal parser of the Prometheus text exposition format (0.0.4): enough to read the golden metrics
 * that Meshwork proxies export. Comments and malformed lines are skipped, never thrown on.
 *
 * @example
 * parsePromText('meshwork_requests_total{code="200"} 3\n') // [{ name: 'meshwork_requests_total', labels: { code: '200' }, value: 3 }]
 */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export function parsePromText (text: string): Sample[] {
  const out: Sample[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) continue
    const s = parseLine(line)
    if (s !== null) out.push(s)
  }
  return out
}

function parseLine (line: string): Sample | null {
  const brace = line.indexOf('{')
  const space = line.indexOf(' ')
  let name: string
  const labels: Record<string, string> = {}
  let rest: string
  if (brace !== -1 && (space === -1 || brace < space)) {
    name = line.slice(0, brace)
    let i = brace + 1
    while (i < line.length && line[i] !== '}') {
      const eq = line.indexOf('=', i)
      if (eq === -1 || line[eq + 1] !== '"') return null
      const key = line.slice(i, eq).trim()
      let j = eq + 2
      let value = ''
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) {
          const c = line[j + 1]
          value += c === 'n' ? '\n' : c
          j += 2
        } else {
          value += line[j++]
        }
      }
      if (j >= line.length) return null
      labels[key] = value
      i = j + 1
      if (line[i] === ',') i++
    }
    if (i >= line.length) return null
    rest = line.slice(i + 1).trim()
  } else {
    if (space === -1) return null
    name = line.slice(0, space)
    rest = line.slice(space + 1).trim()
  }
  const valueText = rest.split(' ')[0]
  const value = valueText === '+Inf' ? Number.POSITIVE_INFINITY : valueText === '-Inf' ? Number.NEGATIVE_INFINITY : Number(valueText)
  if (Number.isNaN(value) && valueText !== 'NaN') return null
  return { name, labels, value }
}

/**
 * Quantile of a Prometheus histogram from cumulative bucket counts (as `histogram_quantile` does:
 * linear interpolation inside the bucket). Returns null when there are no observations.
 */
export function histogramQuantile (q: number, buckets: Array<{ le: number, count: number }>): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  if (sorted.length === 0) return null
  const total = sorted[sorted.length - 1].count
  if (total <= 0) return null
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return prevLe
      const inBucket = b.count - prevCount
      if (inBucket <= 0) return b.le
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / inBucket)
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}
