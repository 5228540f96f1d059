// A hostile or broken peer on a raw socket against our server role: every violation ends in the RFC 9113
// error it calls for (GOAWAY for connection errors, RST_STREAM for stream errors), floods in GOAWAY
// ENHANCE_YOUR_CALM, and the server keeps serving other connections.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  COMPRESSION_ERROR, ENHANCE_YOUR_CALM, FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FLOW_CONTROL_ERROR,
  FRAME_CONTINUATION, FRAME_DATA, FRAME_GOAWAY, FRAME_HEADERS, FRAME_PING, FRAME_PRIORITY, FRAME_PUSH_PROMISE,
  FRAME_RST_STREAM, FRAME_SETTINGS, FRAME_SIZE_ERROR, FRAME_WINDOW_UPDATE, PREFACE, PROTOCOL_ERROR, REFUSED_STREAM,
  STREAM_CLOSED, CANCEL, INTERNAL_ERROR
} from './constants.ts'
import { type EchoServer, parseFrames, RawFrames, startEchoServer } from './testing.ts'
import { DEFAULT_OPTIONS } from './types.ts'

let srv: EchoServer
before(async () => { srv = await startEchoServer({ options: { maxConcurrentStreams: 100, maxHeaderListSize: 8192, resetWindowMs: 60_000 } }) })
after(() => srv.close())

const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x']

/** Send `bytes` after a valid preface + SETTINGS (+ ACK), collect what the server answers until it closes or `waitMs`. */
async function exchange (build: (f: RawFrames) => void, waitMs = 400): Promise<{ frames: ReturnType<typeof parseFrames>, closed: boolean }> {
  const f = new RawFrames()
  f.frame(FRAME_SETTINGS, 0, 0).frame(FRAME_SETTINGS, FLAG_ACK, 0)
  build(f)
  const socket = net.connect(srv.port, '127.0.0.1')
  const got: Buffer[] = []
  socket.on('data', d => got.push(d))
  socket.on('error', () => {})
  const closed = new Promise<boolean>(resolve => {
    const t = setTimeout(() => resolve(false), waitMs)
    socket.on('close', () => { clearTimeout(t); resolve(true) })
  })
  socket.write(Buffer.concat([PREFACE, f.bytes()]))
  const wasClosed = await closed
  socket.destroy()
  return { frames: parseFrames(Buffer.concat(got)), closed: wasClosed }
}

function goaway (frames: ReturnType<typeof parseFrames>): number | null {
  const g = frames.find(fr => fr.type === FRAME_GOAWAY)
  return g === undefined ? null : g.payload.readUInt32BE(4)
}
function rst (frames: ReturnType<typeof parseFrames>, id: number): number | null {
  const r = frames.find(fr => fr.type === FRAME_RST_STREAM && fr.id === id)
  return r === undefined ? null : r.payload.readUInt32BE(0)
}
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

