// Small HTTP helpers of the end-to-end tests (plain node:http: what a user's client does).
import http from 'node:http'

export interface Reply { status: number, headers: http.IncomingHttpHeaders, body: string }

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })

/** GET `url`; resolves with status, headers and body, or rejects on a network error / 15 s timeout. */
export function get (url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent, timeout: 15_000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', c => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', reject)
  })
}

export interface ProductView {
  status: number
  reviewsVersion: string | null
  errors: string[]
  stars: unknown[]
  /** reviews v3: the stars instance that answered its gRPC call, `stars v1 (stars-v1-0)`. */
  ratingsFrom?: string | null
  error?: string
}

/**
 * One product API call through the ingress, reduced to what the tests count: the status, the reviews
 * version that served, the errors the app saw downstream, the ratings of the reviews.
 */
export async function productThroughIngress (ingressUrl: string, headers: Record<string, string> = {}): Promise<ProductView> {
  try {
    const r = await get(`${ingressUrl}/api/v1/products/0`, headers)
    if (r.status !== 200) return { status: r.status, reviewsVersion: null, errors: [`ingress answered ${r.status} ${String(r.headers['x-meshwork-error'] ?? '')}: ${r.body.slice(0, 200)}`], stars: [] }
    const body = JSON.parse(r.body) as { reviewsVersion: string | null, errors: string[], reviews: { rating?: unknown }[] | null, ratingsFrom?: string | null }
    return { status: 200, reviewsVersion: body.reviewsVersion, errors: body.errors, stars: (body.reviews ?? []).map(x => x.rating), ratingsFrom: body.ratingsFrom ?? null }
  } catch (err) {
    return { status: 0, reviewsVersion: null, errors: [`client: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], stars: [] }
  }
}

/** Sum of the samples of `metric` in a Prometheus text page whose labels include every `match` pair. */
export function sumMetric (text: string, metric: string, match: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric + '{') && !line.startsWith(metric + ' ')) continue
    const labels = /\{(.*)\}/.exec(line)?.[1] ?? ''
    if (!Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) total += value
  }
  return total
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function waitUntil (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, stepMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, stepMs))
  }
}

export function closeClients (): void {
  agent.destroy()
}
