import assert from 'node:assert/strict'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { SocketReader } from './socket-reader.ts'

// The server writes what the test asks for, one message per request line, so each read is one message.
let server: Server
let port: number
const serverSockets = new Set<Socket>()

before(async () => {
  server = createServer(s => {
    serverSockets.add(s)
    s.on('close', () => serverSockets.delete(s))
    s.on('data', d => { for (const line of d.toString().split('\n')) if (line !== '') s.write(line) })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

after(async () => {
  for (const s of serverSockets) s.destroy()
  await new Promise(resolve => server.close(resolve))
})

/** A client read through `reader`; `ask(msg)` makes the server send `msg` and resolves with the next chunk. */
async function open (reader: SocketReader, onChunk: (chunk: Buffer) => void): Promise<{ socket: Socket, ask (msg: string): Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port, onread: reader.onread })
  let waiting: (() => void) | null = null
  reader.attach(socket, chunk => { onChunk(chunk); const w = waiting; waiting = null; w?.() })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  return {
    socket,
    ask: msg => new Promise<void>(resolve => { waiting = resolve; socket.write(msg + '\n') })
  }
}

test('reads into one buffer again and again: a chunk not kept is overwritten by the next read', async () => {
  const reader = new SocketReader()
  const chunks: Buffer[] = []
  const c = await open(reader, chunk => chunks.push(chunk))
  try {
    await c.ask('first')
    await c.ask('XXXXX')
    assert.equal(chunks.length, 2)
    assert.equal(chunks[1].toString(), 'XXXXX')
    assert.equal(chunks[0].buffer, chunks[1].buffer) // same memory
    assert.equal(chunks[0].toString(), 'XXXXX') // the first chunk's bytes are gone
  } finally {
    c.socket.destroy()
  }
})

test('a chunk kept with keep() stays intact: the next read goes into a fresh buffer', async () => {
  const reader = new SocketReader()
  const chunks: Buffer[] = []
  const c = await open(reader, chunk => { chunks.push(chunk); if (chunks.length === 1) reader.keep() })
  try {
    await c.ask('first')
    await c.ask('XXXXX')
    await c.ask('third')
    assert.equal(chunks[0].toString(), 'first')
    assert.notEqual(chunks[0].buffer, chunks[1].buffer)
    // not kept again: the third read reuses the second buffer
    assert.equal(chunks[1].buffer, chunks[2].buffer)
  } finally {
    c.socket.destroy()
  }
})

test('passThrough() hands later chunks to the socket\'s Readable side (data events, pipe)', async () => {
  const reader = new SocketReader()
  const viaReader: string[] = []
  const c = await open(reader, chunk => viaReader.push(chunk.toString()))
  try {
    await c.ask('before')
    reader.passThrough()
    const got = new Promise<string>(resolve => c.socket.once('data', (d: Buffer) => resolve(d.toString())))
    c.socket.write('after\n')
    assert.equal(await got, 'after')
    assert.deepEqual(viaReader, ['before'])
  } finally {
    c.socket.destroy()
  }
})

test('bytes before a consumer is attached destroy the socket (an HTTP/1.1 upstream never speaks first)', async () => {
  const reader = new SocketReader()
  const socket = connect({ host: '127.0.0.1', port, onread: reader.onread })
  reader.attach(socket, null)
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  socket.write('hello\n')
  await closed
  assert.equal(socket.destroyed, true)
})
