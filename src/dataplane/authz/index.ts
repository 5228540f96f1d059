export type { Authorizer, AuthzDecision, AuthzRequest } from './authorizer.ts'
export { compileAuthorization } from './authorizer.ts'
