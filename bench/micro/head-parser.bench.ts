// Micro-benchmarks: the proxy's HTTP/1.1 codec on the hot path — request head parse (as wrk and apps send
// them), response head parse (nginx / Node origins), chunked framing, and the forwarded head serializer.
// Run: node --import tsx bench/micro/head-parser.bench.ts
import { bench, do_not_optimize, run, summary } from 'mitata'
import { BodyFramer, MODE_CHUNKED } from '../../src/dataplane/http1/body-framer.ts'
import { findHeadEnd, parseRequestHead, parseResponseHead } from '../../src/dataplane/http1/head-parser.ts'
import { serializeRequestHead } from '../../src/dataplane/http1/serialize.ts'

const small = Buffer.from('GET / HTTP/1.1\r\nHost: origin\r\n\r\n')
const app = Buffer.from('GET /reviews/0?user=jason HTTP/1.1\r\nHost: reviews:9080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n' +
  'Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\nx-request-id: 5a6e0bb8-8b53-4a3c-9d5c-1d0f0f6f0c1e\r\n' +
  'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nmeshwork-timeout: 1500m\r\nConnection: keep-alive\r\n\r\n')
const nginxRes = Buffer.from('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 23:00:00 GMT\r\nContent-Type: text/plain\r\n' +
  'Content-Length: 100\r\nConnection: keep-alive\r\n\r\n' + 'x'.repeat(100))
const chunked = Buffer.from('400\r\n' + 'c'.repeat(1024) + '\r\n10;ext=1\r\n' + 'd'.repeat(16) + '\r\n0\r\n\r\n')
const framer = new BodyFramer()
const parsedApp = parseRequestHead(app, 0, findHeadEnd(app, 0))

summary(() => {
  bench('request head: wrk (1 header)', () => do_not_optimize(parseRequestHead(small, 0, findHeadEnd(small, 0))))
  bench('request head: app (9 headers)', () => do_not_optimize(parseRequestHead(app, 0, findHeadEnd(app, 0))))
  bench('response head: nginx (5 headers)', () => do_not_optimize(parseResponseHead(nginxRes, 0, findHeadEnd(nginxRes, 0))))
})
bench('chunked framing: 1 KiB + 16 B chunks', () => {
  framer.reset(MODE_CHUNKED)
  do_not_optimize(framer.consume(chunked, 0))
})
bench('serialize forwarded head (9 headers + deadline)', () => do_not_optimize(serializeRequestHead(parsedApp.method, parsedApp.target, parsedApp.headers, -1, false, null, 'meshwork-timeout: 1499000u\r\n')))
await run()
