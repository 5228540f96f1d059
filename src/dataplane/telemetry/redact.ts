/**
 * Header values that never leave the proxy through telemetry (`/tap`, the access log, spans): credentials.
 * `authorization`, `proxy-authorization`, `cookie` and `set-cookie` always; MeshConfig
 * `telemetry.redactHeaders` adds more (e.g. `x-api-key`). Their values are shown as `[redacted]`, so a
 * reader still sees that the header was there.
 */
export const ALWAYS_REDACTED: readonly string[] = Object.freeze(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

export const REDACTED = '[redacted]'

/** The set of lower-case header names to redact: the fixed ones plus the MeshConfig's. */
export function redactionSet (extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([...ALWAYS_REDACTED, ...extra.map(h => h.toLowerCase())])
}

/**
 * The headers of a flat `[name, value, name, value…]` list (names lower-case) as an object, with
 * redacted values. Repeated headers are joined with `, ` (as one field, RFC 9110 §5.3).
 *
 * @example headersForTelemetry(['authorization', 'Bearer x', 'accept', '*\/*'], redactionSet()) // { authorization: '[redacted]', accept: '*\/*' }
 */
export function headersForTelemetry (headers: readonly string[], redact: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase()
    const value = redact.has(name) ? REDACTED : headers[i + 1]
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`
  }
  return out
}

/** One header's value for telemetry (first occurrence), redacted when it must be; undefined when absent. */
export function headerForTelemetry (headers: readonly string[], name: string, redact: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) return redact.has(name) ? REDACTED : headers[i + 1]
  }
  return undefined
}
