import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { renderEnvoyBootstrap, renderGrpcBootstrap } from './bootstrap.ts'
import { fromProto3Json } from './proto-json.ts'
import { xdsType } from './protos.ts'

const require = createRequire(import.meta.url)
const Bootstrap = () => xdsType('envoy.config.bootstrap.v3.Bootstrap')

test('the Envoy bootstrap is a valid envoy.config.bootstrap.v3.Bootstrap (strict proto3 JSON), with and without certificates', () => {
  for (const certDir of [undefined, '/etc/meshwork/certs']) {
    const doc = renderEnvoyBootstrap({ xdsAddress: '127.0.0.1:15012', service: 'productpage', version: 'v1', certDir })
    const { message, problems } = fromProto3Json(Bootstrap(), doc)
    assert.deepEqual(problems, [])
    const decoded = Bootstrap().toObject(Bootstrap().decode(Bootstrap().encode(message!).finish()), { enums: String, longs: String }) as any
    assert.equal(decoded.node.id, 'productpage-v1.default')
    assert.equal(decoded.node.metadata.fields.MESHWORK_CLIENT.stringValue, 'envoy')
    assert.equal(decoded.dynamic_resources.ads_config.api_type, 'GRPC')
    assert.equal(decoded.dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name, 'meshwork-xds')
    assert.equal(decoded.dynamic_resources.lds_config.resource_api_version, 'V3')
    const xds = decoded.static_resources.clusters[0]
    assert.equal(xds.type, 'STATIC')
    assert.equal(xds.connect_timeout.seconds, '1')
    assert.equal(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 15012)
    // ADS is gRPC: the static cluster must speak HTTP/2.
    assert.ok(xds.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].value.length > 0, 'HTTP/2 options on the ADS cluster')
    assert.equal((decoded.static_resources.secrets ?? []).length, certDir ? 2 : 0)
    assert.equal(decoded.node.metadata.fields.MESHWORK_ENDPOINTS.stringValue, certDir ? 'inbound' : 'app')
  }
})

test('the strict proto3 JSON check names a misspelt field, a bad duration and an unknown enum by path', () => {
  const doc = renderEnvoyBootstrap({ xdsAddress: '127.0.0.1:15012', service: 'productpage' }) as any
  doc.dynamic_resources.lds_confg = doc.dynamic_resources.lds_config
  doc.static_resources.clusters[0].connect_timeout = '1 second'
  doc.dynamic_resources.ads_config.api_type = 'GRPCX'
  const { problems } = fromProto3Json(Bootstrap(), doc)
  assert.deepEqual(problems.map(p => p.path).sort(), ['dynamic_resources.ads_config.api_type', 'dynamic_resources.lds_confg', 'static_resources.clusters[0].connect_timeout'])
})

test('the gRPC bootstrap is accepted by grpc-js-xds itself (A27 format, A29 file_watcher provider)', () => {
  const { validateBootstrapConfig } = require('@grpc/grpc-js-xds/build/src/xds-bootstrap.js')
  const plain = validateBootstrapConfig(renderGrpcBootstrap({ xdsAddress: '127.0.0.1:15012', service: 'productpage' }))
  assert.equal(plain.xdsServers[0].server_uri, '127.0.0.1:15012')
  assert.equal(plain.node.metadata.fields.MESHWORK_ENDPOINTS.stringValue, 'app')
  const secure = validateBootstrapConfig(renderGrpcBootstrap({ xdsAddress: '127.0.0.1:15012', service: 'productpage', certDir: '/certs' }))
  assert.equal(secure.certificateProviders.meshwork.pluginName, 'file_watcher')
  assert.equal(JSON.stringify(secure.certificateProviders.meshwork.config).includes('/certs/ca.pem'), true)
  assert.equal(secure.node.metadata.fields.MESHWORK_ENDPOINTS.stringValue, 'inbound')
})
