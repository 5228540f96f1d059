// Flow control end to end through a forwarder built on both roles of the codec (what the proxy does): a fast
// writer (node:http2 client uploading 50 MB) → our server role → our client role → a slow reader (node:http2
// server that pauses its stream). The bytes held per stream in the forwarder (received and queued to send,
// not yet on the upstream socket) must stay within initialStreamWindow + streamHighWaterMark + one frame.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import http2 from 'node:http2'
import net, { type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { H2ClientConnection } from './client.ts'
import { H2ServerConnection } from './server.ts'
import type { H2Stream } from './stream.ts'
import { DEFAULT_OPTIONS } from './types.ts'

const TOTAL = 50 * 1024 * 1024
const FRAME = 16_384

test('a slow reader pushes back on a 50 MB writer through both roles: bytes held per stream stay ≤ window + high-water mark + one frame', { timeout: 120_000 }, async () => {
  // the slow reader: reads 256 KiB, then pauses 4 ms
  let readerHash = ''
  let readerBytes = 0
  const upstream = http2.createServer()
  upstream.on('stream', stream => {
    const h = createHash('sha256')
    let sinceBreak = 0
    stream.on('data', (d: Buffer) => {
      h.update(d)
      readerBytes += d.length
      sinceBreak += d.length
      if (sinceBreak >= 256 * 1024) { sinceBreak = 0; stream.pause(); setTimeout(() => stream.resume(), 4) }
    })
    stream.on('end', () => { readerHash = h.digest('hex'); stream.respond({ ':status': 200 }); stream.end(String(readerBytes)) })
  })
  await new Promise<void>(resolve => upstream.listen(0, '127.0.0.1', resolve))

  // the forwarder on our codec
  const up = new H2ClientConnection()
  up.attach(net.connect({ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port, onread: up.onread } as net.NetConnectOpts))
  let maxHeld = 0
  let samples = 0
  const streams: { ds: H2Stream, us: H2Stream, owed: () => number }[] = []
  const forwarder = net.createServer(socket => {
    new H2ServerConnection({
      onStream (ds, head) {
        let owed = 0 // received from downstream, not yet given back (the upstream write said "full")
        const us = up.request({ ...head, headers: head.headers }, false, {
          onResponse (_u, status, headers, end) { ds.respond(status, headers, end) },
          onData (u, d) { ds.write(d); u.consumed(d.length) },
          onEnd (_u, t) { ds.end(t) },
          onReset () { ds.reset() },
          onDrain () { const n = owed; owed = 0; ds.consumed(n) }
        })
        ds.handler = {
          onData (s, d) { if (us.write(d)) s.consumed(d.length); else owed += d.length },
          onEnd (_s, t) { us.end(t) },
          onReset () { us.reset() }
        }
        streams.push({ ds, us, owed: () => owed })
      }
    }).attach(socket)
  })
  await new Promise<void>(resolve => forwarder.listen(0, '127.0.0.1', resolve))
  const sampler = setInterval(() => {
    for (const s of streams) {
      // everything the forwarder received is written on at once: what it holds is the upstream stream's queue
      // (the owed bytes are part of it, not extra)
      const held = s.us.bufferedAmount
      if (held > maxHeld) maxHeld = held
      samples++
    }
  }, 2)

  // the fast writer: 50 MB as fast as node:http2 lets it
  const client = http2.connect(`http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`)
  const sent = createHash('sha256')
  const reply = await new Promise<string>((resolve, reject) => {
    const req = client.request({ ':method': 'POST', ':path': '/upload' })
    let body = ''
    req.on('data', d => { body += d })
    req.on('end', () => resolve(body))
    req.on('error', reject)
    const chunk = Buffer.alloc(64 * 1024)
    let left = TOTAL
    const pump = (): void => {
      while (left > 0) {
        chunk.fill(left & 0xff)
        sent.update(chunk)
        left -= chunk.length
        if (!req.write(Buffer.from(chunk))) { req.once('drain', pump); return }
      }
      req.end()
    }
    pump()
  })
  clearInterval(sampler)
  client.close()
  up.shutdown()
  forwarder.close()
  upstream.close()

  assert.equal(reply, String(TOTAL))
  assert.equal(readerHash, sent.digest('hex'))
  const bound = DEFAULT_OPTIONS.initialStreamWindow + DEFAULT_OPTIONS.streamHighWaterMark + FRAME
  assert.ok(samples > 100, `sampled ${samples} times`)
  assert.ok(maxHeld > 0, 'the slow reader did push back')
  assert.ok(maxHeld <= bound, `held ${maxHeld} bytes > bound ${bound}`)
})
