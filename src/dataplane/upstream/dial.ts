/**
 * Opens sockets to endpoints: plain TCP, or mTLS to a peer sidecar. For mTLS the peer's certificate must
 * chain to the trust bundle and carry, as URI SAN, exactly the SPIFFE ID the endpoint declares
 * (`endpoint.identity`); DNS names are not checked (mesh identities are SPIFFE IDs, not host names).
 * The identity is checked once per connection, never per request.
 *
 * @example
 * const dial = createDialer(() => certStore)
 * const { socket, ready } = dial(endpoint)
 */
import { connect as netConnect } from 'node:net'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'
import type { Endpoint } from '../../config/snapshot.ts'
import type { CertStore } from '../tls/cert-store.ts'
import type { Dialer, ReadOption } from './pool.ts'

/** The proxy's current identity, or null when it has none (mTLS endpoints then fail to connect). */
export type CertStoreProvider = () => CertStore | null

const H1 = ['http/1.1']
const H2 = ['h2']

export function createDialer (certs: CertStoreProvider): Dialer {
  return (ep: Endpoint, onread?: ReadOption, h2?: boolean) => {
    if (!ep.tls) return { socket: netConnect({ host: ep.address, port: ep.port, onread }), ready: 'connect' }
    const store = certs()
    if (store === null) throw new Error('this proxy has no mesh certificate for mTLS')
    // `onread` is a documented tls.connect option that @types/node leaves out
    const options: ConnectionOptions & { onread?: ReadOption } = {
      host: ep.address,
      port: ep.port,
      ...store.clientOptions(ep.identity),
      ALPNProtocols: h2 === true || ep.protocol === 'h2' ? H2 : H1,
      onread
    }
    const socket = tlsConnect(options)
    return { socket, ready: 'secureConnect' }
  }
}
