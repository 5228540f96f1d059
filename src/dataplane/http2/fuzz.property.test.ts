// Property tests: the frame reader gives the same frames however the bytes are split across reads, and random
// frame sequences from a peer never throw out of the codec: the connection either serves them or ends with
// a GOAWAY carrying an RFC 9113 error code, and the server keeps serving.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FRAME_DATA, FRAME_GOAWAY, FRAME_HEADERS, FRAME_SETTINGS, PREFACE } from './constants.ts'
import { FrameReader, type FrameSink } from './frame-reader.ts'
import { type EchoServer, parseFrames, RawFrames, startEchoServer } from './testing.ts'

class Recorder implements FrameSink {
  out: string[] = []
  onFrame (type: number, flags: number, id: number, buf: Buffer, start: number, end: number): void { this.out.push(`F${type}/${flags}/${id}:${buf.toString('hex', start, end)}`) }
  onDataStart (flags: number, id: number, length: number): void { this.out.push(`D${flags}/${id}/${length}`) }
  // pieces are joined: where a DATA payload is split is up to the reads
  onDataPiece (buf: Buffer, start: number, end: number): void {
    const last = this.out.length - 1
    if (this.out[last].startsWith('P:')) this.out[last] += buf.toString('hex', start, end)
    else this.out.push('P:' + buf.toString('hex', start, end))
  }
  onDataEnd (flags: number, padding: number): void { this.out.push(`E${flags}/${padding}`) }
  onReadError (code: number, message: string): void { this.out.push(`X${code}:${message}`) }
}

const frameArb = fc.record({
  type: fc.integer({ min: 0, max: 12 }),
  flags: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 9 }),
  payload: fc.uint8Array({ maxLength: 300 })
})

describe('frame reader', () => {
  test('the same frames come out whatever the read boundaries (preface, headers, DATA with padding)', () => {
    fc.assert(fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }), (frames, cuts) => {
      const raw = new RawFrames()
      for (const f of frames) {
        const payload = Buffer.from(f.payload)
        // keep padded DATA valid often enough to exercise the padding states
        if (f.type === FRAME_DATA && (f.flags & FLAG_PADDED) !== 0 && payload.length > 0) payload[0] = payload[0] % payload.length
        raw.frame(f.type, f.flags, f.id, payload)
      }
      const bytes = Buffer.concat([PREFACE, raw.bytes()])
      const whole = new Recorder()
      new FrameReader(whole, true, 16_384).push(bytes)
      const split = new Recorder()
      const reader = new FrameReader(split, true, 16_384)
      let pos = 0
      let i = 0
      while (pos < bytes.length && !reader.failed) {
        const n = cuts[i++ % cuts.length]
        reader.push(bytes.subarray(pos, pos + n))
        pos += n
      }
      assert.deepEqual(split.out, whole.out)
    }), { numRuns: 400 })
  })
})

describe('random frames from a peer', () => {
  let srv: EchoServer
  before(async () => { srv = await startEchoServer() })
  after(() => srv.close())

  async function run (bytes: Buffer): Promise<Buffer> {
    const socket = net.connect(srv.port, '127.0.0.1')
    const got: Buffer[] = []
    socket.on('data', d => got.push(d))
    socket.on('error', () => {})
    await new Promise<void>(resolve => {
      const t = setTimeout(resolve, 60)
      socket.on('close', () => { clearTimeout(t); resolve() })
      socket.write(bytes)
    })
    socket.destroy()
    return Buffer.concat(got)
  }

  test('never throw out of the codec: served, or GOAWAY with an RFC 9113 code', async () => {
    const GET = [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x']
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(
      frameArb,
      // well-formed requests mixed in, so the random frames meet open streams
      fc.record({ type: fc.constant(-1), flags: fc.constantFrom(FLAG_END_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM), id: fc.integer({ min: 1, max: 9 }), payload: fc.constant(new Uint8Array()) })
    ), { maxLength: 25 }), async frames => {
      const raw = new RawFrames()
      raw.frame(FRAME_SETTINGS, 0, 0).frame(FRAME_SETTINGS, FLAG_ACK, 0)
      for (const f of frames) {
        if (f.type === -1) raw.frame(FRAME_HEADERS, f.flags, f.id, raw.block(GET))
        else raw.frame(f.type, f.flags, f.id, Buffer.from(f.payload))
      }
      const reply = parseFrames(await run(Buffer.concat([PREFACE, raw.bytes()])))
      for (const fr of reply) {
        if (fr.type === FRAME_GOAWAY) assert.ok(fr.payload.readUInt32BE(4) <= 0xd, `GOAWAY code ${fr.payload.readUInt32BE(4)}`)
      }
    }), { numRuns: 150 })
    // and the server still answers a normal request
    const raw = new RawFrames()
    raw.frame(FRAME_SETTINGS, 0, 0).frame(FRAME_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, raw.block(GET))
    const reply = parseFrames(await run(Buffer.concat([PREFACE, raw.bytes()])))
    assert.ok(reply.some(fr => fr.type === FRAME_HEADERS && fr.id === 1), 'reply.some(fr => fr.type === FRAME_HEADERS && fr.id === 1)')
  })
})