describe('connection errors → GOAWAY with the right code', () => {
  test('a bad preface closes with PROTOCOL_ERROR', async () => {
    const socket = net.connect(srv.port, '127.0.0.1')
    const got: Buffer[] = []
    socket.on('data', d => got.push(d))
    await new Promise(resolve => { socket.on('close', resolve); socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n') })
    assert.equal(goaway(parseFrames(Buffer.concat(got))), PROTOCOL_ERROR)
  })
  const cases: [string, (f: RawFrames) => void, number][] = [
    ['HEADERS on stream 0', f => { f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 0, f.block(GET)) }, PROTOCOL_ERROR],
    ['an even (server-initiated) stream id', f => { f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 2, f.block(GET)) }, PROTOCOL_ERROR],
    ['DATA on an idle stream', f => { f.frame(FRAME_DATA, 0, 7, [1, 2, 3]) }, PROTOCOL_ERROR],
    ['a frame over SETTINGS_MAX_FRAME_SIZE', f => { f.frame(FRAME_DATA, 0, 1, Buffer.alloc(16_385)) }, FRAME_SIZE_ERROR],
    ['PING of 7 bytes', f => { f.frame(FRAME_PING, 0, 0, [1, 2, 3, 4, 5, 6, 7]) }, FRAME_SIZE_ERROR],
    ['SETTINGS of 5 bytes', f => { f.frame(FRAME_SETTINGS, 0, 0, [0, 4, 0, 0, 1]) }, FRAME_SIZE_ERROR],
    ['SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1', f => { f.frame(FRAME_SETTINGS, 0, 0, [0, 4, ...u32(0x80000000)]) }, FLOW_CONTROL_ERROR],
    ['SETTINGS_MAX_FRAME_SIZE under 16384', f => { f.frame(FRAME_SETTINGS, 0, 0, [0, 5, ...u32(100)]) }, PROTOCOL_ERROR],
    ['SETTINGS_ENABLE_PUSH 2', f => { f.frame(FRAME_SETTINGS, 0, 0, [0, 2, ...u32(2)]) }, PROTOCOL_ERROR],
    ['WINDOW_UPDATE overflowing the connection window', f => { f.frame(FRAME_WINDOW_UPDATE, 0, 0, u32(0x7fffffff)) }, FLOW_CONTROL_ERROR],
    ['WINDOW_UPDATE of 0 on the connection', f => { f.frame(FRAME_WINDOW_UPDATE, 0, 0, u32(0)) }, PROTOCOL_ERROR],
    ['PUSH_PROMISE from a client', f => { f.frame(FRAME_PUSH_PROMISE, FLAG_END_HEADERS, 1, [0, 0, 0, 2]) }, PROTOCOL_ERROR],
    ['CONTINUATION without HEADERS', f => { f.frame(FRAME_CONTINUATION, FLAG_END_HEADERS, 1, f.block(GET)) }, PROTOCOL_ERROR],
    ['a frame between HEADERS and its CONTINUATION', f => { f.frame(FRAME_HEADERS, 0, 1, f.block(GET)).frame(FRAME_PING, 0, 0, Buffer.alloc(8)) }, PROTOCOL_ERROR],
    ['an HPACK index beyond the table', f => { f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, Buffer.from([0xff, 0x7f])) }, COMPRESSION_ERROR],
    ['a stream id lower than one already used', f => {
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 5, f.block(GET)).frame(FRAME_HEADERS, FLAG_END_HEADERS, 3, f.block(GET))
    }, STREAM_CLOSED],
    ['DATA padding as long as the frame', f => { f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, f.block(GET)).frame(FRAME_DATA, FLAG_PADDED, 1, [4, 0, 0, 0]) }, PROTOCOL_ERROR],
    ['DATA beyond the connection window', f => {
      // streams fill their windows (together: the connection window), then one byte more on the next one
      const hold = [':method', 'POST', ':scheme', 'http', ':path', '/no-consume', ':authority', 'x']
      const frame = Buffer.alloc(16_384)
      const streams = DEFAULT_OPTIONS.connectionWindow / DEFAULT_OPTIONS.initialStreamWindow
      const last = 2 * streams + 1
      for (let id = 1; id <= last; id += 2) {
        f.frame(FRAME_HEADERS, FLAG_END_HEADERS, id, f.block(hold))
        if (id < last) for (let i = 0; i < DEFAULT_OPTIONS.initialStreamWindow / frame.length; i++) f.frame(FRAME_DATA, 0, id, frame)
      }
      f.frame(FRAME_DATA, 0, last, [1])
    }, FLOW_CONTROL_ERROR]
  ]
  for (const [name, build, code] of cases) {
    test(`${name} → GOAWAY ${code}`, async () => {
      const r = await exchange(build)
      assert.equal(goaway(r.frames), code)
      assert.equal(r.closed, true)
    })
  }
})

