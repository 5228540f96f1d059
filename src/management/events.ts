import type { ServerResponse } from 'node:http'

/**
 * Server-sent events hub for the UI. Each client gets a bounded queue: a client that cannot keep up is
 * dropped (it reconnects and resyncs from the REST API), so one slow tab never grows our memory.
 */
export class EventHub {
  #clients = new Set<{ res: ServerResponse, pending: number }>()
  #nextId = 1
  #maxPendingBytes: number

  constructor (opts: { maxPendingBytes?: number } = {}) {
    this.#maxPendingBytes = opts.maxPendingBytes ?? 1 << 20
  }

  get size (): number { return this.#clients.size }

  attach (res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no'
    })
    res.write('retry: 1000\n\n')
    const client = { res, pending: 0 }
    this.#clients.add(client)
    const ping = setInterval(() => { res.write(': ping\n\n') }, 15_000)
    ping.unref()
    res.on('close', () => {
      clearInterval(ping)
      this.#clients.delete(client)
    })
  }

  publish (type: string, data: unknown): void {
    if (this.#clients.size === 0) return
    const frame = `id: ${this.#nextId++}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`
    for (const c of this.#clients) {
      if (c.res.writableLength > this.#maxPendingBytes) {
        c.res.destroy()
        this.#clients.delete(c)
        continue
      }
      c.res.write(frame)
    }
  }

  closeAll (): void {
    for (const c of this.#clients) c.res.end()
    this.#clients.clear()
  }
}
