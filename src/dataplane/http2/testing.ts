/**
 * Test support for the codec's interop tests (not used by the proxy): an echo server on the codec over
 * cleartext or TLS, a throw-away certificate, a raw frame builder for hostile-peer tests and a runner for
 * the real third-party peers (curl, nghttp, h2load).
 *
 * @example
 * const srv = await startEchoServer({ tls: true }); …; await srv.close()
 */
import { spawn } from 'node:child_process'
import net, { type AddressInfo } from 'node:net'
import tls from 'node:tls'
import { createRootCa, issueTestIdentity } from '../../pki/index.ts'
import { H2ServerConnection } from './server.ts'
import type { H2Stream } from './stream.ts'
import type { H2Options, H2RequestHead } from './types.ts'
import { FrameWriter } from './frame-writer.ts'
import { HpackEncoder } from './hpack/encoder.ts'

export interface TestTls { key: string, cert: string, ca: string }
let material: Promise<TestTls> | null = null

/** A root CA and a leaf for 127.0.0.1 tests (SPIFFE SAN only: clients skip name checks, e.g. `curl -k`). */
export function testTls (): Promise<TestTls> {
  material ??= (async () => {
    const root = await createRootCa({ commonName: 'h2 test root', ttlMs: 3600_000 })
    const id = await issueTestIdentity(root, 'spiffe://test.local/ns/default/sa/h2', 3600_000)
    return { key: id.privateKeyPem, cert: id.certPem, ca: root.certPem }
  })()
  return material
}

export interface EchoServer {
  port: number
  url: string
  connections: Set<H2ServerConnection>
  close (): Promise<void>
}

/**
 * Answers every request: `:status` 200 (or `x-status`), the request's method/path/header count echoed as
 * headers, the request body echoed back, trailers `x-trailer: done` plus `x-request-trailers` (count). A path
 * `/info` sends 103 Early Hints first; `/trailers-only` answers HEADERS with END_STREAM; `/no-consume` never
 * gives received bytes back to flow control; `/throw-on-stream` and `/throw-on-end` throw from the handler.
 */
export async function startEchoServer (opts: { tls?: boolean, options?: Partial<H2Options>, sniff?: boolean } = {}): Promise<EchoServer> {
  const connections = new Set<H2ServerConnection>()
  const serve = (socket: net.Socket, sniffed?: Buffer): void => {
    const conn = new H2ServerConnection({ onStream: echoStream, onClose: () => connections.delete(conn) }, opts.options)
    connections.add(conn)
    conn.attach(socket, sniffed)
  }
  let server: net.Server
  if (opts.tls === true) {
    const m = await testTls()
    server = tls.createServer({ key: m.key, cert: m.cert, ALPNProtocols: ['h2'] }, s => serve(s))
  } else if (opts.sniff === true) {
    // as the proxy's listener does: read the first bytes, then hand the socket over with them
    server = net.createServer(s => s.once('data', (first: Buffer) => { s.pause(); serve(s, first) }))
  } else {
    server = net.createServer(s => serve(s))
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `${opts.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    connections,
    close: () => new Promise<void>(resolve => {
      for (const c of connections) c.destroy()
      server.close(() => resolve())
    })
  }
}

function echoStream (stream: H2Stream, head: H2RequestHead): void {
  if (head.path === '/throw-on-stream') throw new Error('a handler bug')
  const body: Buffer[] = []
  const consume = head.path !== '/no-consume'
  stream.handler = {
    onData (s, d) { body.push(d); if (consume) s.consumed(d.length) },
    onEnd (s, trailers) {
      if (head.path === '/throw-on-end') throw new Error('a handler bug')
      const status = Number(find(head.headers, 'x-status') ?? 200)
      const out = ['x-method', head.method, 'x-path', head.path, 'x-authority', head.authority, 'x-headers', String(head.headers.length / 2)]
      if (head.path === '/trailers-only') { s.respond(status, ['grpc-status', '5', 'grpc-message', 'not found'], true); return }
      if (head.path === '/info') s.informational(103, ['link', '</style.css>; rel=preload'])
      s.respond(status, out)
      for (const b of body) s.write(b)
      s.end(['x-trailer', 'done', 'x-request-trailers', String(trailers === null ? 0 : trailers.length / 2)])
    },
    onReset () {}
  }
}

export function find (headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1]
  return undefined
}

/** Run a third-party peer; resolves with its exit code and output (killed after `timeoutMs`). */
export function runPeer (cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

/** Builds raw frames for hostile-peer tests (HPACK through our encoder). */
export class RawFrames {
  private readonly w = new FrameWriter()
  readonly encoder = new HpackEncoder()
  private parts: Buffer[] = []

  frame (type: number, flags: number, id: number, payload: Buffer | number[] = []): this {
    const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
    const h = Buffer.alloc(9)
    this.w.writeHeaderAt(h, 0, p.length, type, flags, id)
    this.parts.push(h, p)
    return this
  }

  /** An HPACK block for `headers`. */
  block (headers: string[]): Buffer {
    const b = Buffer.alloc(4096 + headers.join('').length * 2)
    const end = this.encoder.fields(headers, b, this.encoder.begin(b, 0))
    return b.subarray(0, end)
  }

  bytes (): Buffer {
    const out = Buffer.concat(this.parts)
    this.parts = []
    return out
  }
}

/** Parsed frames from raw bytes (for reading what the codec sent to a raw peer). */
export function parseFrames (buf: Buffer): { type: number, flags: number, id: number, payload: Buffer }[] {
  const out: { type: number, flags: number, id: number, payload: Buffer }[] = []
  let pos = 0
  while (pos + 9 <= buf.length) {
    const len = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2]
    if (pos + 9 + len > buf.length) break
    out.push({ type: buf[pos + 3], flags: buf[pos + 4], id: buf.readUInt32BE(pos + 5) & 0x7fffffff, payload: buf.subarray(pos + 9, pos + 9 + len) })
    pos += 9 + len
  }
  return out
}
