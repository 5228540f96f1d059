/**
 * The response side of an h2 stream: the HTTP/1.1 bytes the exchange writes (1xx heads, the final head, the body as
 * the upstream framed it, chunked bodies with their trailer section) become h2 calls on a {@link H2ResponseSink},
 * independent of the h2 library underneath.
 *
 *   HEAD ──1xx──▶ sink.informational (100, 103…)        stays in HEAD
 *     │ final head: content-length 0 / 204 / 304 / HEAD ──▶ sink.head(endStream) ──▶ DONE (gRPC trailers-only)
 *     │ content-length n ──▶ sink.head ──▶ BODY: bytes as they are ──▶ end(): sink.end(null)
 *     │ chunked ──▶ sink.head(mayHaveTrailers) ──▶ BODY: chunks decoded ──▶ last chunk: sink.end(trailers)
 *     └ no length (ends with the upstream connection) ──▶ sink.head ──▶ BODY ──▶ end(): sink.end(null)
 *
 * @example
 * const out = new H1ToH2Response(sink, req.method === 'HEAD'); out.write(bytes); out.end()
 */
import { ChunkDecoder } from '../http1/chunk-codec.ts'
import { findHeadEnd, parseResponseHead, type ResponseHead } from '../http1/head-parser.ts'
import { isHopByHop } from '../http1/serialize.ts'

export interface H2ResponseSink {
  informational (status: number, fields: string[]): void
  /** `mayHaveTrailers`: the body is chunked, so a trailers frame may end it (keep the stream open for it). */
  head (status: number, fields: string[], endStream: boolean, mayHaveTrailers: boolean): void
  /** Body bytes; false = the stream's buffer is full (the caller waits for 'drain'). */
  data (chunk: Buffer): boolean
  /** End of the body, with trailer fields or null. */
  end (trailers: string[] | null): void
}

const S_HEAD = 0
const S_BODY = 1
const S_DONE = 2

export class H1ToH2Response {
  private state = S_HEAD
  private pending: Buffer | null = null
  private decoder: ChunkDecoder | null = null
  private ok = true
  private readonly onData = (d: Buffer): void => { if (!this.sink.data(d)) this.ok = false }

  constructor (private readonly sink: H2ResponseSink, private readonly headRequest: boolean) {}

  /** A head was sent (the stream's response has started). */
  get started (): boolean { return this.state !== S_HEAD }

  /** The stream was ended by the head (no body) or by end(). */
  get done (): boolean { return this.state === S_DONE }

  write (chunk: Buffer): boolean {
    if (this.state === S_DONE) return true
    if (this.state === S_HEAD) {
      if (this.pending !== null) { chunk = Buffer.concat([this.pending, chunk]); this.pending = null }
      let pos = 0
      for (;;) {
        const end = findHeadEnd(chunk, pos)
        if (end === -1) { if (pos < chunk.length) this.pending = chunk.subarray(pos); return true }
        const head = parseResponseHead(chunk, pos, end)
        pos = end
        if (head.status < 200) {
          if (head.status !== 101) this.sink.informational(head.status, h2Fields(head.headers, head.connectionTokens, true))
          continue
        }
        this.writeHead(head, head.headers)
        if ((this.state as number) === S_DONE || pos >= chunk.length) return true
        chunk = chunk.subarray(pos)
        break
      }
    }
    const d = this.decoder
    if (d === null) return this.sink.data(chunk)
    this.ok = true
    if (d.push(chunk, this.onData)) this.finish(d.trailers)
    return this.ok
  }

  /**
   * The final head, already parsed (the exchange has it: no HTTP/1.1 bytes are made and parsed again for an h2
   * client). `headers` may differ from `head.headers` (route header filters).
   */
  writeHead (head: ResponseHead, headers: readonly string[]): void {
    if (this.state !== S_HEAD) return
    const status = head.status
    const fields = h2Fields(headers, head.connectionTokens, false)
    const bodyless = this.headRequest || status === 204 || status === 304 || head.contentLength === 0
    if (bodyless) {
      this.state = S_DONE
      this.sink.head(status, fields, true, false)
      return
    }
    this.state = S_BODY
    if (head.chunked) this.decoder = new ChunkDecoder()
    this.sink.head(status, fields, false, head.chunked)
  }

  /** The exchange ended the response (its body is complete). */
  end (): void {
    if (this.state !== S_BODY) return
    this.finish(this.decoder?.trailers ?? null)
  }

  private finish (trailers: string[] | null): void {
    if (this.state === S_DONE) return
    this.state = S_DONE
    this.sink.end(trailers)
  }
}

/** HTTP/1.1 response fields fit for h2: connection-specific ones dropped (RFC 9113 §8.2.2), content-length kept. */
function h2Fields (headers: readonly string[], tokens: readonly string[] | null, informational: boolean): string[] {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]
    if (isHopByHop(n) && (n !== 'content-length' || informational)) continue
    if (tokens?.includes(n)) continue
    out.push(n, headers[i + 1])
  }
  return out
}
