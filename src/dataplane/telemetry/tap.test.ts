import assert from 'node:assert/strict'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { createTapHandler, type TapEvent, TapHub } from './tap.ts'

const ev = (destination: string, i: number, extra: Partial<TapEvent> = {}): TapEvent => ({
  time: 1_700_000_000_000 + i, direction: 'inbound', source: 'spiffe://cluster.local/ns/default/sa/productpage', destination,
  method: 'GET', authority: destination, path: `/${i}`, status: 200, duration_ms: 1, ...extra
})

test('hasSubscribers follows subscribe/unsubscribe; events reach only matching subscribers', () => {
  const hub = new TapHub()
  assert.equal(hub.hasSubscribers, false)
  const got: string[] = []
  const gotAll: string[] = []
  const a = hub.subscribe({ service: 'reviews' }, { write: l => { got.push(l); return true } })
  const b = hub.subscribe({}, { write: l => { gotAll.push(l); return true } })
  assert.equal(hub.hasSubscribers, true)
  hub.publish(ev('reviews', 1))
  hub.publish(ev('ratings', 2))
  hub.publish(ev('details', 3, { source: 'reviews' }))
  hub.publish(ev('details', 4, { source: 'spiffe://cluster.local/ns/default/sa/reviews' }))
  hub.publish(ev('details', 5, { source: 'spiffe://cluster.local/ns/default/sa/notreviews' }))
  assert.deepEqual(got.map(l => JSON.parse(l).path), ['/1', '/3', '/4'])
  assert.equal(gotAll.length, 5)
  a.unsubscribe()
  assert.equal(hub.hasSubscribers, true)
  b.unsubscribe()
  assert.equal(hub.hasSubscribers, false)
  hub.publish(ev('reviews', 6))
  assert.equal(got.length, 3)
})

test('direction filter', () => {
  const hub = new TapHub()
  const got: string[] = []
  hub.subscribe({ direction: 'outbound' }, { write: l => { got.push(l); return true } })
  hub.publish(ev('reviews', 1))
  hub.publish(ev('reviews', 2, { direction: 'outbound' }))
  assert.deepEqual(got.map(l => JSON.parse(l).path), ['/2'])
})

test('a slow subscriber buffers up to its bound, then drops and counts; resume delivers in order', () => {
  const hub = new TapHub()
  const got: string[] = []
  let full = false
  const sub = hub.subscribe({}, { write: l => { got.push(l); return !full } }, { bufferSize: 4 })
  hub.publish(ev('a', 0))
  full = true
  hub.publish(ev('a', 1)) // delivered, sink now reports full
  for (let i = 2; i < 10; i++) hub.publish(ev('a', i))
  assert.equal(got.length, 2)
  assert.equal(sub.dropped, 4)
  full = false
  sub.resume()
  assert.deepEqual(got.map(l => JSON.parse(l).path), ['/0', '/1', '/2', '/3', '/4', '/5'])
})

test('limit ends the subscription and calls end', () => {
  const hub = new TapHub()
  let ended = 0
  const got: string[] = []
  hub.subscribe({}, { write: l => { got.push(l); return true }, end: () => { ended++ } }, { limit: 2 })
  for (let i = 0; i < 5; i++) hub.publish(ev('a', i))
  assert.equal(got.length, 2)
  assert.equal(ended, 1)
  assert.equal(hub.hasSubscribers, false)
})

test('HTTP /tap streams NDJSON for the service and ends after limit; client disconnect unsubscribes', async (t) => {
  const hub = new TapHub()
  const handler = createTapHandler(hub)
  const server = http.createServer(handler)
  t.after(() => { server.closeAllConnections(); server.close() })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port

  const body = new Promise<{ status: number, type: string | undefined, text: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/tap?service=reviews&limit=3' }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', d => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text }))
    }).on('error', reject)
  })
  while (!hub.hasSubscribers) await new Promise(r => setTimeout(r, 5))
  for (let i = 0; i < 5; i++) { hub.publish(ev('ratings', i)); hub.publish(ev('reviews', i)) }
  const r = await body
  assert.equal(r.status, 200)
  assert.equal(r.type, 'application/x-ndjson')
  const lines = r.text.trim().split('\n').map(l => JSON.parse(l))
  assert.deepEqual(lines.map(l => `${l.destination}${l.path}`), ['reviews/0', 'reviews/1', 'reviews/2'])
  assert.equal(hub.hasSubscribers, false)

  // A client that goes away unsubscribes.
  const req = http.get({ host: '127.0.0.1', port, path: '/tap' })
  req.on('error', () => {})
  while (!hub.hasSubscribers) await new Promise(r => setTimeout(r, 5))
  req.destroy()
  const deadline = Date.now() + 20_000
  while (hub.hasSubscribers && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
  assert.equal(hub.hasSubscribers, false)

  const bad = await new Promise<{ status: number, code: string | string[] | undefined }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/tap?limit=0' }, res => { res.resume(); resolve({ status: res.statusCode ?? 0, code: res.headers['x-meshwork-error'] }) }).on('error', reject)
  })
  assert.deepEqual(bad, { status: 400, code: 'MESH_ERR_BAD_REQUEST' })
})
