import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { test } from 'node:test'
import { spliceTunnel } from './tunnel.ts'

/** A connected socket pair over loopback: [client end, server end]. */
async function socketPair (server: Server): Promise<[Socket, Socket]> {
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  await once(client, 'connect')
  const [serverSide] = await accepted
  return [client, serverSide]
}

test('spliceTunnel: bytes pass both ways, traffic keeps it open, an idle tunnel is closed on both sides', async (t) => {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const opened: Socket[] = []
  t.after(() => { for (const s of opened) s.destroy(); server.close() })
  const [client, down] = await socketPair(server)
  const [up, app] = await socketPair(server)
  opened.push(client, down, up, app)

  let ended: [number, number] | null = null
  spliceTunnel(down, up, (bytesIn, bytesOut) => { ended = [bytesIn, bytesOut] }, 300)

  // traffic every 100 ms for 900 ms (three idle timeouts): the tunnel stays up
  for (let i = 0; i < 9; i++) {
    client.write('ping')
    const [got] = await once(app, 'data') as [Buffer]
    assert.equal(got.toString(), 'ping')
    app.write('pong')
    const [back] = await once(client, 'data') as [Buffer]
    assert.equal(back.toString(), 'pong')
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  assert.equal(ended, null)

  // then silence: both outer ends see the close, the tunnel reports its bytes once
  await Promise.all([once(client, 'close'), once(app, 'close')])
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(ended, [36, 36])
})
