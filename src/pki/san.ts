/**
 * URI SANs in Node's `subjectaltname` string (`'DNS:a, URI:spiffe://…'`). Node quotes values that contain
 * separators as JSON strings (CVE-2021-44532 fix), e.g. `URI:"spiffe://x/a,b"`.
 */
export function urisOfSubjectAltName (san: string | undefined): string[] {
  const out: string[] = []
  if (san === undefined || san === '') return out
  let i = 0
  while (i < san.length) {
    const colon = san.indexOf(':', i)
    if (colon === -1) break
    const type = san.slice(i, colon)
    let value: string | undefined
    let next: number
    if (san.charCodeAt(colon + 1) === 34 /* " */) {
      // JSON-quoted value: the closing quote is the first one not escaped by a backslash.
      let j = colon + 2
      while (j < san.length && !(san.charCodeAt(j) === 34 && san.charCodeAt(j - 1) !== 92)) j++
      try { value = JSON.parse(san.slice(colon + 1, j + 1)) } catch { value = undefined }
      next = j + 1
    } else {
      const j = san.indexOf(', ', colon + 1)
      next = j === -1 ? san.length : j
      value = san.slice(colon + 1, next)
    }
    if (type === 'URI' && value !== undefined) out.push(value)
    i = san.startsWith(', ', next) ? next + 2 : next
  }
  return out
}
