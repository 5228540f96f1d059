export type { CertStoreEvents, TlsMaterial } from './cert-store.ts'
export { CertStore, checkSpiffeIdentity, fromFiles } from './cert-store.ts'
export type { SpiffeParts } from './spiffe.ts'
export { parseSpiffeId, peerSpiffeId, spiffeIdOf, spiffeIdOfSubjectAltName, urisOfSubjectAltName } from './spiffe.ts'