describe('stream errors → RST_STREAM, the connection lives on', () => {
  const cases: [string, string[], number][] = [
    ['an upper-case field name', [...GET, 'X-Upper', '1'], PROTOCOL_ERROR],
    ['a connection-specific field', [...GET, 'connection', 'keep-alive'], PROTOCOL_ERROR],
    ['te other than trailers', [...GET, 'te', 'gzip'], PROTOCOL_ERROR],
    ['no :path', [':method', 'GET', ':scheme', 'http', ':authority', 'x'], PROTOCOL_ERROR],
    ['a duplicate :method', [':method', 'GET', ...GET], PROTOCOL_ERROR],
    ['a pseudo-header after a regular field', [':method', 'GET', ':scheme', 'http', 'x-a', '1', ':path', '/'], PROTOCOL_ERROR],
    ['a response pseudo-header in a request', [...GET, ':status', '200'], PROTOCOL_ERROR]
  ]
  for (const [name, headers, code] of cases) {
    test(`${name} → RST_STREAM ${code}; the next stream is served`, async () => {
      const r = await exchange(f => {
        f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, f.block(headers))
        f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, f.block(GET))
      })
      assert.equal(rst(r.frames, 1), code)
      assert.ok(r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 3), 'stream 3 answered')
      assert.equal(goaway(r.frames), null)
    })
  }
  test('a handler that throws (in onStream, in onEnd) → RST_STREAM INTERNAL_ERROR for that stream only', async () => {
    const r = await exchange(f => {
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, f.block([':method', 'GET', ':scheme', 'http', ':path', '/throw-on-stream', ':authority', 'x']))
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, f.block([':method', 'GET', ':scheme', 'http', ':path', '/throw-on-end', ':authority', 'x']))
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 5, f.block(GET))
    })
    assert.equal(rst(r.frames, 1), INTERNAL_ERROR)
    assert.equal(rst(r.frames, 3), INTERNAL_ERROR)
    assert.ok(r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 5), 'stream 5 answered')
    assert.equal(goaway(r.frames), null)
  })
  test('a body longer than its content-length → RST_STREAM PROTOCOL_ERROR', async () => {
    const r = await exchange(f => f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, f.block([...GET, 'content-length', '2'])).frame(FRAME_DATA, FLAG_END_STREAM, 1, [1, 2, 3]))
    assert.equal(rst(r.frames, 1), PROTOCOL_ERROR)
  })
  test('DATA after END_STREAM → RST_STREAM STREAM_CLOSED', async () => {
    const r = await exchange(f => f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, f.block(GET)).frame(FRAME_DATA, FLAG_END_STREAM, 1, [1]).frame(FRAME_DATA, 0, 1, [2]), 200)
    // the echo server may already have answered and closed stream 1: then the DATA is ignored, never a GOAWAY
    const code = rst(r.frames, 1)
    assert.ok(code === null || code === STREAM_CLOSED, String(code))
    assert.equal(goaway(r.frames), null)
  })
  test('DATA beyond the stream window → RST_STREAM FLOW_CONTROL_ERROR', async () => {
    const r = await exchange(f => {
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS, 1, f.block([':method', 'POST', ':scheme', 'http', ':path', '/no-consume', ':authority', 'x']))
      for (let i = 0; i <= DEFAULT_OPTIONS.initialStreamWindow / 16_384; i++) f.frame(FRAME_DATA, 0, 1, Buffer.alloc(16_384)) // the window + 16 KiB
    })
    assert.equal(rst(r.frames, 1), FLOW_CONTROL_ERROR)
    assert.equal(goaway(r.frames), null)
  })
  test('PRIORITY of 4 bytes → RST_STREAM FRAME_SIZE_ERROR', async () => {
    const r = await exchange(f => f.frame(FRAME_PRIORITY, 0, 9, [0, 0, 0, 0]))
    assert.equal(rst(r.frames, 9), FRAME_SIZE_ERROR)
  })
  test('a header list over SETTINGS_MAX_HEADER_LIST_SIZE is answered 431, the connection lives on', async () => {
    const r = await exchange(f => {
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, f.block([...GET, 'x-big', 'v'.repeat(9000)]))
      f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, f.block(GET))
    })
    const h = r.frames.find(fr => fr.type === FRAME_HEADERS && fr.id === 1)
    assert.ok(h !== undefined, 'h !== undefined')
    assert.equal(h.payload.toString('latin1').includes('431') || h.payload[0] === 0x48, true) // literal :status 431
    assert.ok(r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 3), 'r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 3)')
  })
  test('more streams than SETTINGS_MAX_CONCURRENT_STREAMS → RST_STREAM REFUSED_STREAM for the extra one', async () => {
    const r = await exchange(f => {
      for (let id = 1; id <= 201; id += 2) f.frame(FRAME_HEADERS, FLAG_END_HEADERS, id, f.block(GET)) // 101 open streams, no END_STREAM
    })
    assert.equal(rst(r.frames, 201), REFUSED_STREAM)
    assert.equal(rst(r.frames, 199), null)
  })
})

describe('floods → GOAWAY ENHANCE_YOUR_CALM', () => {
  test('rapid reset (CVE-2023-44487): HEADERS + RST_STREAM pairs', async () => {
    const r = await exchange(f => {
      for (let id = 1; id < 1200; id += 2) f.frame(FRAME_HEADERS, FLAG_END_HEADERS, id, f.block(GET)).frame(FRAME_RST_STREAM, 0, id, u32(CANCEL))
    })
    assert.equal(goaway(r.frames), ENHANCE_YOUR_CALM)
  })
  test('CONTINUATION flood: a header block that never ends', async () => {
    const r = await exchange(f => {
      f.frame(FRAME_HEADERS, 0, 1, f.block(GET))
      for (let i = 0; i < 200; i++) f.frame(FRAME_CONTINUATION, 0, 1, Buffer.alloc(1000, 0x40)) // 200 KB, no END_HEADERS
    })
    assert.equal(goaway(r.frames), ENHANCE_YOUR_CALM)
  })
  test('empty CONTINUATION frames', async () => {
    const r = await exchange(f => {
      f.frame(FRAME_HEADERS, 0, 1, f.block(GET))
      for (let i = 0; i < 100; i++) f.frame(FRAME_CONTINUATION, 0, 1)
    })
    assert.equal(goaway(r.frames), ENHANCE_YOUR_CALM)
  })
  test('PING flood', async () => {
    const r = await exchange(f => { for (let i = 0; i < 1500; i++) f.frame(FRAME_PING, 0, 0, Buffer.alloc(8)) })
    assert.equal(goaway(r.frames), ENHANCE_YOUR_CALM)
    assert.ok(r.frames.filter(fr => fr.type === FRAME_PING && fr.flags === FLAG_ACK).length <= 1000, 'r.frames.filter(fr => fr.type === FRAME_PING && fr.flags === FLAG_ACK).length <= 1000')
  })
  test('SETTINGS flood', async () => {
    const r = await exchange(f => { for (let i = 0; i < 1500; i++) f.frame(FRAME_SETTINGS, 0, 0) })
    assert.equal(goaway(r.frames), ENHANCE_YOUR_CALM)
  })
  test('a normal connection still works after the floods', async () => {
    const r = await exchange(f => f.frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, f.block(GET)))
    assert.ok(r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 1), 'r.frames.some(fr => fr.type === FRAME_HEADERS && fr.id === 1)')
    assert.equal(goaway(r.frames), null)
  })
})
