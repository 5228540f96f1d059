/**
 * A catch-all DNS responder for pods of `meshwork up --network pods`, run by the sidecar on 127.0.0.1:15053
 * (the pod's rules redirect the app's DNS queries to it, as Istio's DNS capture does). Mesh names never get
 * here: they resolve from the pod's /etc/hosts first (nsswitch `files dns`). Every other name is answered
 * with one address, the *no-route* service address, which the pod's rules capture like any other; the
 * sidecar then answers the HTTP call `404 MESH_ERR_NO_ROUTE` naming the Host — so a call to a service the mesh
 * does not know gets a clear mesh error instead of a DNS failure or a hang. (The pod network has no way out,
 * so there is nothing a real resolver could reach.)
 *
 *   A     → <address>, TTL 5 s        AAAA and every other type → NOERROR, no answer (NODATA)
 *   not a query, or unparsable → ignored
 *
 * Only the first question is answered (resolvers send one). RFC 1035 §4.1.
 *
 * @example
 * const dns = await startCatchAllDns({ host: '127.0.0.1', port: 15053, address: '198.19.255.254' })
 * await dns.close()
 */
import { createSocket, type Socket } from 'node:dgram'

export interface CatchAllDnsOptions {
  host: string
  port: number
  /** IPv4 address every A query is answered with. */
  address: string
  ttlSeconds?: number
  /** Called per answered query (name, type), e.g. to count or log. */
  onQuery? (name: string, type: number): void
}

export interface CatchAllDns {
  readonly port: number
  close (): Promise<void>
}

const TYPE_A = 1
const CLASS_IN = 1

/** The answer to one query packet, or null when it is not a well-formed standard query. */
export function answerQuery (msg: Buffer, address: readonly number[], ttl = 5): { reply: Buffer, name: string, type: number } | null {
  if (msg.length < 12) return null
  const flags = msg.readUInt16BE(2)
  if ((flags & 0x8000) !== 0 || ((flags >> 11) & 0xf) !== 0) return null // a response, or not QUERY
  if (msg.readUInt16BE(4) < 1) return null
  // QNAME: labels until a zero byte (no compression in a question)
  let pos = 12
  const labels: string[] = []
  for (;;) {
    if (pos >= msg.length) return null
    const len = msg[pos]
    if (len === 0) { pos++; break }
    if (len > 63 || pos + 1 + len > msg.length) return null
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len))
    pos += 1 + len
  }
  if (pos + 4 > msg.length) return null
  const type = msg.readUInt16BE(pos)
  const klass = msg.readUInt16BE(pos + 2)
  const question = msg.subarray(12, pos + 4)
  const answer = type === TYPE_A && klass === CLASS_IN
  const header = Buffer.alloc(12)
  header.writeUInt16BE(msg.readUInt16BE(0), 0) // id
  header.writeUInt16BE(0x8000 | 0x0400 | (flags & 0x0100) | 0x0080, 2) // QR, AA, RD as asked, RA; RCODE 0
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answer ? 1 : 0, 6)
  const parts = [header, question]
  if (answer) {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0) // name: pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2)
    rr.writeUInt16BE(CLASS_IN, 4)
    rr.writeUInt32BE(ttl, 6)
    rr.writeUInt16BE(4, 10)
    for (let i = 0; i < 4; i++) rr[12 + i] = address[i]
    parts.push(rr)
  }
  return { reply: Buffer.concat(parts), name: labels.join('.'), type }
}

export function startCatchAllDns (o: CatchAllDnsOptions): Promise<CatchAllDns> {
  const address = o.address.split('.').map(Number)
  if (address.length !== 4 || address.some(b => !Number.isInteger(b) || b < 0 || b > 255)) throw new TypeError(`not an IPv4 address: ${o.address}`)
  const socket: Socket = createSocket('udp4')
  socket.on('message', (msg, rinfo) => {
    const a = answerQuery(msg, address, o.ttlSeconds ?? 5)
    if (a === null) return
    o.onQuery?.(a.name, a.type)
    socket.send(a.reply, rinfo.port, rinfo.address)
  })
  socket.on('error', () => {})
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(o.port, o.host, () => {
      socket.off('error', reject)
      resolve({ port: socket.address().port, close: () => new Promise<void>(res => socket.close(() => res())) })
    })
  })
}
