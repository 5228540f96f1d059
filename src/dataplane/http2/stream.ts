/**
 * One HTTP/2 stream (RFC 9113 §5.1), either role. The connection owns the frames; a stream holds its state,
 * windows and send queue, and forwards the caller's actions to its connection.
 *
 *                      send/recv HEADERS
 *   idle ──────────────────────────────────▶ open
 *                                  END_STREAM sent │        │ END_STREAM received
 *                                                  ▼        ▼
 *                                   half-closed (local)   half-closed (remote)
 *                                                  │        │
 *                  END_STREAM received / sent, or RST_STREAM either way
 *                                                  ▼        ▼
 *                                                   closed
 *
 * `localEnded` / `remoteEnded` are the two halves; `closed` is set once both ended (the END_STREAM frame
 * written, not just asked for) or on a reset.
 *
 * @example
 * stream.respond(200, ['content-type', 'application/grpc'])
 * if (!stream.write(msg)) { … wait for handler.onDrain … }
 * stream.end(['grpc-status', '0'])
 */
import { CANCEL } from './constants.ts'
import type { H2StreamHandler } from './types.ts'

/** What a stream needs from its connection (implemented by H2Connection). */
export interface StreamOwner {
  sendHead (s: H2Stream, status: number, headers: string[], endStream: boolean): void
  writeData (s: H2Stream, data: Buffer, end: boolean): boolean
  endStream (s: H2Stream, trailers: string[] | null): void
  resetStream (s: H2Stream, code: number): void
  consumed (s: H2Stream, n: number): void
}

const NO_HANDLER: H2StreamHandler = { onData () {}, onEnd () {}, onReset () {} }

export class H2Stream {
  readonly id: number
  /** Callbacks; set once (in onStream, or by request()). */
  handler: H2StreamHandler = NO_HANDLER
  /** A free slot for the owner of the stream (e.g. its exchange). */
  user: unknown = null
  /** Client role: the request method (a HEAD response has no body whatever its content-length says). */
  method = ''
  /** Client role: the final response's status, 0 before it. */
  status = 0
  // --- state (read-only outside the codec) ---
  localEnded = false
  remoteEnded = false
  closed = false
  /** The final head (response, or request) was sent / the END_STREAM was asked for. */
  headSent = false
  endQueued = false
  /** A final head was received (client: response; server: always true). */
  headReceived = false
  sendWindow: number
  recvWindow: number
  /** Bytes consumed but not yet given back in a WINDOW_UPDATE. */
  unacked = 0
  /** Declared content-length of what the peer sends (−1: none). */
  expectLength = -1
  received = 0
  /** Coarse ms when the stream opened (rapid-reset accounting). */
  openedAt = 0
  // --- send queue: what the windows did not let out yet ---
  queue: Buffer[] = []
  queueHead = 0
  /** Offset already sent of queue[queueHead]. */
  queueOffset = 0
  bufferedAmount = 0
  trailersPending: string[] | null = null
  needDrain = false
  /** In the connection's list of streams with queued data. */
  scheduled = false
  private readonly owner: StreamOwner

  constructor (owner: StreamOwner, id: number, sendWindow: number, recvWindow: number) {
    this.owner = owner
    this.id = id
    this.sendWindow = sendWindow
    this.recvWindow = recvWindow
  }

  /** Server role: the final response head; `endStream` for a response without body (trailers-only in gRPC). */
  respond (status: number, headers: string[], endStream = false): void {
    this.owner.sendHead(this, status, headers, endStream)
  }

  /** Server role: an informational (1xx) head; any number, before respond(). */
  informational (status: number, headers: string[]): void {
    this.owner.sendHead(this, status, headers, false)
  }

  /**
   * Send body bytes (referenced until written: do not modify `data`). `end`: this is the last of the body.
   * Returns false when the queue reached the high-water mark: wait for `handler.onDrain`.
   */
  write (data: Buffer, end = false): boolean {
    return this.owner.writeData(this, data, end)
  }

  /** End our side: END_STREAM after what is queued, or the trailers (HEADERS with END_STREAM). */
  end (trailers: string[] | null = null): void {
    this.owner.endStream(this, trailers)
  }

  /** RST_STREAM with `code`; the handler gets no more callbacks. */
  reset (code = CANCEL): void {
    this.owner.resetStream(this, code)
  }

  /** Give back `n` delivered bytes to flow control (WINDOW_UPDATE once enough are consumed). */
  consumed (n: number): void {
    this.owner.consumed(this, n)
  }
}
