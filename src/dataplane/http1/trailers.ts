/**
 * Trailer fields (RFC 9110 §6.5) in the proxy's internal HTTP/1.1 form: the trailer section of a chunked body
 * (`0\r\n` + `name: value\r\n`… + `\r\n`). gRPC puts `grpc-status` / `grpc-message` there, so the section travels
 * through the exchange as it does through HTTP/1.1, and the h2 adapters turn it into (or out of) a trailers
 * HEADERS frame.
 *
 * Fields that must never be trailers (framing, routing, connection-specific: RFC 9110 §6.5.1, RFC 9113 §8.2.2) are
 * dropped on the way in and out.
 *
 * @example
 * lastChunk(['grpc-status', '0']) // Buffer '0\r\ngrpc-status: 0\r\n\r\n'
 * parseTrailerText('grpc-status: 0\r\ngrpc-message: ok\r\n') // ['grpc-status', '0', 'grpc-message', 'ok']
 */

const NO_TRAILERS = Buffer.from('0\r\n\r\n', 'latin1')

/** Names a trailer section may not carry (framing, routing, connection-specific, pseudo-headers). */
export function isForbiddenTrailer (name: string): boolean {
  if (name.charCodeAt(0) === 58 /* : */) return true
  switch (name) {
    case 'content-length': case 'transfer-encoding': case 'host': case 'connection': case 'keep-alive':
    case 'proxy-connection': case 'te': case 'trailer': case 'upgrade':
      return true
  }
  return false
}

/**
 * Trailer lines (`name: value\r\n` each, as BodyFramer / ChunkDecoder kept them) → flat `[name, value, …]`, names
 * lower-cased, values trimmed; malformed and forbidden lines are skipped (the framer already refused bad framing).
 */
export function parseTrailerText (text: string): string[] {
  const out: string[] = []
  let pos = 0
  while (pos < text.length) {
    let eol = text.indexOf('\r\n', pos)
    if (eol === -1) eol = text.length
    const colon = text.indexOf(':', pos)
    if (colon > pos && colon < eol) {
      const name = text.slice(pos, colon).toLowerCase()
      const value = text.slice(colon + 1, eol).trim()
      if (!isForbiddenTrailer(name) && name.indexOf(' ') === -1 && name.indexOf('\t') === -1) out.push(name, value)
    }
    pos = eol + 2
  }
  return out
}

/** The last chunk with a trailer section (`0\r\n\r\n` when there are none). */
export function lastChunk (trailers: readonly string[] | null): Buffer {
  if (trailers === null || trailers.length === 0) return NO_TRAILERS
  let s = '0\r\n'
  for (let i = 0; i < trailers.length; i += 2) {
    const n = trailers[i]
    if (isForbiddenTrailer(n)) continue
    s += n + ': ' + oneLine(trailers[i + 1]) + '\r\n'
  }
  return Buffer.from(s + '\r\n', 'latin1')
}

/** First value of `name` in a flat list, or undefined. */
export function trailerValue (trailers: readonly string[] | null, name: string): string | undefined {
  if (trailers === null) return undefined
  for (let i = 0; i < trailers.length; i += 2) if (trailers[i] === name) return trailers[i + 1]
  return undefined
}

function oneLine (v: string): string {
  // a CR or LF inside a value would end the field early (and could smuggle a field): never send one
  return v.indexOf('\r') === -1 && v.indexOf('\n') === -1 ? v : v.replace(/[\r\n]+/g, ' ')
}
