/**
 * What Meshwork claims of the Gateway API conformance profiles, and why a test it cannot run is skipped.
 * Features not listed in SUPPORTED_FEATURES are reported as `unsupportedFeatures`; the suite then skips
 * every test that needs one (its own rule). SKIPPED_TESTS lists tests whose features are supported but which
 * this runtime cannot run, with the reason a user reads in the report.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFORMANCE_DIR } from './cases.ts'

export type ProfileName = 'GATEWAY-HTTP' | 'MESH-HTTP' | 'GATEWAY-GRPC'

/** CLI names of the profiles (`--profile http|gamma|grpc`). */
export const PROFILE_FLAGS: Record<string, ProfileName> = { http: 'GATEWAY-HTTP', gamma: 'MESH-HTTP', grpc: 'GATEWAY-GRPC' }

interface FeatureSets { sets: Record<string, string[]> }

/** Core and extended features of each profile, as conformance/utils/suite/profiles.go of the pinned commit. */
export function profileFeatures (name: ProfileName, dir = CONFORMANCE_DIR): { core: string[], extended: string[] } {
  const { sets } = JSON.parse(readFileSync(join(dir, 'upstream', 'features.json'), 'utf8')) as FeatureSets
  const s = (k: string): string[] => sets[k] ?? []
  switch (name) {
    case 'GATEWAY-HTTP': return { core: ['Gateway', 'ReferenceGrant', 'HTTPRoute'], extended: [...s('GatewayExtendedFeatures'), ...s('HTTPRouteExtendedFeatures')] }
    case 'MESH-HTTP': return { core: ['Mesh', 'HTTPRoute'], extended: [...s('MeshExtendedFeatures'), ...s('HTTPRouteExtendedFeatures')] }
    case 'GATEWAY-GRPC': return { core: ['Gateway', 'ReferenceGrant', 'GRPCRoute'], extended: s('GatewayExtendedFeatures') }
  }
}

/** Features Meshwork implements (core ones first). */
export const SUPPORTED_FEATURES = new Set([
  'Gateway', 'HTTPRoute', 'Mesh', 'GRPCRoute',
  'HTTPRouteQueryParamMatching', 'HTTPRouteMethodMatching', 'HTTPRouteResponseHeaderModification',
  'HTTPRoutePortRedirect', 'HTTPRouteSchemeRedirect', 'HTTPRoutePathRedirect', 'HTTPRouteHostRewrite',
  'HTTPRoutePathRewrite', 'HTTPRouteRequestMirror', 'HTTPRouteRequestMultipleMirrors', 'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout', 'HTTPRouteBackendTimeout'
])

/** Why an unsupported feature is not there (printed in the report's summary and in ADAPTATIONS.md). */
export const UNSUPPORTED_FEATURE_REASONS: Record<string, string> = {
  ReferenceGrant: 'namespaces and ReferenceGrant arrive with the namespace work of the control plane (issue 15); until then backendRefs resolve by name across the mesh',
  GatewayPort8080: 'a Meshwork gateway proxy listens on one socket chosen by the runtime; listeners on distinct ports of one Gateway are not separate sockets',
  GatewayHTTPListenerIsolation: 'listeners of one Gateway share one socket, so per-listener isolation by port is not offered',
  GatewayStaticAddresses: 'no Gateway addresses: the runtime picks the listening port',
  GatewayInfrastructurePropagation: 'no Kubernetes infrastructure to propagate labels/annotations to',
  GatewayEmptyAddress: 'no Gateway addresses',
  HTTPRouteParentRefPort: 'a gateway proxy has one socket for all its listeners, and a mesh service one port: parentRef.port selects among listeners (and is checked), but traffic is not told apart by port',
  HTTPRouteDestinationPortMatching: 'one socket per gateway: a route cannot tell listener ports apart',
  HTTPRouteBackendRequestHeaderModification: 'per-backendRef filters are not in the schema',
  HTTPRouteBackendProtocolH2C: 'appProtocol on Services: there are no Service objects; a Workload declares protocol h2 instead',
  HTTPRouteBackendProtocolWebSocket: 'appProtocol on Services: there are no Service objects (WebSocket upgrades are proxied regardless)',
  MeshClusterIPMatching: 'no cluster IPs on a loopback mesh: services are addressed by name',
  MeshConsumerRoute: 'consumer routes need routes in the caller\'s namespace: waits for namespaces (issue 15)'
}

/** Tests whose features are claimed but which cannot run here, and why. */
export const SKIPPED_TESTS: Record<string, string> = {
  HTTPRouteHTTPSListener: 'needs the TLS Secret of the base manifests; Meshwork HTTPS listeners take PEM files (certFile/keyFile), not Secrets',
  HTTPRouteRedirectPortAndScheme: 'sends to an HTTPS listener (Secret) and to a listener on port 8080 of another Gateway',
  HTTPRouteServiceTypes: 'headless and manual-Endpoints Services are Kubernetes objects this runtime does not have',
  HTTPRouteObservedGenerationBump: 'needs Kubernetes metadata.generation on updates',
  HTTPRouteDisallowedKind: 'needs TLSRoute, which Meshwork does not implement',
  GatewayInvalidRouteKind: 'Gateway listener status is not reported yet (route status is)',
  GatewayInvalidTLSConfiguration: 'needs Secrets',
  GatewayModifyListeners: 'Gateway listener status is not reported yet (route status is)',
  GatewayObservedGenerationBump: 'needs Kubernetes metadata.generation on updates',
  GatewaySecretInvalidReferenceGrant: 'needs Secrets',
  GatewaySecretMissingReferenceGrant: 'needs Secrets',
  GatewaySecretReferenceGrantAllInNamespace: 'needs Secrets',
  GatewaySecretReferenceGrantSpecific: 'needs Secrets',
  GatewayWithAttachedRoutes: 'Gateway listener status (attachedRoutes) is not reported yet (route status is)',
  GatewayWithAttachedRoutesWithPort8080: 'Gateway listener status (attachedRoutes) is not reported yet (route status is)'
}
