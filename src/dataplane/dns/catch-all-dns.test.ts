// The catch-all responder against a real resolver (c-ares, through node:dns's Resolver).
import assert from 'node:assert/strict'
import { Resolver } from 'node:dns/promises'
import { after, test } from 'node:test'
import { answerQuery, type CatchAllDns, startCatchAllDns } from './catch-all-dns.ts'

let dns: CatchAllDns
const seen: string[] = []
after(() => dns?.close())

test('every A query is answered with the no-route address; AAAA gets no answer; garbage is ignored', async () => {
  dns = await startCatchAllDns({ host: '127.0.0.1', port: 0, address: '198.19.255.254', onQuery: (name, type) => seen.push(`${name}/${type}`) })
  const r = new Resolver({ timeout: 1000, tries: 1 })
  r.setServers([`127.0.0.1:${dns.port}`])
  assert.deepEqual(await r.resolve4('no-such-service.default.svc.cluster.local'), ['198.19.255.254'])
  assert.deepEqual(await r.resolve4('example.com', { ttl: true }), [{ address: '198.19.255.254', ttl: 5 }])
  await assert.rejects(r.resolve6('example.com'), (e: { code?: string }) => e.code === 'ENODATA')
  assert.deepEqual(seen, ['no-such-service.default.svc.cluster.local/1', 'example.com/1', 'example.com/28'])
  assert.equal(answerQuery(Buffer.from('hello'), [1, 2, 3, 4]), null)
  const response = Buffer.alloc(12)
  response.writeUInt16BE(0x8000, 2)
  assert.equal(answerQuery(response, [1, 2, 3, 4]), null, 'responses are not answered (no loops)')
})
