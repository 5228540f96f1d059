import { request } from 'node:http'
import { RuntimeStartError } from '../errors.ts'

export interface WaitOptions {
  /** Give up after this long (default 30 s: a loaded 2-core machine starts Node processes slowly). */
  timeoutMs?: number
  intervalMs?: number
  /** Stop waiting early, e.g. when the process exited. */
  signal?: AbortSignal
}

/**
 * Poll `url` with GET until it answers 200. Rejects with RuntimeStartError after the timeout or when
 * `signal` aborts.
 *
 * @example
 * await waitForHttpOk(`http://127.0.0.1:${adminPort}/ready`, { timeoutMs: 20_000 })
 */
export async function waitForHttpOk (url: string, opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  const intervalMs = opts.intervalMs ?? 50
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  for (;;) {
    if (opts.signal?.aborted) throw new RuntimeStartError(`stopped waiting for ${url}: ${String(opts.signal.reason ?? 'aborted')}`)
    const status = await probe(url, Math.min(2000, timeoutMs))
    if (status === 200) return
    last = typeof status === 'number' ? `status ${status}` : status
    if (Date.now() >= deadline) throw new RuntimeStartError(`${url} not ready after ${timeoutMs} ms (last: ${last})`)
    await sleep(intervalMs, opts.signal)
  }
}

/** Status code of one GET, or the error code as a string. */
export function probe (url: string, timeoutMs = 2000): Promise<number | string> {
  return new Promise(resolve => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, res => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
    req.end()
  })
}

function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const t = setTimeout(done, ms)
    function done (): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
