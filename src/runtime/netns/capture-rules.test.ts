import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderCaptureRules } from './capture-rules.ts'

test('inbound to the app ports goes to the sidecar inbound, outbound TCP to the outbound listener, uid 1337 exempt', () => {
  const text = renderCaptureRules({ appPorts: [9080] })
  assert.match(text, /iifname != "lo" tcp dport 9080 counter redirect to :15006/)
  assert.match(text, /meta skuid 1337 counter return/)
  assert.match(text, /ip daddr 127\.0\.0\.0\/8 return/)
  assert.match(text, /tcp dport 53 return/)
  assert.match(text, /meta l4proto tcp counter redirect to :15001/)
  // the sidecar's own calls are exempt before anything is redirected
  assert.ok(text.indexOf('meta skuid 1337 counter return') < text.indexOf('redirect to :15001'))
  // IPv6 TCP is refused rather than let around the sidecar
  assert.match(text, /table ip6 meshwork[\s\S]*reject with tcp reset/)
  // the file replaces an earlier version atomically
  assert.match(text, /^add table ip meshwork\ndelete table ip meshwork$/m)
})

test('a gateway pod (no app ports) captures outbound only; excluded ports and ranges are returned early', () => {
  const text = renderCaptureRules({ appPorts: [], proxyUid: 2000, excludeOutboundPorts: [5432, 53], excludeOutboundCidrs: ['10.96.0.1/32', '10.0.0.0/8'], inboundPort: 16006, outboundPort: 16001 })
  assert.doesNotMatch(text, /redirect to :16006/)
  assert.match(text, /meta skuid 2000 counter return/)
  assert.match(text, /tcp dport \{ 53, 5432 \} return/)
  assert.match(text, /ip daddr \{ 10\.96\.0\.1\/32, 10\.0\.0\.0\/8 \} return/)
  assert.match(text, /redirect to :16001/)
  assert.doesNotMatch(text, /chain input/)
})

test('bad options are refused with the reason', () => {
  assert.throws(() => renderCaptureRules({ appPorts: [0] }), /app port: not a port: 0/)
  assert.throws(() => renderCaptureRules({ appPorts: [15006] }), /app port 15006 is a port of the sidecar/)
  assert.throws(() => renderCaptureRules({ appPorts: [80], proxyUid: 0 }), /proxy uid/)
  assert.throws(() => renderCaptureRules({ appPorts: [80], excludeOutboundCidrs: ['10.0.0.0/33'] }), /not an IPv4 CIDR/)
  assert.throws(() => renderCaptureRules({ appPorts: [80], excludeOutboundCidrs: ['x; flush ruleset'] }), /not an IPv4 CIDR/)
})
