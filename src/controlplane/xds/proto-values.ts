/**
 * Small builders for the well-known protobuf values the encoders write (field names as in the protos).
 * Durations are checked against google.protobuf.Duration's range here, once, so no encoder can send one
 * Envoy would reject.
 */

/** google.protobuf.Duration from milliseconds (0 ≤ ms ≤ 315,576,000,000 s, the proto's range). */
export function duration (ms: number): { seconds: number, nanos: number } {
  if (!Number.isFinite(ms) || ms < 0 || ms > 315_576_000_000_000) throw new RangeError(`duration out of range: ${ms} ms`)
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) }
}

/** google.protobuf.UInt32Value */
export function u32 (value: number): { value: number } {
  return { value: Math.max(0, Math.min(UINT32_MAX, Math.round(value))) }
}

export const UINT32_MAX = 0xFFFF_FFFF

/** envoy.type.v3.FractionalPercent from a percentage with up to 4 decimals (per million). */
export function fractionalPercent (percent: number): { numerator: number, denominator: 'MILLION' } {
  return { numerator: Math.round(Math.max(0, Math.min(100, percent)) * 10_000), denominator: 'MILLION' }
}

/** Escape a literal for an RE2 regular expression (Envoy's and gRPC's `safe_regex`). */
export function escapeRe2 (literal: string): string {
  return literal.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')
}

/** A config source that says "over the same ADS stream" (what Envoy and gRPC clients expect from ADS). */
export const ADS_SOURCE = Object.freeze({ ads: {}, resource_api_version: 'V3' })
