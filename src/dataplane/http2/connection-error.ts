/**
 * Thrown inside frame handling to end the connection with GOAWAY `h2Code`; the connection catches it at the
 * end of the read (connection.ts) and turns it into an H2ProtocolError for its owner.
 *
 * @example
 * if (id === 0) throw new ConnectionError(PROTOCOL_ERROR, 'HEADERS on stream 0')
 */
export class ConnectionError extends Error {
  constructor (readonly h2Code: number, message: string) { super(message) }
}
