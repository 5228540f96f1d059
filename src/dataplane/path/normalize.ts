/**
 * Request path normalization, done once before routing and authorization; the normalized path is also
 * what goes upstream, so policy and app always see the same path (the class of bypasses of Istio's
 * ISTIO-SECURITY-2021-005 / CVE-2021-31920 and ISTIO-SECURITY-2021-008 / CVE-2021-39156).
 *
 * Modes (Istio MeshConfig `pathNormalization.normalization`):
 *   NONE                      nothing is changed (fragments and NUL are still refused)
 *   BASE                      RFC 3986 §6.2.2: decode percent-encoded unreserved characters, upper-case
 *                             the hex of the others, `\` → `/`, remove `.` and `..` segments (§5.2.4)
 *   MERGE_SLASHES             BASE, then `//…` → `/`
 *   DECODE_AND_MERGE_SLASHES  first decode `%2F` / `%5C` (→ `/`), then MERGE_SLASHES (Meshwork's default)
 * Always refused (400 MESH_ERR_PATH_INVALID): a `#` (a fragment never belongs in a request target,
 * RFC 9112 §3.2), a NUL (raw or `%00`), and malformed percent-encoding (`%` not followed by two hex digits).
 */
export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES'

export const PATH_NORMALIZATIONS: readonly PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']

/** Why a path was refused. */
export interface PathRejection { readonly reject: string }

const C_PERCENT = 37
const C_SLASH = 47
const C_DOT = 46
const C_BACKSLASH = 92
const C_HASH = 35
const C_QUESTION = 63

/**
 * Perf: the fast check. Most paths contain none of `%`, `//`, `/.`, `\`, `#`, NUL and are returned as
 * they are without allocating (one scan of the target, no regex).
 */
export function needsNormalization (target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === C_PERCENT || c === C_BACKSLASH || c === C_HASH || c === 0) return true
    if (c === C_SLASH) {
      const n = target.charCodeAt(i + 1)
      if (n === C_SLASH || n === C_DOT) return true
    }
    if (c === C_QUESTION) return hasHashOrNul(target, i + 1)
  }
  return false
}

function hasHashOrNul (s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === C_HASH || c === 0) return true
  }
  return false
}

function hexValue (c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 65 && c <= 70) return c - 55
  if (c >= 97 && c <= 102) return c - 87
  return -1
}

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved (c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126
}

const HEX = '0123456789ABCDEF'

/** RFC 3986 §5.2.4 remove_dot_segments, on a path that starts with `/`. */
export function removeDotSegments (path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  // segments[0] is '' (the leading slash); a trailing '.' or '..' leaves a trailing slash
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]
    if (s === '.') { if (i === segments.length - 1) out.push(''); continue }
    if (s === '..') {
      out.pop()
      if (i === segments.length - 1) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}

/**
 * Normalizes an origin-form request target (path and optional `?query`; the query is kept as it is,
 * but checked for `#` and NUL). Returns the target unchanged (same string) when nothing needed doing.
 *
 * @example normalizeTarget('/a/%2e%2e//admin?x=1', 'MERGE_SLASHES') // → '/admin?x=1'
 */
export function normalizeTarget (target: string, mode: PathNormalization): string | PathRejection {
  if (!needsNormalization(target)) return target
  if (hasHashOrNul(target, 0)) return { reject: target.includes('#') ? 'the request target has a fragment (#)' : 'the request target contains NUL' }
  const q = target.indexOf('?')
  const path = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q)
  if (path.charCodeAt(0) !== C_SLASH) return target // '*' (OPTIONS) and other non-path forms
  // percent-decoding: validated in every mode (a NUL hidden as %00 is refused even with NONE)
  let decoded = ''
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c !== C_PERCENT) {
      decoded += c === C_BACKSLASH && mode !== 'NONE' ? '/' : path[i]
      continue
    }
    const hi = hexValue(path.charCodeAt(i + 1))
    const lo = hexValue(path.charCodeAt(i + 2))
    if (hi < 0 || lo < 0) return { reject: `malformed percent-encoding at offset ${i} of the path` }
    const byte = hi * 16 + lo
    if (byte === 0) return { reject: 'the request target contains NUL (%00)' }
    i += 2
    if (mode === 'NONE') { decoded += path.slice(i - 2, i + 1); continue }
    if (isUnreserved(byte)) decoded += String.fromCharCode(byte)
    else if ((byte === C_SLASH || byte === C_BACKSLASH) && mode === 'DECODE_AND_MERGE_SLASHES') decoded += '/'
    else decoded += `%${HEX[hi]}${HEX[lo]}`
  }
  if (mode === 'NONE') return target
  let p = decoded
  const merge = mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES'
  if (merge) p = mergeSlashes(p)
  p = removeDotSegments(p)
  if (merge) p = mergeSlashes(p)
  const out = p + query
  return out === target ? target : out
}

function mergeSlashes (p: string): string {
  return p.includes('//') ? p.replace(/\/{2,}/g, '/') : p
}
