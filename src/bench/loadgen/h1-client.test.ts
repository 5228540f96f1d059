import assert from 'node:assert/strict'
import net from 'node:net'
import { after, test } from 'node:test'
import { H1Connection } from './h1-client.ts'
import { targetFrom } from './target.ts'
import { parseLoadOptions } from './options.ts'

const servers: net.Server[] = []
after(() => { for (const s of servers) { s.close() } })

/** A raw server answering each request with the given chunks (written separately, split on purpose). */
async function rawServer (answer: (n: number) => Array<string | Buffer>): Promise<number> {
  let n = 0
  const server = net.createServer(sock => {
    sock.on('error', () => {})
    sock.on('data', () => {
      const parts = answer(n++)
      let i = 0
      const next = (): void => {
        if (i >= parts.length) return
        const p = parts[i++]
        if (p === 'CLOSE') { sock.end(); return }
        sock.write(p)
        setTimeout(next, 5)
      }
      next()
    })
  })
  servers.push(server)
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  return (server.address() as net.AddressInfo).port
}

/** Send `count` requests over one connection; resolve with the statuses and the close code, if any. */
function exchange (port: number, count: number, method = 'GET'): Promise<{ statuses: number[], closed: string | null }> {
  const t = targetFrom(parseLoadOptions({ url: `http://127.0.0.1:${port}/x`, method }))
  return new Promise((resolve, reject) => {
    const statuses: number[] = []
    const timer = setTimeout(() => reject(new Error(`timed out with ${statuses.length} responses`)), 10_000)
    const conn: H1Connection = new H1Connection(t, {
      onReady: () => conn.send(),
      onResponse: (s) => {
        statuses.push(s)
        if (statuses.length === count) { clearTimeout(timer); conn.destroy(); resolve({ statuses, closed: null }) } else if (conn.isOpen) conn.send()
      },
      onClose: (code) => { clearTimeout(timer); resolve({ statuses, closed: code }) }
    })
  })
}

test('reads Content-Length bodies split across packets, keep-alive', async () => {
  const port = await rawServer(n => ['HTTP/1.1 200 OK\r\nContent-Le', `ngth: 10\r\nX: ${n}\r\n\r\n01234`, '56789'])
  const r = await exchange(port, 3)
  assert.deepEqual(r.statuses, [200, 200, 200])
})

test('reads chunked bodies, chunk sizes and trailers split across packets', async () => {
  const port = await rawServer(() => ['HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r', '\nhello\r\n1', '0\r\n0123456789abcdef\r\n0\r\n', 'X-Trailer: 1\r\n\r\n'])
  const r = await exchange(port, 2)
  assert.deepEqual(r.statuses, [201, 201])
})

test('204 and HEAD responses have no body; 1xx interim responses are skipped', async () => {
  const port = await rawServer(n => n === 0 ? ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'] : ['HTTP/1.1 204 No Content\r\n\r\n'])
  assert.deepEqual((await exchange(port, 2)).statuses, [204, 204])
  const head = await rawServer(() => ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'])
  assert.deepEqual((await exchange(head, 2, 'HEAD')).statuses, [200, 200])
})

test('a close-delimited body completes on close; Connection: close is reported after the response', async () => {
  const port = await rawServer(() => ['HTTP/1.1 200 OK\r\n\r\nbody until close', 'CLOSE'])
  const r = await exchange(port, 2)
  assert.deepEqual(r.statuses, [200])
  assert.equal(r.closed, 'ECLOSED')
  const cc = await rawServer(() => ['HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'])
  const r2 = await exchange(cc, 2)
  assert.deepEqual(r2.statuses, [503])
  assert.equal(r2.closed, 'ECLOSED')
})

test('garbage instead of a status line closes the connection with EPARSE', async () => {
  const port = await rawServer(() => ['SSH-2.0-OpenSSH\r\n\r\n'])
  const r = await exchange(port, 1)
  assert.deepEqual(r.statuses, [])
  assert.equal(r.closed, 'EPARSE')
})
