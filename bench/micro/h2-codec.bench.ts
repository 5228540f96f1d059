// Micro-benchmarks: the HTTP/2 codec's hot functions — HPACK encode of a gRPC request head (first call:
// literals + Huffman; repeat calls: indexed), HPACK decode (Huffman literals from a fresh table; a repeated,
// fully indexed head), Huffman decode of one value, and frame parsing of a unary gRPC exchange.
// Run: node --import tsx bench/micro/h2-codec.bench.ts
import { bench, do_not_optimize, run, summary } from 'mitata'
import { FrameReader, type FrameSink } from '../../src/dataplane/http2/frame-reader.ts'
import { FrameWriter } from '../../src/dataplane/http2/frame-writer.ts'
import { HpackDecoder } from '../../src/dataplane/http2/hpack/decoder.ts'
import { HpackEncoder, maxBlockSize } from '../../src/dataplane/http2/hpack/encoder.ts'
import { huffmanDecode, huffmanEncode, huffmanLength } from '../../src/dataplane/http2/hpack/huffman.ts'
import { FLAG_END_HEADERS, FLAG_END_STREAM, FRAME_DATA, FRAME_HEADERS } from '../../src/dataplane/http2/constants.ts'

const GRPC_HEAD = [':method', 'POST', ':scheme', 'http', ':path', '/helloworld.Greeter/SayHello', ':authority', 'greeter:50051',
  'content-type', 'application/grpc', 'te', 'trailers', 'grpc-accept-encoding', 'identity,deflate,gzip', 'user-agent', 'grpc-node-js/1.14.7',
  'grpc-timeout', '999m', 'traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']
const out = Buffer.alloc(maxBlockSize(GRPC_HEAD, 0))

function encodeOnce (enc: HpackEncoder): Buffer {
  const end = enc.fields(GRPC_HEAD, out, enc.begin(out, 0))
  return Buffer.from(out.subarray(0, end))
}
const firstBlock = encodeOnce(new HpackEncoder())
const warm = new HpackEncoder()
encodeOnce(warm)
const repeatBlock = encodeOnce(warm)
const warmDecoder = new HpackDecoder(4096, 65536)
warmDecoder.decode(firstBlock, 0, firstBlock.length, [])

const value = 'grpc-node-js/1.14.7 (linux; x64) traceparent=00-0af7651916cd43dd8448eb211c80319c'
const huff = Buffer.alloc(huffmanLength(value))
huffmanEncode(value, huff, 0)

// a unary gRPC exchange as the server reads it: HEADERS (indexed) + DATA (100 B) with END_STREAM, ×10 streams
const w = new FrameWriter()
const frames: Buffer[] = []
for (let id = 1; id <= 19; id += 2) {
  const h = Buffer.alloc(9); w.writeHeaderAt(h, 0, repeatBlock.length, FRAME_HEADERS, FLAG_END_HEADERS, id)
  const d = Buffer.alloc(9); w.writeHeaderAt(d, 0, 100, FRAME_DATA, FLAG_END_STREAM, id)
  frames.push(h, repeatBlock, d, Buffer.alloc(100))
}
const chunk = Buffer.concat(frames)
let sunk = 0
const sink: FrameSink = {
  onFrame (_t, _f, _i, _b, s, e) { sunk += e - s },
  onDataStart () {},
  onDataPiece (_b, s, e) { sunk += e - s },
  onDataEnd () {},
  onReadError () {}
}
const reader = new FrameReader(sink, false, 16384)

summary(() => {
  bench('HPACK encode gRPC head, first call (literals, Huffman)', () => do_not_optimize(encodeOnce(new HpackEncoder())))
  bench('HPACK encode gRPC head, repeat call (indexed)', () => do_not_optimize(encodeOnce(warm)))
})
summary(() => {
  bench('HPACK decode gRPC head, fresh table (Huffman literals)', () => {
    const list: string[] = []
    new HpackDecoder(4096, 65536).decode(firstBlock, 0, firstBlock.length, list)
    do_not_optimize(list)
  })
  bench('HPACK decode gRPC head, repeat (indexed)', () => {
    const list: string[] = []
    warmDecoder.decode(repeatBlock, 0, repeatBlock.length, list)
    do_not_optimize(list)
  })
})
bench('Huffman decode 82-char value', () => do_not_optimize(huffmanDecode(huff, 0, huff.length)))
bench('frame parse: 10 unary requests (HEADERS + DATA) in one read', () => { reader.push(chunk); do_not_optimize(sunk) })
await run()
